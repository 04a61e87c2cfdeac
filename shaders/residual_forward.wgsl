// residual_forward: out = inp1 + inp2, elementwise over N floats (the residual connection).
// One invocation owns one element; the grid may be 2D when N exceeds 65535 workgroups.
// Reference: src/reference/residual.ts residualForward.

override WG: u32 = 256;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> inp1: array<f32>;       // (N)
@group(0) @binding(2) var<storage, read> inp2: array<f32>;       // (N)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  out[i] = inp1[i] + inp2[i];
}
