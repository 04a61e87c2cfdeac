// dropout_forward: out = keep ? inp / (1 - p) : 0 with keep = rand_uniform(seed, stream, i) >= p, the counter
// generator of src/reference/random.ts on the stream (step, layer, purpose, slot); rng = [seed, step]. With
// p = 0 every element is kept and scaled by exactly 1 (a copy). Activations are written (=).
// One invocation owns one element; the grid may be 2D when N exceeds 65535 workgroups.
// Reference: src/reference/dropout.ts dropoutForward.

override WG: u32 = 256;

struct Params { N: u32, layer: u32, purpose: u32, slot: u32, p: f32, scale: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (N)
@group(0) @binding(0) var<storage, read_write> out4: array<vec4<f32>>;  // out as vec4s, for main4
@group(0) @binding(1) var<storage, read> inp4: array<vec4<f32>>;  // inp as vec4s, for main4
@group(0) @binding(2) var<storage, read> rng: array<u32>;        // [seed, step]
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  let stream = stream_id(rng[1], p.layer, p.purpose, p.slot);
  let keep = rand_uniform(rng[0], stream, i) >= p.p;
  out[i] = select(0.0, inp[i] * p.scale, keep);
}

// Entry `main4` (N % 4 = 0): four elements per invocation as vec4s, the same draws (per-stream hash hoisted).
@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N / 4u) { return; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, p.purpose, p.slot));
  let keep = rand_at4(key, 4u * i) >= vec4<f32>(p.p);
  out4[i] = select(vec4<f32>(0.0), inp4[i] * p.scale, keep);
}
