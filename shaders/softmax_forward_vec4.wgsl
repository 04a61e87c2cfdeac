// softmax_forward, vec4 form for cols % 4 = 0 (fewer loads: a CPU-emulated adapter such as llvmpipe pays per
// load, not per byte): out[r, :] = softmax(inp[r, :]), numerically stable (max subtracted). Written (=).
// One invocation owns one row: an online max and sum over vec4s (the sum is rescaled only when the maximum
// grows), then one read-write pass.
//   inp, out (rows, cols / 4) vec4s.
// Reference: src/reference/softmax.ts softmaxForward.

override WG: u32 = 64;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (rows, cols / 4)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;        // (rows, cols / 4)
@group(0) @binding(2) var<uniform> p: Params;

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let C4 = p.cols / 4u;
  let base = r * C4;
  let one = vec4<f32>(1.0);
  let x0 = inp[base];
  var mx = max4(x0);
  var sum = dot(exp(x0 - mx), one);
  for (var j = 1u; j < C4; j++) {
    let x = inp[base + j];
    let nmx = max(mx, max4(x));
    if (nmx > mx) {
      sum *= exp(mx - nmx);
      mx = nmx;
    }
    sum += dot(exp(x - mx), one);
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < C4; j++) { out[base + j] = exp(inp[base + j] - mx) * inv; }
}
