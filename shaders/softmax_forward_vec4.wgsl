// softmax_forward, vec4 form for cols % 4 = 0 (fewer loads: a CPU-emulated adapter such as llvmpipe pays per
// load, not per byte): out[r, :] = softmax(inp[r, :]), numerically stable (max subtracted). Written (=).
// Entry `main` (software adapters): one invocation owns one row: an online max and sum over vec4s (the sum is
// rescaled only when the maximum grows), then one read-write pass. Entry `lanes` (GPUs): LANES neighbouring
// invocations share a row, lane l taking its vec4s l, l + LANES, ... (consecutive addresses across a warp, where
// one row per invocation puts them a row apart); the lanes' max and sum combine by a fixed tree in workgroup
// memory (deterministic, in another order than `main`'s); rows past the end take part in the barriers only.
//   inp, out (rows, cols / 4) vec4s.
// Reference: src/reference/softmax.ts softmaxForward.

override WG: u32 = 64;
override LANES: u32 = 32u;  // entry `lanes`: invocations per row, a power of two dividing WG

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (rows, cols / 4)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;        // (rows, cols / 4)
@group(0) @binding(2) var<uniform> p: Params;

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

// Online max and sum over vec4s first, first + step, ... of the row from vec4 `base` (C4 vec4s).
fn max_sum(base: u32, C4: u32, first: u32, step: u32) -> vec2<f32> {
  let one = vec4<f32>(1.0);
  var mx = -3.4028234663852886e38;
  var sum = 0.0;
  for (var j = first; j < C4; j += step) {
    let x = inp[base + j];
    let nmx = max(mx, max4(x));
    if (nmx > mx) {
      sum *= exp(mx - nmx);
      mx = nmx;
    }
    sum += dot(exp(x - mx), one);
  }
  return vec2<f32>(mx, sum);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let C4 = p.cols / 4u;
  let base = r * C4;
  let ms = max_sum(base, C4, 0u, 1u);
  let inv = 1.0 / ms.y;
  for (var j = 0u; j < C4; j++) { out[base + j] = exp(inp[base + j] - ms.x) * inv; }
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
  let ms = lanes_max_sum(lid, max_sum(base, C4, lid % LANES, LANES));
  if (r >= p.rows) { return; }
  let inv = 1.0 / ms.y;
  for (var j = lid % LANES; j < C4; j += LANES) { out[base + j] = exp(inp[base + j] - ms.x) * inv; }
}
