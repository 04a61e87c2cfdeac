// softmax_backward, vec4 form for cols % 4 = 0 (fewer loads: a CPU-emulated adapter such as llvmpipe pays per
// load, not per byte): dinp[r, :] = out[r, :] * (dout[r, :] - sum_j dout[r, j] * out[r, j]) (written, =).
// Entry `main` (software adapters): one invocation owns one row (two passes). Entry `lanes` (GPUs): LANES
// neighbouring invocations share a row, lane l taking its vec4s l, l + LANES, ...; the row's dot product adds
// the lanes' shares by a fixed tree in workgroup memory (deterministic, in another order than `main`'s).
//   dinp, dout, out (rows, cols / 4) vec4s.
// Reference: src/reference/softmax.ts softmaxBackward.

override WG: u32 = 64;
override LANES: u32 = 32u;  // entry `lanes`: invocations per row, a power of two dividing WG

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<vec4<f32>>;  // (rows, cols / 4)
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;        // (rows, cols / 4)
@group(0) @binding(2) var<storage, read> out: array<vec4<f32>>;         // (rows, cols / 4)
@group(0) @binding(3) var<uniform> p: Params;

// sum of dout * out over vec4s first, first + step, ... of the row from vec4 `base` (C4 vec4s).
fn dot_share(base: u32, C4: u32, first: u32, step: u32) -> f32 {
  var acc = vec4<f32>(0.0);
  for (var j = first; j < C4; j += step) { acc += dout[base + j] * out[base + j]; }
  return (acc.x + acc.y) + (acc.z + acc.w);
}

// dinp over the same vec4s, given the row's dot product d.
fn write_dinp(base: u32, C4: u32, first: u32, step: u32, d: f32) {
  for (var j = first; j < C4; j += step) {
    let e = base + j;
    dinp[e] = out[e] * (dout[e] - d);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let C4 = p.cols / 4u;
  let base = r * C4;
  write_dinp(base, C4, 0u, 1u, dot_share(base, C4, 0u, 1u));
}

@compute @workgroup_size(WG)
fn lanes(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let r = lanes_row(wid, lid, nwg);
  let C4 = p.cols / 4u;
  let base = min(r, p.rows - 1u) * C4;  // rows past the end read the last row and store nothing
  let d = lanes_sum(lid, dot_share(base, C4, lid % LANES, LANES));
  if (r < p.rows) { write_dinp(base, C4, lid % LANES, LANES, d); }
}
