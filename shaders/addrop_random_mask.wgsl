// addrop_random_mask: the `random` baseline of AD-DROP (no scores): for element (b, h, i, j) of (B, NH, T, T)
// with len = min(lengths[b], T), mask = DROP if i < len && j < len && rand_uniform(seed,
// stream_id(step, layer, 3, 0), e) < prob (prob = p * q), else 0, where e is the element's global index and
// DROP = -1e9 as in addrop_mask.wgsl. One invocation owns one element of this binding range's rows; the mask
// is written (=). Reference: src/reference/addrop_mask.ts addropRandomMask.

override WG: u32 = 256;
const DROP: f32 = -1.0e9;

struct Params { T: u32, NH: u32, rows: u32, first: u32, prob: f32, layer: u32 }

@group(0) @binding(0) var<storage, read_write> mask: array<f32>;  // (rows, T) of (B, NH, T, T)
@group(0) @binding(1) var<storage, read> lengths: array<u32>;     // (B)
@group(0) @binding(2) var<storage, read> rng: array<u32>;         // (2) [seed, step]
@group(0) @binding(3) var<uniform> p: Params;

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
    let stream = stream_id(rng[1], p.layer, 3u, 0u);
    if (rand_uniform(rng[0], stream, g * p.T + j) < p.prob) { out = DROP; }
  }
  mask[e] = out;
}
