// matmul_nt (CPU-friendly tiling, for llvmpipe): out[z] (I, J) = alpha * A[z] (I, P) @ B[z] (J, P)^T
//   (+ bias (J)) (+ out[z] when ACCUMULATE); both operands P-contiguous and read as vec4 along P (P and J
//   multiples of 4). Used by matmulForward (A = inp, B = weight), matmulBackward's dinp (A = dout, B = the
//   transposed weight) and batchedMatmul with transB. Reference: src/reference/matmul.ts.
// One invocation owns a 32 x 16 block of out (32 rows, 16 columns) held in 32 mat4x4 accumulators (one per
// row); a workgroup is WG invocations side by side along J; wid.y picks the 32 rows, wid.z the batch.
// Per 4 steps of P: 48 vec4 loads feed 2048 FMAs. On llvmpipe every storage load is a per-lane loop (~6 ns
// per vec4 component for 8 lanes), so the block is as large as registers + L1 spills allow. Rows past the
// edge are clamped on load and not stored.
// Writes (=) unless ACCUMULATE (+=); BIAS adds bias[j].

struct Params {
  I: u32, J: u32, P: u32, batch_a: u32,     // batch strides in elements (multiples of 4)
  batch_b: u32, batch_out: u32, alpha: f32, pad: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (Z, I, J)
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;          // (Z, I, P)
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;          // (Z, J, P)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;       // (J), a dummy unless BIAS
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 8u;
override BIAS: bool = false;
override ACCUMULATE: bool = false;

var<private> zid: u32;

// acc[c] += dot(x, y[c]) for c = 0..3, k in order, written as vec4 FMAs over the transposed y: the same FMAs,
// but llvmpipe ran the packed kernel's product 1.33x slower written as scalar dot chains (2026-11-26).
fn dots(acc: vec4<f32>, x: vec4<f32>, y: mat4x4<f32>) -> vec4<f32> {
  let t = transpose(y);
  return fma(t[3], vec4<f32>(x.w), fma(t[2], vec4<f32>(x.z), fma(t[1], vec4<f32>(x.y), fma(t[0], vec4<f32>(x.x), acc))));
}

// One row of the block: acc[q][c] += dot(x, column 4q + c of B). Row-major order keeps x in registers while
// the 16 columns stream from L1 (this order measured ~25% faster than 4 x 4 sub-blocks).
fn row(acc: mat4x4<f32>, x: vec4<f32>, y0: mat4x4<f32>, y1: mat4x4<f32>, y2: mat4x4<f32>, y3: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(dots(acc[0], x, y0), dots(acc[1], x, y1), dots(acc[2], x, y2), dots(acc[3], x, y3));
}

// Offsets (in vec4) of four consecutive rows starting at `first`, clamped to the row `last`.
fn rows4(base: u32, first: u32, last: u32) -> vec4<u32> {
  return (base + min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * p.P) / 4u;
}

// out[i, j..j+3] = alpha * v (+ bias) (+ out), unless the row or the columns lie past the edge.
fn store4(i: u32, j: u32, v: vec4<f32>) {
  if (i < p.I && j < p.J) {
    let o = (p.batch_out * zid + i * p.J + j) / 4u;
    var r = p.alpha * v;
    if (BIAS) { r += bias[j / 4u]; }
    if (ACCUMULATE) { r += out[o]; }
    out[o] = r;
  }
}

// Writes row i, columns j..j+15 (acc[q] holds columns j + 4q .. j + 4q + 3).
fn store(i: u32, j: u32, acc: mat4x4<f32>) {
  store4(i, j, acc[0]);
  store4(i, j + 4u, acc[1]);
  store4(i, j + 8u, acc[2]);
  store4(i, j + 12u, acc[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j0 = (wid.x * WG + lid.x) * 16u;
  let i0 = wid.y * 32u;
  zid = wid.z;
  let r0 = rows4(p.batch_a * zid, i0 + 0u, p.I - 1u);
  let r1 = rows4(p.batch_a * zid, i0 + 4u, p.I - 1u);
  let r2 = rows4(p.batch_a * zid, i0 + 8u, p.I - 1u);
  let r3 = rows4(p.batch_a * zid, i0 + 12u, p.I - 1u);
  let r4 = rows4(p.batch_a * zid, i0 + 16u, p.I - 1u);
  let r5 = rows4(p.batch_a * zid, i0 + 20u, p.I - 1u);
  let r6 = rows4(p.batch_a * zid, i0 + 24u, p.I - 1u);
  let r7 = rows4(p.batch_a * zid, i0 + 28u, p.I - 1u);
  let s0 = rows4(p.batch_b * zid, j0 + 0u, p.J - 1u);
  let s1 = rows4(p.batch_b * zid, j0 + 4u, p.J - 1u);
  let s2 = rows4(p.batch_b * zid, j0 + 8u, p.J - 1u);
  let s3 = rows4(p.batch_b * zid, j0 + 12u, p.J - 1u);
  // c<r>: row i0 + r, its 16 columns as 4 vec4.
  var c0: mat4x4<f32>; var c1: mat4x4<f32>; var c2: mat4x4<f32>; var c3: mat4x4<f32>;
  var c4: mat4x4<f32>; var c5: mat4x4<f32>; var c6: mat4x4<f32>; var c7: mat4x4<f32>;
  var c8: mat4x4<f32>; var c9: mat4x4<f32>; var c10: mat4x4<f32>; var c11: mat4x4<f32>;
  var c12: mat4x4<f32>; var c13: mat4x4<f32>; var c14: mat4x4<f32>; var c15: mat4x4<f32>;
  var c16: mat4x4<f32>; var c17: mat4x4<f32>; var c18: mat4x4<f32>; var c19: mat4x4<f32>;
  var c20: mat4x4<f32>; var c21: mat4x4<f32>; var c22: mat4x4<f32>; var c23: mat4x4<f32>;
  var c24: mat4x4<f32>; var c25: mat4x4<f32>; var c26: mat4x4<f32>; var c27: mat4x4<f32>;
  var c28: mat4x4<f32>; var c29: mat4x4<f32>; var c30: mat4x4<f32>; var c31: mat4x4<f32>;
  for (var k = 0u; k < p.P / 4u; k++) {
    let y0 = mat4x4<f32>(b[s0.x + k], b[s0.y + k], b[s0.z + k], b[s0.w + k]);
    let y1 = mat4x4<f32>(b[s1.x + k], b[s1.y + k], b[s1.z + k], b[s1.w + k]);
    let y2 = mat4x4<f32>(b[s2.x + k], b[s2.y + k], b[s2.z + k], b[s2.w + k]);
    let y3 = mat4x4<f32>(b[s3.x + k], b[s3.y + k], b[s3.z + k], b[s3.w + k]);
    c0 = row(c0, a[r0.x + k], y0, y1, y2, y3);
    c1 = row(c1, a[r0.y + k], y0, y1, y2, y3);
    c2 = row(c2, a[r0.z + k], y0, y1, y2, y3);
    c3 = row(c3, a[r0.w + k], y0, y1, y2, y3);
    c4 = row(c4, a[r1.x + k], y0, y1, y2, y3);
    c5 = row(c5, a[r1.y + k], y0, y1, y2, y3);
    c6 = row(c6, a[r1.z + k], y0, y1, y2, y3);
    c7 = row(c7, a[r1.w + k], y0, y1, y2, y3);
    c8 = row(c8, a[r2.x + k], y0, y1, y2, y3);
    c9 = row(c9, a[r2.y + k], y0, y1, y2, y3);
    c10 = row(c10, a[r2.z + k], y0, y1, y2, y3);
    c11 = row(c11, a[r2.w + k], y0, y1, y2, y3);
    c12 = row(c12, a[r3.x + k], y0, y1, y2, y3);
    c13 = row(c13, a[r3.y + k], y0, y1, y2, y3);
    c14 = row(c14, a[r3.z + k], y0, y1, y2, y3);
    c15 = row(c15, a[r3.w + k], y0, y1, y2, y3);
    c16 = row(c16, a[r4.x + k], y0, y1, y2, y3);
    c17 = row(c17, a[r4.y + k], y0, y1, y2, y3);
    c18 = row(c18, a[r4.z + k], y0, y1, y2, y3);
    c19 = row(c19, a[r4.w + k], y0, y1, y2, y3);
    c20 = row(c20, a[r5.x + k], y0, y1, y2, y3);
    c21 = row(c21, a[r5.y + k], y0, y1, y2, y3);
    c22 = row(c22, a[r5.z + k], y0, y1, y2, y3);
    c23 = row(c23, a[r5.w + k], y0, y1, y2, y3);
    c24 = row(c24, a[r6.x + k], y0, y1, y2, y3);
    c25 = row(c25, a[r6.y + k], y0, y1, y2, y3);
    c26 = row(c26, a[r6.z + k], y0, y1, y2, y3);
    c27 = row(c27, a[r6.w + k], y0, y1, y2, y3);
    c28 = row(c28, a[r7.x + k], y0, y1, y2, y3);
    c29 = row(c29, a[r7.y + k], y0, y1, y2, y3);
    c30 = row(c30, a[r7.z + k], y0, y1, y2, y3);
    c31 = row(c31, a[r7.w + k], y0, y1, y2, y3);
  }
  store(i0 + 0u, j0, c0); store(i0 + 1u, j0, c1); store(i0 + 2u, j0, c2); store(i0 + 3u, j0, c3);
  store(i0 + 4u, j0, c4); store(i0 + 5u, j0, c5); store(i0 + 6u, j0, c6); store(i0 + 7u, j0, c7);
  store(i0 + 8u, j0, c8); store(i0 + 9u, j0, c9); store(i0 + 10u, j0, c10); store(i0 + 11u, j0, c11);
  store(i0 + 12u, j0, c12); store(i0 + 13u, j0, c13); store(i0 + 14u, j0, c14); store(i0 + 15u, j0, c15);
  store(i0 + 16u, j0, c16); store(i0 + 17u, j0, c17); store(i0 + 18u, j0, c18); store(i0 + 19u, j0, c19);
  store(i0 + 20u, j0, c20); store(i0 + 21u, j0, c21); store(i0 + 22u, j0, c22); store(i0 + 23u, j0, c23);
  store(i0 + 24u, j0, c24); store(i0 + 25u, j0, c25); store(i0 + 26u, j0, c26); store(i0 + 27u, j0, c27);
  store(i0 + 28u, j0, c28); store(i0 + 29u, j0, c29); store(i0 + 30u, j0, c30); store(i0 + 31u, j0, c31);
}
