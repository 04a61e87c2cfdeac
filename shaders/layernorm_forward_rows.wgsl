// layernorm_forward, one row per invocation (the layout for CPU-emulated adapters such as llvmpipe, where
// workgroup barriers are expensive): out = (inp - mean) * rstd * weight + bias over each row of C (C % 4 = 0),
// saving mean and rstd. The mean and variance come from one pass of sums shifted by the row's first element
// (var = E[(x - k)^2] - E[x - k]^2 with k = x[0], which avoids the cancellation of the unshifted formula).
// Activations are written (=).
//   inp, out (rows, C) as vec4s; weight, bias (C) as vec4s; mean, rstd (rows).
// One invocation owns one row; no workgroup memory, no barriers.
// Reference: src/reference/layernorm.ts layernormForward.

override WG: u32 = 16;

struct Params { rows: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (rows, C / 4)
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;       // (rows)
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>;       // (rows)
@group(0) @binding(3) var<storage, read> inp: array<vec4<f32>>;        // (rows, C / 4)
@group(0) @binding(4) var<storage, read> weight: array<vec4<f32>>;     // (C / 4)
@group(0) @binding(5) var<storage, read> bias: array<vec4<f32>>;       // (C / 4)
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.rows) { return; }
  let C4 = p.C / 4u;
  let o = row * C4;
  let k = inp[o].x;
  var s = vec4<f32>(0.0);
  var q = vec4<f32>(0.0);
  for (var c = 0u; c < C4; c++) {
    let d = inp[o + c] - k;
    s += d;
    q += d * d;
  }
  let ms = (s.x + s.y + s.z + s.w) / f32(p.C);
  let m = k + ms;
  let v = max((q.x + q.y + q.z + q.w) / f32(p.C) - ms * ms, 0.0);
  let r = 1.0 / sqrt(v + p.eps);
  for (var c = 0u; c < C4; c++) { out[o + c] = (inp[o + c] - m) * r * weight[c] + bias[c]; }
  mean[row] = m;
  rstd[row] = r;
}
