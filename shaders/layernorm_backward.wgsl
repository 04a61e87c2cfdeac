// layernorm_backward, stage 1 of 2: per row, dinp = (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd
// with norm = (inp - mean) * rstd, dnorm = weight * dout (= by default, += when the override ACC is 1); and the
// per-workgroup partial sums of dweight (dout * norm) and dbias (dout) over its block of rows, written (=) to
// `partial` (2, G, C). layernorm_backward_reduce.wgsl adds them in a fixed order to dweight, dbias (+=).
//   dinp, dout, inp (rows, C); weight (C); mean, rstd (rows); partial (2, G, C): [0] dweight, [1] dbias.
// One workgroup owns the rows [g R, min((g + 1) R, rows)) (R = rows_per_group); invocation j owns the columns
// j, j + WG, ... and keeps their partial sums in workgroup memory (CMAX >= C floats each). The two row means are
// workgroup tree reductions in a fixed order. No atomics: the result is deterministic.
// Reference: src/reference/layernorm.ts layernormBackward.

override WG: u32 = 128;  // a power of two
override ACC: u32 = 0u;
override CMAX: u32 = 768u;

struct Params { rows: u32, C: u32, rows_per_group: u32, G: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;     // (rows, C)
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;  // (2, G, C)
@group(0) @binding(2) var<storage, read> dout: array<f32>;           // (rows, C)
@group(0) @binding(3) var<storage, read> inp: array<f32>;            // (rows, C)
@group(0) @binding(4) var<storage, read> weight: array<f32>;         // (C)
@group(0) @binding(5) var<storage, read> mean: array<f32>;           // (rows)
@group(0) @binding(6) var<storage, read> rstd: array<f32>;           // (rows)
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;
var<workgroup> acc_w: array<f32, CMAX>;
var<workgroup> acc_b: array<f32, CMAX>;

// Sums of (a, b) over the workgroup, returned to every invocation.
fn workgroup_sum2(a: f32, b: f32, lid: u32) -> vec2<f32> {
  red_a[lid] = a;
  red_b[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red_a[lid] += red_a[lid + s];
      red_b[lid] += red_b[lid + s];
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(red_a[0], red_b[0]);
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let C = p.C;
  for (var c = lid; c < C; c += WG) {
    acc_w[c] = 0.0;
    acc_b[c] = 0.0;
  }
  let r0 = g * p.rows_per_group;
  let r1 = min(r0 + p.rows_per_group, p.rows);
  for (var row = r0; row < r1; row++) {
    let o = row * C;
    let m = mean[row];
    let s = rstd[row];
    var a = 0.0;
    var b = 0.0;
    for (var c = lid; c < C; c += WG) {
      let dnorm = weight[c] * dout[o + c];
      a += dnorm;
      b += dnorm * (inp[o + c] - m) * s;
    }
    let sums = workgroup_sum2(a, b, lid) / f32(C);
    for (var c = lid; c < C; c += WG) {
      let go = dout[o + c];
      let norm = (inp[o + c] - m) * s;
      acc_w[c] += go * norm;
      acc_b[c] += go;
      let v = (weight[c] * go - sums.x - norm * sums.y) * s;
      if (ACC == 1u) {
        dinp[o + c] += v;
      } else {
        dinp[o + c] = v;
      }
    }
  }
  for (var c = lid; c < C; c += WG) {
    partial[g * C + c] = acc_w[c];
    partial[(p.G + g) * C + c] = acc_b[c];
  }
}
