// attention_probs_backward: per (b, h, i) row, from dP' = dout V^T (in work[0, n), written by attention_matmul):
//   dprobs = dP' * keep / (1 - p_drop)          (= dLoss/d(alpha * A), written when write_dprobs = 1)
//   dA = alpha[b] * dprobs;  dS = A * (dA - sum_j dA * A)  -> work_s (the scratch's second half)
//   P' = alpha[b] * A * keep / (1 - p_drop)                -> work_p, over dP' (for dV = P'^T dout)
// keep is redrawn from the rng buffer exactly as attention_probs_forward.wgsl drew it (never stored).
// One invocation owns one row (two passes). Outputs are written (=).
// A dispatch covers rows row0 .. row0 + rows - 1 (examples from b0 on; several when the tensors exceed the
// binding limit, see src/kernels/attention_chunks.ts): each binding holds those examples from element `*_off`
// on (work_p and work_s are both the whole scratch when nothing is split), the random draws use global indices.
// Reference: src/reference/attention.ts attentionBackward.

override WG: u32 = 64;

struct Params {
  rows: u32, T: u32, NH: u32, has_alpha: u32,
  write_dprobs: u32, p_drop: f32, inv_keep: f32, layer: u32,
  slot: u32, row0: u32, b0: u32, wp_off: u32,
  ws_off: u32, dp_off: u32, probs_off: u32, alpha_off: u32,
}

@group(0) @binding(0) var<storage, read_write> work_p: array<f32>;  // (nb, NH, T, T): dP' in, P' out
@group(0) @binding(1) var<storage, read_write> work_s: array<f32>;  // (nb, NH, T, T): dS out
@group(0) @binding(2) var<storage, read_write> dprobs: array<f32>;  // (nb, NH, T, T) or a dummy
@group(0) @binding(3) var<storage, read> probs: array<f32>;         // (nb, NH, T, T): A
@group(0) @binding(4) var<storage, read> alpha: array<f32>;         // (nb) or a dummy
@group(0) @binding(5) var<storage, read> rng: array<u32>;           // [seed, step]
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lrow = gid.x + gid.y * nwg.x * WG;
  if (lrow >= p.rows) { return; }
  let row = p.row0 + lrow;
  let b = row / (p.NH * p.T);
  let base = row * p.T;  // global element index of the row (the random draws)
  let le0 = lrow * p.T;  // local element index of the row
  var al = 1.0;
  if (p.has_alpha != 0u) { al = alpha[p.alpha_off + b - p.b0]; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, 1u, p.slot));
  var dot = 0.0;
  for (var j = 0u; j < p.T; j++) {
    let w = select(0.0, p.inv_keep, rand_at(key, base + j) >= p.p_drop);
    let g = work_p[p.wp_off + le0 + j] * w;
    if (p.write_dprobs != 0u) { dprobs[p.dp_off + le0 + j] = g; }
    dot += al * g * probs[p.probs_off + le0 + j];
  }
  for (var j = 0u; j < p.T; j++) {
    let w = select(0.0, p.inv_keep, rand_at(key, base + j) >= p.p_drop);
    let a = probs[p.probs_off + le0 + j];
    let wp = p.wp_off + le0 + j;
    work_s[p.ws_off + le0 + j] = a * (al * work_p[wp] * w - dot);
    work_p[wp] = al * a * w;
  }
}
