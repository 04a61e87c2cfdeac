// attention_probs_backward: per (b, h, i) row, from dP' = dout V^T (in work[0, n), written by attention_matmul):
//   dprobs = dP' * keep / (1 - p_drop)          (= dLoss/d(alpha * A), written when write_dprobs = 1)
//   dA = alpha[b] * dprobs;  dS = A * (dA - sum_j dA * A)  -> work[n, 2n)
//   P' = alpha[b] * A * keep / (1 - p_drop)                -> work[0, n), over dP' (for dV = P'^T dout)
// keep is redrawn from the rng buffer exactly as attention_probs_forward.wgsl drew it (never stored).
// One invocation owns one row (two passes). Outputs are written (=).
// Reference: src/reference/attention.ts attentionBackward.

override WG: u32 = 64;

struct Params {
  rows: u32, T: u32, NH: u32, n: u32,
  has_alpha: u32, write_dprobs: u32, p_drop: f32, inv_keep: f32,
  layer: u32, slot: u32,
}

@group(0) @binding(0) var<storage, read_write> work: array<f32>;    // (2, B, NH, T, T): [dP' -> P', dS]
@group(0) @binding(1) var<storage, read_write> dprobs: array<f32>;  // (B, NH, T, T) or a dummy
@group(0) @binding(2) var<storage, read> probs: array<f32>;         // (B, NH, T, T): A
@group(0) @binding(3) var<storage, read> alpha: array<f32>;         // (B) or a dummy
@group(0) @binding(4) var<storage, read> rng: array<u32>;           // [seed, step]
@group(0) @binding(5) var<uniform> p: Params;

fn pcg_hash(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
// Uniform in [0, 1) with 24 bits: element `i` of stream `stream` under `seed`.
fn rand_uniform(seed: u32, stream: u32, i: u32) -> f32 {
  return f32(pcg_hash(i ^ pcg_hash(stream ^ pcg_hash(seed))) >> 8u) * (1.0 / 16777216.0);
}
// Stream of (step, layer, purpose, slot); equals streamId() below.
fn stream_id(step: u32, layer: u32, purpose: u32, slot: u32) -> u32 {
  return pcg_hash(pcg_hash(step) ^ ((layer + 1u) * 0x9e3779b1u) ^ (purpose << 24u) ^ slot);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.rows) { return; }
  let b = row / (p.NH * p.T);
  let base = row * p.T;
  var al = 1.0;
  if (p.has_alpha != 0u) { al = alpha[b]; }
  let stream = stream_id(rng[1], p.layer, 1u, p.slot);
  let seed = rng[0];
  var dot = 0.0;
  for (var j = 0u; j < p.T; j++) {
    let e = base + j;
    let w = select(0.0, p.inv_keep, rand_uniform(seed, stream, e) >= p.p_drop);
    let g = work[e] * w;
    if (p.write_dprobs != 0u) { dprobs[e] = g; }
    dot += al * g * probs[e];
  }
  for (var j = 0u; j < p.T; j++) {
    let e = base + j;
    let w = select(0.0, p.inv_keep, rand_uniform(seed, stream, e) >= p.p_drop);
    let a = probs[e];
    work[p.n + e] = a * (al * work[e] * w - dot);
    work[e] = al * a * w;
  }
}
