// layernorm_backward, stage 1 of 2, one row block per invocation (the layout for CPU-emulated adapters such as
// llvmpipe, where workgroup barriers are expensive; C % 4 = 0 and C <= 1024): the same results as
// layernorm_backward.wgsl: dinp = (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd (= by default, +=
// when the override ACC is 1), and the block's partial sums of dweight (dout * norm) and dbias (dout) written (=)
// to `partial` (2, G, C); layernorm_backward_reduce.wgsl adds them in a fixed order to dweight, dbias (+=).
//   dinp, dout, inp (rows, C / 4) vec4s; weight (C / 4); mean, rstd (rows); partial (2, G, C / 4).
// Invocation g owns the rows [g R, min((g + 1) R, rows)) (R = rows_per_group) and keeps the column sums in
// private arrays; no workgroup memory, no barriers, no atomics.
// Reference: src/reference/layernorm.ts layernormBackward.

override WG: u32 = 8;
override ACC: u32 = 0u;
const C4MAX: u32 = 256u;  // C <= 1024

struct Params { rows: u32, C: u32, rows_per_group: u32, G: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<vec4<f32>>;     // (rows, C / 4)
@group(0) @binding(1) var<storage, read_write> partial: array<vec4<f32>>;  // (2, G, C / 4)
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;           // (rows, C / 4)
@group(0) @binding(3) var<storage, read> inp: array<vec4<f32>>;            // (rows, C / 4)
@group(0) @binding(4) var<storage, read> weight: array<vec4<f32>>;         // (C / 4)
@group(0) @binding(5) var<storage, read> mean: array<f32>;                 // (rows)
@group(0) @binding(6) var<storage, read> rstd: array<f32>;                 // (rows)
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x;
  if (g >= p.G) { return; }
  let C4 = p.C / 4u;
  var acc_w: array<vec4<f32>, C4MAX>;
  var acc_b: array<vec4<f32>, C4MAX>;
  let r0 = g * p.rows_per_group;
  let r1 = min(r0 + p.rows_per_group, p.rows);
  for (var row = r0; row < r1; row++) {
    let o = row * C4;
    let m = mean[row];
    let s = rstd[row];
    var a = vec4<f32>(0.0);
    var b = vec4<f32>(0.0);
    for (var c = 0u; c < C4; c++) {
      let dnorm = weight[c] * dout[o + c];
      a += dnorm;
      b += dnorm * (inp[o + c] - m) * s;
    }
    let sa = (a.x + a.y + a.z + a.w) / f32(p.C);
    let sb = (b.x + b.y + b.z + b.w) / f32(p.C);
    for (var c = 0u; c < C4; c++) {
      let go = dout[o + c];
      let norm = (inp[o + c] - m) * s;
      acc_w[c] += go * norm;
      acc_b[c] += go;
      var v = (weight[c] * go - sa - norm * sb) * s;
      if (ACC == 1u) { v += dinp[o + c]; }
      dinp[o + c] = v;
    }
  }
  for (var c = 0u; c < C4; c++) {
    partial[g * C4 + c] = acc_w[c];
    partial[(p.G + g) * C4 + c] = acc_b[c];
  }
}
