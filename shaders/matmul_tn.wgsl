// matmul_tn (CPU-friendly tiling, for llvmpipe): out[z] (I, J) = alpha * A[z] (P, I)^T @ B[z] (P, J)
//   (+ bias (J)) (+ out[z] when ACCUMULATE); both operands stored with P as the row index and read as vec4
//   along I and J (I, J multiples of 4). Used by matmulBackward's dweight (A = dout (M, N), B = inp (M, K),
//   accumulated) and batchedMatmul with transA. Reference: src/reference/matmul.ts.
// One invocation owns a 32 x 16 block of out (32 rows, 16 columns) held in 32 mat4x4 accumulators (one per
// row); a workgroup is WG invocations side by side along J; wid.y picks the 32 rows, wid.z the batch.
// Per step of P: 12 vec4 loads feed 512 FMAs (an outer product). On llvmpipe every storage load is a
// per-lane loop (~6 ns per vec4 component for 8 lanes), so the block is as large as registers + L1 spills
// allow. Reads past the edge are clamped; those rows and columns are not stored.
// Writes (=) unless ACCUMULATE (+=, parameter gradients); BIAS adds bias[j].

struct Params {
  I: u32, J: u32, P: u32, batch_a: u32,     // batch strides in elements (multiples of 4)
  batch_b: u32, batch_out: u32, alpha: f32, pad: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (Z, I, J)
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;          // (Z, P, I)
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;          // (Z, P, J)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;       // (J), a dummy unless BIAS
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 8u;
override BIAS: bool = false;
override ACCUMULATE: bool = false;

var<private> zid: u32;

// A[z, k, i..i+3] (a start past I is clamped: those rows are never stored).
fn load_a(k: u32, i: u32) -> vec4<f32> {
  return a[(p.batch_a * zid + k * p.I + min(i, p.I - 4u)) / 4u];
}

fn load_b(k: u32, j: u32) -> vec4<f32> {
  return b[(p.batch_b * zid + k * p.J + min(j, p.J - 4u)) / 4u];
}

// One row of the block: acc[q] += x * (columns 4q .. 4q + 3 of B's row).
fn row(acc: mat4x4<f32>, x: f32, y0: vec4<f32>, y1: vec4<f32>, y2: vec4<f32>, y3: vec4<f32>) -> mat4x4<f32> {
  let v = vec4<f32>(x);
  return mat4x4<f32>(fma(v, y0, acc[0]), fma(v, y1, acc[1]), fma(v, y2, acc[2]), fma(v, y3, acc[3]));
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
  // c<r>: row i0 + r, its 16 columns as 4 vec4.
  var c0: mat4x4<f32>; var c1: mat4x4<f32>; var c2: mat4x4<f32>; var c3: mat4x4<f32>;
  var c4: mat4x4<f32>; var c5: mat4x4<f32>; var c6: mat4x4<f32>; var c7: mat4x4<f32>;
  var c8: mat4x4<f32>; var c9: mat4x4<f32>; var c10: mat4x4<f32>; var c11: mat4x4<f32>;
  var c12: mat4x4<f32>; var c13: mat4x4<f32>; var c14: mat4x4<f32>; var c15: mat4x4<f32>;
  var c16: mat4x4<f32>; var c17: mat4x4<f32>; var c18: mat4x4<f32>; var c19: mat4x4<f32>;
  var c20: mat4x4<f32>; var c21: mat4x4<f32>; var c22: mat4x4<f32>; var c23: mat4x4<f32>;
  var c24: mat4x4<f32>; var c25: mat4x4<f32>; var c26: mat4x4<f32>; var c27: mat4x4<f32>;
  var c28: mat4x4<f32>; var c29: mat4x4<f32>; var c30: mat4x4<f32>; var c31: mat4x4<f32>;
  for (var k = 0u; k < p.P; k++) {
    let y0 = load_b(k, j0);
    let y1 = load_b(k, j0 + 4u);
    let y2 = load_b(k, j0 + 8u);
    let y3 = load_b(k, j0 + 12u);
    let x0 = load_a(k, i0 + 0u);
    let x1 = load_a(k, i0 + 4u);
    let x2 = load_a(k, i0 + 8u);
    let x3 = load_a(k, i0 + 12u);
    let x4 = load_a(k, i0 + 16u);
    let x5 = load_a(k, i0 + 20u);
    let x6 = load_a(k, i0 + 24u);
    let x7 = load_a(k, i0 + 28u);
    c0 = row(c0, x0.x, y0, y1, y2, y3);
    c1 = row(c1, x0.y, y0, y1, y2, y3);
    c2 = row(c2, x0.z, y0, y1, y2, y3);
    c3 = row(c3, x0.w, y0, y1, y2, y3);
    c4 = row(c4, x1.x, y0, y1, y2, y3);
    c5 = row(c5, x1.y, y0, y1, y2, y3);
    c6 = row(c6, x1.z, y0, y1, y2, y3);
    c7 = row(c7, x1.w, y0, y1, y2, y3);
    c8 = row(c8, x2.x, y0, y1, y2, y3);
    c9 = row(c9, x2.y, y0, y1, y2, y3);
    c10 = row(c10, x2.z, y0, y1, y2, y3);
    c11 = row(c11, x2.w, y0, y1, y2, y3);
    c12 = row(c12, x3.x, y0, y1, y2, y3);
    c13 = row(c13, x3.y, y0, y1, y2, y3);
    c14 = row(c14, x3.z, y0, y1, y2, y3);
    c15 = row(c15, x3.w, y0, y1, y2, y3);
    c16 = row(c16, x4.x, y0, y1, y2, y3);
    c17 = row(c17, x4.y, y0, y1, y2, y3);
    c18 = row(c18, x4.z, y0, y1, y2, y3);
    c19 = row(c19, x4.w, y0, y1, y2, y3);
    c20 = row(c20, x5.x, y0, y1, y2, y3);
    c21 = row(c21, x5.y, y0, y1, y2, y3);
    c22 = row(c22, x5.z, y0, y1, y2, y3);
    c23 = row(c23, x5.w, y0, y1, y2, y3);
    c24 = row(c24, x6.x, y0, y1, y2, y3);
    c25 = row(c25, x6.y, y0, y1, y2, y3);
    c26 = row(c26, x6.z, y0, y1, y2, y3);
    c27 = row(c27, x6.w, y0, y1, y2, y3);
    c28 = row(c28, x7.x, y0, y1, y2, y3);
    c29 = row(c29, x7.y, y0, y1, y2, y3);
    c30 = row(c30, x7.z, y0, y1, y2, y3);
    c31 = row(c31, x7.w, y0, y1, y2, y3);
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
