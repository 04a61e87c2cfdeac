// attention_decode: self- or cross-attention of ONE query per (example, head) over Tk keys, for generation with
// a key/value cache: out[b, h*HS + d] = sum_j p_j v[b, j, h*HS + d], p = softmax_j(q_b . k_bj * scale + mask[b, j]).
// A key whose mask is <= -1e30 gets exactly zero weight (as the main attention kernels); an example with no such
// key writes zeros. One invocation owns one (example, head) and walks the keys twice (max, then the weighted
// sum). Layouts: q element d of head h of example b at q[b * qStride + qOffset + h * HS + d]; key j of example b
// at kv[b * kvBatch + j * kvStride + kOffset + h * HS + d], its value at the same place + vOffset - kOffset;
// mask[b * maskStride + j]; out (B, NH * HS).
// Reference: src/reference/attention_decode.ts attentionDecode.

override WG: u32 = 64;
const MAX_HS: u32 = 256u;

struct Params {
  B: u32,
  NH: u32,
  HS: u32,
  Tk: u32,
  qStride: u32,
  qOffset: u32,
  kvBatch: u32,
  kvStride: u32,
  kOffset: u32,
  vOffset: u32,
  maskStride: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (B, NH * HS)
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kv: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn score(b: u32, h: u32, j: u32) -> f32 {
  let qb = b * p.qStride + p.qOffset + h * p.HS;
  let kb = b * p.kvBatch + j * p.kvStride + p.kOffset + h * p.HS;
  var s = 0.0;
  for (var d = 0u; d < p.HS; d++) { s = fma(q[qb + d], kv[kb + d], s); }
  return s * p.scale + mask[b * p.maskStride + j];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.B * p.NH) { return; }
  let b = i / p.NH;
  let h = i % p.NH;
  let ob = b * p.NH * p.HS + h * p.HS;
  var m = -3.4028234663852886e38;
  var any = false;
  for (var j = 0u; j < p.Tk; j++) {
    if (mask[b * p.maskStride + j] <= -1e30) { continue; }
    m = max(m, score(b, h, j));
    any = true;
  }
  var acc: array<f32, MAX_HS>;
  for (var d = 0u; d < p.HS; d++) { acc[d] = 0.0; }
  var sum = 0.0;
  if (any) {
    for (var j = 0u; j < p.Tk; j++) {
      if (mask[b * p.maskStride + j] <= -1e30) { continue; }
      let e = exp(score(b, h, j) - m);
      sum += e;
      let vb = b * p.kvBatch + j * p.kvStride + p.vOffset + h * p.HS;
      for (var d = 0u; d < p.HS; d++) { acc[d] = fma(e, kv[vb + d], acc[d]); }
    }
  }
  let inv = select(0.0, 1.0 / sum, any);
  for (var d = 0u; d < p.HS; d++) { out[ob + d] = acc[d] * inv; }
}
