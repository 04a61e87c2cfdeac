// accumulate: element-wise updates of `out` from `x` over N floats, the pieces of integrated gradients' sum:
//   MODE 0 (set):      out = s * x
//   MODE 1 (add):      out = out + s * x      (the running sum of the m gradients, accumulate rule +=)
//   MODE 2 (multiply): out = s * out * x      (the final A * sum / m)
// One invocation owns one element. Reference: src/reference/accumulate.ts.

override WG: u32 = 256;
override MODE: u32 = 0u;

struct Params { N: u32, s: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (N)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  if (MODE == 0u) {
    out[i] = p.s * x[i];
  } else if (MODE == 1u) {
    out[i] = out[i] + p.s * x[i];
  } else {
    out[i] = p.s * out[i] * x[i];
  }
}
