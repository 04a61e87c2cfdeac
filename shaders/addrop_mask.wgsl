// addrop_mask: AD-DROP's additive attention mask from attribution scores (B, NH, T, T) and per-row thresholds
// (select_rank.wgsl). For element (b, h, i, j) with len = min(lengths[b], T):
//   candidate = i < len && j < len && (high: score >= thr[b, h, i]; low: score <= thr[b, h, i])
//   mask = DROP if candidate && rand_uniform(seed, stream_id(step, layer, 2, 0), e) < q, else 0
// where e = ((b * NH + h) * T + i) * T + j is the element's global index and DROP = -1e9 (exp(-1e9 + x - max)
// is exactly 0 in f32 for any kept score x, and -1e9 + HF's f32-min padding mask stays finite). Padding keys,
// padding query rows and non-candidates get 0. One invocation owns one element of this binding range's rows
// (the grid may be 2D); entry `main4` (T % 4 = 0): one invocation owns four consecutive elements of a row, read
// and written as vec4s, with the same draws. The mask is written (=). Reference: src/reference/addrop_mask.ts
// addropMask.

override WG: u32 = 256;
const DROP: f32 = -1.0e9;

struct Params { T: u32, NH: u32, rows: u32, first: u32, q: f32, low: u32, layer: u32 }

@group(0) @binding(0) var<storage, read_write> mask: array<f32>;  // (rows, T) of (B, NH, T, T)
@group(0) @binding(1) var<storage, read> scores: array<f32>;      // (rows, T) of (B, NH, T, T)
@group(0) @binding(0) var<storage, read_write> mask4: array<vec4<f32>>;  // mask as vec4s, for main4
@group(0) @binding(1) var<storage, read> scores4: array<vec4<f32>>;      // scores as vec4s, for main4
@group(0) @binding(2) var<storage, read> thr: array<f32>;         // (B * NH * T)
@group(0) @binding(3) var<storage, read> lengths: array<u32>;     // (B)
@group(0) @binding(4) var<storage, read> rng: array<u32>;         // (2) [seed, step]
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.T) { return; }
  let r = e / p.T;
  let j = e - r * p.T;
  let g = p.first + r;
  let i = g % p.T;
  let len = min(lengths[g / (p.NH * p.T)], p.T);
  var out = 0.0;
  if (i < len && j < len) {
    let s = scores[e];
    let t = thr[g];
    let candidate = select(s >= t, s <= t, p.low != 0u);
    if (candidate) {
      let stream = stream_id(rng[1], p.layer, 2u, 0u);
      if (rand_uniform(rng[0], stream, g * p.T + j) < p.q) { out = DROP; }
    }
  }
  mask[e] = out;
}

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e4 = gid.x + gid.y * nwg.x * WG;
  if (e4 >= p.rows * p.T / 4u) { return; }
  let r = (4u * e4) / p.T;
  let j = 4u * e4 - r * p.T;
  let g = p.first + r;
  let i = g % p.T;
  let len = min(lengths[g / (p.NH * p.T)], p.T);
  var out = vec4<f32>(0.0);
  if (i < len && j < len) {
    let s = scores4[e4];
    let t = vec4<f32>(thr[g]);
    let real = vec4<u32>(j) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(len);
    let candidate = real & select(s >= t, s <= t, p.low != 0u);
    let key = stream_key(rng[0], stream_id(rng[1], p.layer, 2u, 0u));
    let drop = candidate & (rand_at4(key, g * p.T + j) < vec4<f32>(p.q));
    out = select(vec4<f32>(0.0), vec4<f32>(DROP), drop);
  }
  mask4[e4] = out;
}
