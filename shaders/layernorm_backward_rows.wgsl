// layernorm_backward, stage 1 of 2, one row block per invocation (the layout for CPU-emulated adapters such as
// llvmpipe, where workgroup barriers are expensive and every load of a buffer or a private array costs about
// the same whatever its width; C % 4 = 0 and C <= 1024): the same results as layernorm_backward.wgsl:
// dinp = (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd (= by default, += when the override ACC is 1),
// and the block's partial sums of dweight (dout * norm) and dbias (dout) written (=) to `partial` (2, G, C);
// layernorm_backward_reduce.wgsl adds them in a fixed order to dweight, dbias (+=).
//   dinp, dout, inp (rows, C / 4) vec4s; weight (C / 4); mean, rstd (rows); partial (2, G, C / 4).
// Invocation g owns the rows [g R, min((g + 1) R, rows)) (R = rows_per_group) and walks them four at a time,
// columns outermost, so each weight load and each update of the private column sums serves four rows. The
// column sums add the rows in increasing order; no workgroup memory, no barriers, no atomics.
// Reference: src/reference/layernorm.ts layernormBackward.

override WG: u32 = 8;
override ACC: u32 = 0u;
const C4MAX: u32 = 256u;  // C <= 1024
const K: u32 = 4u;  // rows per step

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
  for (var r = r0; r < r1; r += K) {
    let n = min(K, r1 - r);
    // Rows r + i for i < n; the others (i >= n) repeat row r and are neither written nor summed.
    var o: array<u32, K>;
    var m: array<f32, K>;
    var s: array<f32, K>;
    var a: array<vec4<f32>, K>;
    var b: array<vec4<f32>, K>;
    for (var i = 0u; i < K; i++) {
      let row = select(r, r + i, i < n);
      o[i] = row * C4;
      m[i] = mean[row];
      s[i] = rstd[row];
      a[i] = vec4<f32>(0.0);
      b[i] = vec4<f32>(0.0);
    }
    for (var c = 0u; c < C4; c++) {
      let w = weight[c];
      for (var i = 0u; i < K; i++) {
        let dnorm = w * dout[o[i] + c];
        a[i] += dnorm;
        b[i] += dnorm * (inp[o[i] + c] - m[i]) * s[i];
      }
    }
    var sa: array<f32, K>;
    var sb: array<f32, K>;
    for (var i = 0u; i < K; i++) {
      sa[i] = (a[i].x + a[i].y + a[i].z + a[i].w) / f32(p.C);
      sb[i] = (b[i].x + b[i].y + b[i].z + b[i].w) / f32(p.C);
    }
    for (var c = 0u; c < C4; c++) {
      let w = weight[c];
      var aw = acc_w[c];  // zero-initialized
      var ab = acc_b[c];
      for (var i = 0u; i < K; i++) {
        if (i < n) {
          let go = dout[o[i] + c];
          let norm = (inp[o[i] + c] - m[i]) * s[i];
          aw += go * norm;
          ab += go;
          var v = (w * go - sa[i] - norm * sb[i]) * s[i];
          if (ACC == 1u) { v += dinp[o[i] + c]; }
          dinp[o[i] + c] = v;
        }
      }
      acc_w[c] = aw;
      acc_b[c] = ab;
    }
  }
  for (var c = 0u; c < C4; c++) {
    partial[g * C4 + c] = acc_w[c];
    partial[(p.G + g) * C4 + c] = acc_b[c];
  }
}
