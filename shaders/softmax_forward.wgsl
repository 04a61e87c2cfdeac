// softmax_forward: out[r, :] = softmax(inp[r, :]) over `cols` values, numerically stable (max subtracted).
// One invocation owns one row (two passes: online max and sum, then write). Written (=).
// Reference: src/reference/softmax.ts softmaxForward.

override WG: u32 = 64;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (rows, cols)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (rows, cols)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  // Online max and sum (one read pass), then one read-write pass.
  var mx = inp[base];
  var sum = 1.0;
  for (var j = 1u; j < p.cols; j++) {
    let v = inp[base + j];
    let nmx = max(mx, v);
    sum = sum * exp(mx - nmx) + exp(v - nmx);
    mx = nmx;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < p.cols; j++) { out[base + j] = exp(inp[base + j] - mx) * inv; }
}
