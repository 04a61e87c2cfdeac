// residual_backward: dinp1 += dout, dinp2 += dout (activation gradients accumulate: a residual branch point
// receives gradient from both of its consumers). One invocation owns one element.
// Reference: src/reference/residual.ts residualBackward.

override WG: u32 = 256;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> dinp1: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read_write> dinp2: array<f32>;  // (N)
@group(0) @binding(2) var<storage, read> dout: array<f32>;         // (N)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  let g = dout[i];
  dinp1[i] += g;
  dinp2[i] += g;
}
