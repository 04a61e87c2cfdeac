// copy: out = inp over N vec4s. Used to measure the adapter's memory bandwidth, the yardstick of the
// memory-bound kernels. One invocation owns one vec4.

override WG: u32 = 256;

struct Params { N4: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (N4)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;        // (N4)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N4) { return; }
  out[i] = inp[i];
}
