// attention_probs_backward_vec4: attention_probs_backward.wgsl (same formula, Params and bindings) with vec4
// loads and stores, for T % 4 = 0 and every offset a multiple of 4 (llvmpipe issues each storage access per
// lane). The row's dot product is summed four keys at a time, in another order than the scalar kernel's.
// Reference: src/reference/attention.ts attentionBackward.

override WG: u32 = 64;

struct Params {
  rows: u32, T: u32, NH: u32, has_alpha: u32,
  write_dprobs: u32, p_drop: f32, inv_keep: f32, layer: u32,
  slot: u32, row0: u32, b0: u32, wp_off: u32,
  ws_off: u32, dp_off: u32, probs_off: u32, alpha_off: u32,
}

@group(0) @binding(0) var<storage, read_write> work_p: array<vec4<f32>>;  // (nb, NH, T, T): dP' in, P' out
@group(0) @binding(1) var<storage, read_write> work_s: array<vec4<f32>>;  // (nb, NH, T, T): dS out
@group(0) @binding(2) var<storage, read_write> dprobs: array<vec4<f32>>;  // (nb, NH, T, T) or a dummy
@group(0) @binding(3) var<storage, read> probs: array<vec4<f32>>;         // (nb, NH, T, T): A
@group(0) @binding(4) var<storage, read> alpha: array<f32>;               // (nb) or a dummy
@group(0) @binding(5) var<storage, read> rng: array<u32>;                 // [seed, step]
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lrow = gid.x + gid.y * nwg.x * WG;
  if (lrow >= p.rows) { return; }
  let row = p.row0 + lrow;
  let b = row / (p.NH * p.T);
  let base = row * p.T;  // global element index of the row (the random draws)
  let le0 = lrow * p.T;  // local element index of the row
  let n4 = p.T / 4u;
  let wp = (p.wp_off + le0) / 4u;
  let ws = (p.ws_off + le0) / 4u;
  let dp = (p.dp_off + le0) / 4u;
  let pr = (p.probs_off + le0) / 4u;
  var al = 1.0;
  if (p.has_alpha != 0u) { al = alpha[p.alpha_off + b - p.b0]; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, 1u, p.slot));
  let kp = vec4<f32>(p.p_drop);
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < n4; j++) {
    let g = work_p[wp + j] * select(vec4<f32>(0.0), vec4<f32>(p.inv_keep), rand_at4(key, base + 4u * j) >= kp);
    if (p.write_dprobs != 0u) { dprobs[dp + j] = g; }
    acc = fma(g, probs[pr + j], acc);
  }
  let dot = al * ((acc.x + acc.y) + (acc.z + acc.w));
  for (var j = 0u; j < n4; j++) {
    let w = select(vec4<f32>(0.0), vec4<f32>(p.inv_keep), rand_at4(key, base + 4u * j) >= kp);
    let a = probs[pr + j];
    work_s[ws + j] = a * (al * work_p[wp + j] * w - dot);
    work_p[wp + j] = al * a * w;
  }
}
