// softmax_backward, vec4 form for cols % 4 = 0 (fewer loads: a CPU-emulated adapter such as llvmpipe pays per
// load, not per byte): dinp[r, :] = out[r, :] * (dout[r, :] - sum_j dout[r, j] * out[r, j]) (written, =).
// One invocation owns one row (two passes).
//   dinp, dout, out (rows, cols / 4) vec4s.
// Reference: src/reference/softmax.ts softmaxBackward.

override WG: u32 = 64;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<vec4<f32>>;  // (rows, cols / 4)
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;        // (rows, cols / 4)
@group(0) @binding(2) var<storage, read> out: array<vec4<f32>>;         // (rows, cols / 4)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let C4 = p.cols / 4u;
  let base = r * C4;
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < C4; j++) { acc += dout[base + j] * out[base + j]; }
  let d = (acc.x + acc.y) + (acc.z + acc.w);
  for (var j = 0u; j < C4; j++) {
    let e = base + j;
    dinp[e] = out[e] * (dout[e] - d);
  }
}
