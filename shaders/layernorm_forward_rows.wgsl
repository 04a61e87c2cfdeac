// layernorm_forward, four rows per invocation (the layout for CPU-emulated adapters such as llvmpipe, where
// workgroup barriers are expensive and every load costs about the same whatever its width):
// out = (inp - mean) * rstd * weight + bias over each row of C (C % 4 = 0), saving mean and rstd. The mean and
// variance come from one pass of sums shifted by the row's first element (var = E[(x - k)^2] - E[x - k]^2 with
// k = x[0], which avoids the cancellation of the unshifted formula). Activations are written (=).
//   inp, out (rows, C) as vec4s; weight, bias (C) as vec4s; mean, rstd (rows).
// Invocation g owns the rows [4 g, min(4 g + 4, rows)), walked together, columns outermost, so each weight and
// bias load serves four rows; no workgroup memory, no barriers.
// Reference: src/reference/layernorm.ts layernormForward.

override WG: u32 = 8;
const K: u32 = 4u;  // rows per invocation

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
  let r = (gid.x + gid.y * nwg.x * WG) * K;
  if (r >= p.rows) { return; }
  let n = min(K, p.rows - r);
  let C4 = p.C / 4u;
  // Rows r + i for i < n; the others (i >= n) repeat row r and are not written.
  var o: array<u32, K>;
  var k: array<f32, K>;
  var s: array<vec4<f32>, K>;
  var q: array<vec4<f32>, K>;
  for (var i = 0u; i < K; i++) {
    o[i] = select(r, r + i, i < n) * C4;
    k[i] = inp[o[i]].x;
  }
  for (var c = 0u; c < C4; c++) {
    for (var i = 0u; i < K; i++) {
      let d = inp[o[i] + c] - k[i];
      s[i] += d;
      q[i] += d * d;
    }
  }
  var m: array<f32, K>;
  var rs: array<f32, K>;
  for (var i = 0u; i < K; i++) {
    let ms = (s[i].x + s[i].y + s[i].z + s[i].w) / f32(p.C);
    m[i] = k[i] + ms;
    let v = max((q[i].x + q[i].y + q[i].z + q[i].w) / f32(p.C) - ms * ms, 0.0);
    rs[i] = 1.0 / sqrt(v + p.eps);
  }
  for (var c = 0u; c < C4; c++) {
    let w = weight[c];
    let b = bias[c];
    for (var i = 0u; i < K; i++) {
      if (i < n) { out[o[i] + c] = (inp[o[i] + c] - m[i]) * rs[i] * w + b; }
    }
  }
  for (var i = 0u; i < n; i++) {
    mean[r + i] = m[i];
    rstd[r + i] = rs[i];
  }
}
