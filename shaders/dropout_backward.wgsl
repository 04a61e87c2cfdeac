// dropout_backward: dinp = keep ? dout / (1 - p) : 0 (= by default, += when the override ACC is 1), the mask
// regenerated from the same (rng, layer, purpose, slot) as dropout_forward.wgsl: nothing is saved.
// One invocation owns one element; the grid may be 2D when N exceeds 65535 workgroups.
// Reference: src/reference/dropout.ts dropoutBackward.

override WG: u32 = 256;
override ACC: u32 = 0u;

struct Params { N: u32, layer: u32, purpose: u32, slot: u32, p: f32, scale: f32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (N)
@group(0) @binding(0) var<storage, read_write> dinp4: array<vec4<f32>>;  // dinp as vec4s, for main4
@group(0) @binding(1) var<storage, read> dout4: array<vec4<f32>>;  // dout as vec4s, for main4
@group(0) @binding(2) var<storage, read> rng: array<u32>;         // [seed, step]
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  let stream = stream_id(rng[1], p.layer, p.purpose, p.slot);
  let keep = rand_uniform(rng[0], stream, i) >= p.p;
  let v = select(0.0, dout[i] * p.scale, keep);
  if (ACC == 1u) {
    dinp[i] += v;
  } else {
    dinp[i] = v;
  }
}

// Entry `main4` (N % 4 = 0): four elements per invocation as vec4s, the same draws (per-stream hash hoisted).
@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N / 4u) { return; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, p.purpose, p.slot));
  let keep = rand_at4(key, 4u * i) >= vec4<f32>(p.p);
  let v = select(vec4<f32>(0.0), dout4[i] * p.scale, keep);
  if (ACC == 1u) {
    dinp4[i] += v;
  } else {
    dinp4[i] = v;
  }
}
