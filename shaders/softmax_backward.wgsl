// softmax_backward: dinp[r, :] = out[r, :] * (dout[r, :] - sum_j dout[r, j] * out[r, j]) (written, =).
// One invocation owns one row (two passes).
// Reference: src/reference/softmax.ts softmaxBackward.

override WG: u32 = 64;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;  // (rows, cols)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (rows, cols)
@group(0) @binding(2) var<storage, read> out: array<f32>;         // (rows, cols)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var dot = 0.0;
  for (var j = 0u; j < p.cols; j++) { dot += dout[base + j] * out[base + j]; }
  for (var j = 0u; j < p.cols; j++) {
    let e = base + j;
    dinp[e] = out[e] * (dout[e] - dot);
  }
}
