// scale: x *= s over N floats, in place (gradient accumulation divides dlogits by the number of micro-batches).
// One invocation owns one element.
// Reference: src/reference/scale.ts scale.

override WG: u32 = 256;

struct Params { N: u32, s: f32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;  // (N)
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  x[i] = x[i] * p.s;
}
