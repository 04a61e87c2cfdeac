// attention_matmul_rows: the products of attention_matmul.wgsl (same Params and formula) for software adapters
// (llvmpipe), where every storage load is a per-lane scalar loop and costs far more than an FMA: one invocation
// owns a 32 x 16 block of c (32 rows, 16 columns, held in 32 mat4x4: row r, columns 16g + 4q..+3 in c<r>_<g>[q]),
// so 48 vec4 loads feed 2048 multiply-adds per 4 steps of k (the 8 x 8 block of attention_matmul_vec8.wgsl:
// 16 per 256). A workgroup is 8 invocations: GN side by side along n and 8 / GN row blocks; with GN = 8 all of them
// read the same rows of a. Entry points by operand layout (every offset and stride a multiple of 4, M and N
// too; c's column stride is 1):
//   nt: a(m, k) k-contiguous, b(k, n) k-contiguous  (S = Q K^T, dP = dout V^T)
//   nn: a(m, k) k-contiguous, b(k, n) n-contiguous  (out = P V, dQ = dS K)
//   tn: a(m, k) m-contiguous, b(k, n) n-contiguous  (dV = P^T dout, dK = dS^T Q)
// Rows/columns past the edge read a clamped element and are not stored. Written (=).
// Reference: src/reference/attention.ts. (The 32 rows are spelled out: llvmpipe keeps private arrays indexed
// in loops in memory.)

const BLOCK_COLS: u32 = 16u;  // read by src/kernels/attention_matmul.ts
override GN: u32 = 8u;  // invocations along n (16 columns each): 1, 2, 4 or 8

struct Params {
  M: u32, N: u32, K: u32, NH: u32,
  a_off: u32, a_bs: u32, a_hs: u32, a_rs: u32, a_cs: u32,
  b_off: u32, b_bs: u32, b_hs: u32, b_rs: u32, b_cs: u32,
  c_off: u32, c_bs: u32, c_hs: u32, c_rs: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> c: array<vec4<f32>>;  // output, layout by c_* strides
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;        // left operand, layout by a_* strides
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;        // right operand, layout by b_* strides
@group(0) @binding(3) var<uniform> p: Params;

struct Tile { m0: u32, n0: u32, abase: u32, bbase: u32, cbase: u32 }

fn tile(wid: vec3<u32>, li: u32) -> Tile {
  let bi = wid.z / p.NH;
  let h = wid.z % p.NH;
  return Tile(
    (wid.y * (8u / GN) + li / GN) * 32u,
    (wid.x * GN + li % GN) * 16u,
    p.a_off + bi * p.a_bs + h * p.a_hs,
    p.b_off + bi * p.b_bs + h * p.b_hs,
    p.c_off + bi * p.c_bs + h * p.c_hs,
  );
}

// vec4 indices of four consecutive rows from `first` (clamped to `last`) of an operand with row stride `stride`.
fn rows4(base: u32, first: u32, last: u32, stride: u32) -> vec4<u32> {
  return (base + min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * stride) / 4u;
}

// vec4 index of columns n..n+3 (clamped to the last four) of row k of an n-contiguous operand.
fn col4(base: u32, k: u32, n: u32) -> u32 {
  return (base + k * p.b_rs + min(n, p.N - 4u)) / 4u;
}

// sum over i of y[i] * x[i] (y's columns are 4 steps of k), with FMAs.
fn mv(acc: vec4<f32>, y: mat4x4<f32>, x: vec4<f32>) -> vec4<f32> {
  return fma(y[3], vec4<f32>(x.w), fma(y[2], vec4<f32>(x.z), fma(y[1], vec4<f32>(x.y), fma(y[0], vec4<f32>(x.x), acc))));
}

// nt: acc[q][j] += dot(x, column 4q + j of b over 4 steps of k); y_q[j] holds that column's 4 values. Written as
// mv over the transposed y (the same FMAs in the same order): as four scalar dot chains per vec4, llvmpipe ran
// the product 1.25x slower (throwaway probe, 2026-11-26).
fn row_dot(acc: mat4x4<f32>, x: vec4<f32>, y0: mat4x4<f32>, y1: mat4x4<f32>, y2: mat4x4<f32>, y3: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(mv(acc[0], transpose(y0), x), mv(acc[1], transpose(y1), x), mv(acc[2], transpose(y2), x),
                     mv(acc[3], transpose(y3), x));
}

// nn: acc[q] += sum over 4 steps i of k of x[i] * b(k + i, 4q..4q+3); y_q[i] = b(k + i, 4q..4q+3).
fn row_mv(acc: mat4x4<f32>, x: vec4<f32>, y0: mat4x4<f32>, y1: mat4x4<f32>, y2: mat4x4<f32>, y3: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(mv(acc[0], y0, x), mv(acc[1], y1, x), mv(acc[2], y2, x), mv(acc[3], y3, x));
}

// Stores row r of the block (columns n0..n0+15 as 4 vec4), scaled, unless the row or columns lie past the edge.
fn store(t: Tile, r: u32, j: u32, v: mat4x4<f32>) {
  let m = t.m0 + r;
  if (m >= p.M) { return; }
  let o = (t.cbase + m * p.c_rs + t.n0 + j) / 4u;
  for (var q = 0u; q < 4u; q++) {
    if (t.n0 + j + 4u * q < p.N) { c[o + q] = v[q] * p.scale; }
  }
}

@compute @workgroup_size(8)
fn nt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ar0 = rows4(t.abase, t.m0 + 0u, p.M - 1u, p.a_rs);
  let ar1 = rows4(t.abase, t.m0 + 4u, p.M - 1u, p.a_rs);
  let ar2 = rows4(t.abase, t.m0 + 8u, p.M - 1u, p.a_rs);
  let ar3 = rows4(t.abase, t.m0 + 12u, p.M - 1u, p.a_rs);
  let ar4 = rows4(t.abase, t.m0 + 16u, p.M - 1u, p.a_rs);
  let ar5 = rows4(t.abase, t.m0 + 20u, p.M - 1u, p.a_rs);
  let ar6 = rows4(t.abase, t.m0 + 24u, p.M - 1u, p.a_rs);
  let ar7 = rows4(t.abase, t.m0 + 28u, p.M - 1u, p.a_rs);
  let bc0 = rows4(t.bbase, t.n0 + 0u, p.N - 1u, p.b_cs);
  let bc1 = rows4(t.bbase, t.n0 + 4u, p.N - 1u, p.b_cs);
  let bc2 = rows4(t.bbase, t.n0 + 8u, p.N - 1u, p.b_cs);
  let bc3 = rows4(t.bbase, t.n0 + 12u, p.N - 1u, p.b_cs);
  var c0_0: mat4x4<f32>;
  var c1_0: mat4x4<f32>;
  var c2_0: mat4x4<f32>;
  var c3_0: mat4x4<f32>;
  var c4_0: mat4x4<f32>;
  var c5_0: mat4x4<f32>;
  var c6_0: mat4x4<f32>;
  var c7_0: mat4x4<f32>;
  var c8_0: mat4x4<f32>;
  var c9_0: mat4x4<f32>;
  var c10_0: mat4x4<f32>;
  var c11_0: mat4x4<f32>;
  var c12_0: mat4x4<f32>;
  var c13_0: mat4x4<f32>;
  var c14_0: mat4x4<f32>;
  var c15_0: mat4x4<f32>;
  var c16_0: mat4x4<f32>;
  var c17_0: mat4x4<f32>;
  var c18_0: mat4x4<f32>;
  var c19_0: mat4x4<f32>;
  var c20_0: mat4x4<f32>;
  var c21_0: mat4x4<f32>;
  var c22_0: mat4x4<f32>;
  var c23_0: mat4x4<f32>;
  var c24_0: mat4x4<f32>;
  var c25_0: mat4x4<f32>;
  var c26_0: mat4x4<f32>;
  var c27_0: mat4x4<f32>;
  var c28_0: mat4x4<f32>;
  var c29_0: mat4x4<f32>;
  var c30_0: mat4x4<f32>;
  var c31_0: mat4x4<f32>;
  for (var k = 0u; k < p.K / 4u; k++) {
    let y0 = mat4x4<f32>(b[bc0.x + k], b[bc0.y + k], b[bc0.z + k], b[bc0.w + k]);
    let y1 = mat4x4<f32>(b[bc1.x + k], b[bc1.y + k], b[bc1.z + k], b[bc1.w + k]);
    let y2 = mat4x4<f32>(b[bc2.x + k], b[bc2.y + k], b[bc2.z + k], b[bc2.w + k]);
    let y3 = mat4x4<f32>(b[bc3.x + k], b[bc3.y + k], b[bc3.z + k], b[bc3.w + k]);
    let x0 = a[ar0.x + k];
    c0_0 = row_dot(c0_0, x0, y0, y1, y2, y3);
    let x1 = a[ar0.y + k];
    c1_0 = row_dot(c1_0, x1, y0, y1, y2, y3);
    let x2 = a[ar0.z + k];
    c2_0 = row_dot(c2_0, x2, y0, y1, y2, y3);
    let x3 = a[ar0.w + k];
    c3_0 = row_dot(c3_0, x3, y0, y1, y2, y3);
    let x4 = a[ar1.x + k];
    c4_0 = row_dot(c4_0, x4, y0, y1, y2, y3);
    let x5 = a[ar1.y + k];
    c5_0 = row_dot(c5_0, x5, y0, y1, y2, y3);
    let x6 = a[ar1.z + k];
    c6_0 = row_dot(c6_0, x6, y0, y1, y2, y3);
    let x7 = a[ar1.w + k];
    c7_0 = row_dot(c7_0, x7, y0, y1, y2, y3);
    let x8 = a[ar2.x + k];
    c8_0 = row_dot(c8_0, x8, y0, y1, y2, y3);
    let x9 = a[ar2.y + k];
    c9_0 = row_dot(c9_0, x9, y0, y1, y2, y3);
    let x10 = a[ar2.z + k];
    c10_0 = row_dot(c10_0, x10, y0, y1, y2, y3);
    let x11 = a[ar2.w + k];
    c11_0 = row_dot(c11_0, x11, y0, y1, y2, y3);
    let x12 = a[ar3.x + k];
    c12_0 = row_dot(c12_0, x12, y0, y1, y2, y3);
    let x13 = a[ar3.y + k];
    c13_0 = row_dot(c13_0, x13, y0, y1, y2, y3);
    let x14 = a[ar3.z + k];
    c14_0 = row_dot(c14_0, x14, y0, y1, y2, y3);
    let x15 = a[ar3.w + k];
    c15_0 = row_dot(c15_0, x15, y0, y1, y2, y3);
    let x16 = a[ar4.x + k];
    c16_0 = row_dot(c16_0, x16, y0, y1, y2, y3);
    let x17 = a[ar4.y + k];
    c17_0 = row_dot(c17_0, x17, y0, y1, y2, y3);
    let x18 = a[ar4.z + k];
    c18_0 = row_dot(c18_0, x18, y0, y1, y2, y3);
    let x19 = a[ar4.w + k];
    c19_0 = row_dot(c19_0, x19, y0, y1, y2, y3);
    let x20 = a[ar5.x + k];
    c20_0 = row_dot(c20_0, x20, y0, y1, y2, y3);
    let x21 = a[ar5.y + k];
    c21_0 = row_dot(c21_0, x21, y0, y1, y2, y3);
    let x22 = a[ar5.z + k];
    c22_0 = row_dot(c22_0, x22, y0, y1, y2, y3);
    let x23 = a[ar5.w + k];
    c23_0 = row_dot(c23_0, x23, y0, y1, y2, y3);
    let x24 = a[ar6.x + k];
    c24_0 = row_dot(c24_0, x24, y0, y1, y2, y3);
    let x25 = a[ar6.y + k];
    c25_0 = row_dot(c25_0, x25, y0, y1, y2, y3);
    let x26 = a[ar6.z + k];
    c26_0 = row_dot(c26_0, x26, y0, y1, y2, y3);
    let x27 = a[ar6.w + k];
    c27_0 = row_dot(c27_0, x27, y0, y1, y2, y3);
    let x28 = a[ar7.x + k];
    c28_0 = row_dot(c28_0, x28, y0, y1, y2, y3);
    let x29 = a[ar7.y + k];
    c29_0 = row_dot(c29_0, x29, y0, y1, y2, y3);
    let x30 = a[ar7.z + k];
    c30_0 = row_dot(c30_0, x30, y0, y1, y2, y3);
    let x31 = a[ar7.w + k];
    c31_0 = row_dot(c31_0, x31, y0, y1, y2, y3);
  }
  store(t, 0u, 0u, c0_0);
  store(t, 1u, 0u, c1_0);
  store(t, 2u, 0u, c2_0);
  store(t, 3u, 0u, c3_0);
  store(t, 4u, 0u, c4_0);
  store(t, 5u, 0u, c5_0);
  store(t, 6u, 0u, c6_0);
  store(t, 7u, 0u, c7_0);
  store(t, 8u, 0u, c8_0);
  store(t, 9u, 0u, c9_0);
  store(t, 10u, 0u, c10_0);
  store(t, 11u, 0u, c11_0);
  store(t, 12u, 0u, c12_0);
  store(t, 13u, 0u, c13_0);
  store(t, 14u, 0u, c14_0);
  store(t, 15u, 0u, c15_0);
  store(t, 16u, 0u, c16_0);
  store(t, 17u, 0u, c17_0);
  store(t, 18u, 0u, c18_0);
  store(t, 19u, 0u, c19_0);
  store(t, 20u, 0u, c20_0);
  store(t, 21u, 0u, c21_0);
  store(t, 22u, 0u, c22_0);
  store(t, 23u, 0u, c23_0);
  store(t, 24u, 0u, c24_0);
  store(t, 25u, 0u, c25_0);
  store(t, 26u, 0u, c26_0);
  store(t, 27u, 0u, c27_0);
  store(t, 28u, 0u, c28_0);
  store(t, 29u, 0u, c29_0);
  store(t, 30u, 0u, c30_0);
  store(t, 31u, 0u, c31_0);
}

@compute @workgroup_size(8)
fn nn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ar0 = rows4(t.abase, t.m0 + 0u, p.M - 1u, p.a_rs);
  let ar1 = rows4(t.abase, t.m0 + 4u, p.M - 1u, p.a_rs);
  let ar2 = rows4(t.abase, t.m0 + 8u, p.M - 1u, p.a_rs);
  let ar3 = rows4(t.abase, t.m0 + 12u, p.M - 1u, p.a_rs);
  let ar4 = rows4(t.abase, t.m0 + 16u, p.M - 1u, p.a_rs);
  let ar5 = rows4(t.abase, t.m0 + 20u, p.M - 1u, p.a_rs);
  let ar6 = rows4(t.abase, t.m0 + 24u, p.M - 1u, p.a_rs);
  let ar7 = rows4(t.abase, t.m0 + 28u, p.M - 1u, p.a_rs);
  var c0_0: mat4x4<f32>;
  var c1_0: mat4x4<f32>;
  var c2_0: mat4x4<f32>;
  var c3_0: mat4x4<f32>;
  var c4_0: mat4x4<f32>;
  var c5_0: mat4x4<f32>;
  var c6_0: mat4x4<f32>;
  var c7_0: mat4x4<f32>;
  var c8_0: mat4x4<f32>;
  var c9_0: mat4x4<f32>;
  var c10_0: mat4x4<f32>;
  var c11_0: mat4x4<f32>;
  var c12_0: mat4x4<f32>;
  var c13_0: mat4x4<f32>;
  var c14_0: mat4x4<f32>;
  var c15_0: mat4x4<f32>;
  var c16_0: mat4x4<f32>;
  var c17_0: mat4x4<f32>;
  var c18_0: mat4x4<f32>;
  var c19_0: mat4x4<f32>;
  var c20_0: mat4x4<f32>;
  var c21_0: mat4x4<f32>;
  var c22_0: mat4x4<f32>;
  var c23_0: mat4x4<f32>;
  var c24_0: mat4x4<f32>;
  var c25_0: mat4x4<f32>;
  var c26_0: mat4x4<f32>;
  var c27_0: mat4x4<f32>;
  var c28_0: mat4x4<f32>;
  var c29_0: mat4x4<f32>;
  var c30_0: mat4x4<f32>;
  var c31_0: mat4x4<f32>;
  for (var k = 0u; k < p.K / 4u; k++) {
    let k0 = 4u * k;
    let y0 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0)], b[col4(t.bbase, k0 + 1u, t.n0)], b[col4(t.bbase, k0 + 2u, t.n0)], b[col4(t.bbase, k0 + 3u, t.n0)]);
    let y1 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 4u)], b[col4(t.bbase, k0 + 1u, t.n0 + 4u)], b[col4(t.bbase, k0 + 2u, t.n0 + 4u)], b[col4(t.bbase, k0 + 3u, t.n0 + 4u)]);
    let y2 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 8u)], b[col4(t.bbase, k0 + 1u, t.n0 + 8u)], b[col4(t.bbase, k0 + 2u, t.n0 + 8u)], b[col4(t.bbase, k0 + 3u, t.n0 + 8u)]);
    let y3 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 12u)], b[col4(t.bbase, k0 + 1u, t.n0 + 12u)], b[col4(t.bbase, k0 + 2u, t.n0 + 12u)], b[col4(t.bbase, k0 + 3u, t.n0 + 12u)]);
    let x0 = a[ar0.x + k];
    c0_0 = row_mv(c0_0, x0, y0, y1, y2, y3);
    let x1 = a[ar0.y + k];
    c1_0 = row_mv(c1_0, x1, y0, y1, y2, y3);
    let x2 = a[ar0.z + k];
    c2_0 = row_mv(c2_0, x2, y0, y1, y2, y3);
    let x3 = a[ar0.w + k];
    c3_0 = row_mv(c3_0, x3, y0, y1, y2, y3);
    let x4 = a[ar1.x + k];
    c4_0 = row_mv(c4_0, x4, y0, y1, y2, y3);
    let x5 = a[ar1.y + k];
    c5_0 = row_mv(c5_0, x5, y0, y1, y2, y3);
    let x6 = a[ar1.z + k];
    c6_0 = row_mv(c6_0, x6, y0, y1, y2, y3);
    let x7 = a[ar1.w + k];
    c7_0 = row_mv(c7_0, x7, y0, y1, y2, y3);
    let x8 = a[ar2.x + k];
    c8_0 = row_mv(c8_0, x8, y0, y1, y2, y3);
    let x9 = a[ar2.y + k];
    c9_0 = row_mv(c9_0, x9, y0, y1, y2, y3);
    let x10 = a[ar2.z + k];
    c10_0 = row_mv(c10_0, x10, y0, y1, y2, y3);
    let x11 = a[ar2.w + k];
    c11_0 = row_mv(c11_0, x11, y0, y1, y2, y3);
    let x12 = a[ar3.x + k];
    c12_0 = row_mv(c12_0, x12, y0, y1, y2, y3);
    let x13 = a[ar3.y + k];
    c13_0 = row_mv(c13_0, x13, y0, y1, y2, y3);
    let x14 = a[ar3.z + k];
    c14_0 = row_mv(c14_0, x14, y0, y1, y2, y3);
    let x15 = a[ar3.w + k];
    c15_0 = row_mv(c15_0, x15, y0, y1, y2, y3);
    let x16 = a[ar4.x + k];
    c16_0 = row_mv(c16_0, x16, y0, y1, y2, y3);
    let x17 = a[ar4.y + k];
    c17_0 = row_mv(c17_0, x17, y0, y1, y2, y3);
    let x18 = a[ar4.z + k];
    c18_0 = row_mv(c18_0, x18, y0, y1, y2, y3);
    let x19 = a[ar4.w + k];
    c19_0 = row_mv(c19_0, x19, y0, y1, y2, y3);
    let x20 = a[ar5.x + k];
    c20_0 = row_mv(c20_0, x20, y0, y1, y2, y3);
    let x21 = a[ar5.y + k];
    c21_0 = row_mv(c21_0, x21, y0, y1, y2, y3);
    let x22 = a[ar5.z + k];
    c22_0 = row_mv(c22_0, x22, y0, y1, y2, y3);
    let x23 = a[ar5.w + k];
    c23_0 = row_mv(c23_0, x23, y0, y1, y2, y3);
    let x24 = a[ar6.x + k];
    c24_0 = row_mv(c24_0, x24, y0, y1, y2, y3);
    let x25 = a[ar6.y + k];
    c25_0 = row_mv(c25_0, x25, y0, y1, y2, y3);
    let x26 = a[ar6.z + k];
    c26_0 = row_mv(c26_0, x26, y0, y1, y2, y3);
    let x27 = a[ar6.w + k];
    c27_0 = row_mv(c27_0, x27, y0, y1, y2, y3);
    let x28 = a[ar7.x + k];
    c28_0 = row_mv(c28_0, x28, y0, y1, y2, y3);
    let x29 = a[ar7.y + k];
    c29_0 = row_mv(c29_0, x29, y0, y1, y2, y3);
    let x30 = a[ar7.z + k];
    c30_0 = row_mv(c30_0, x30, y0, y1, y2, y3);
    let x31 = a[ar7.w + k];
    c31_0 = row_mv(c31_0, x31, y0, y1, y2, y3);
  }
  store(t, 0u, 0u, c0_0);
  store(t, 1u, 0u, c1_0);
  store(t, 2u, 0u, c2_0);
  store(t, 3u, 0u, c3_0);
  store(t, 4u, 0u, c4_0);
  store(t, 5u, 0u, c5_0);
  store(t, 6u, 0u, c6_0);
  store(t, 7u, 0u, c7_0);
  store(t, 8u, 0u, c8_0);
  store(t, 9u, 0u, c9_0);
  store(t, 10u, 0u, c10_0);
  store(t, 11u, 0u, c11_0);
  store(t, 12u, 0u, c12_0);
  store(t, 13u, 0u, c13_0);
  store(t, 14u, 0u, c14_0);
  store(t, 15u, 0u, c15_0);
  store(t, 16u, 0u, c16_0);
  store(t, 17u, 0u, c17_0);
  store(t, 18u, 0u, c18_0);
  store(t, 19u, 0u, c19_0);
  store(t, 20u, 0u, c20_0);
  store(t, 21u, 0u, c21_0);
  store(t, 22u, 0u, c22_0);
  store(t, 23u, 0u, c23_0);
  store(t, 24u, 0u, c24_0);
  store(t, 25u, 0u, c25_0);
  store(t, 26u, 0u, c26_0);
  store(t, 27u, 0u, c27_0);
  store(t, 28u, 0u, c28_0);
  store(t, 29u, 0u, c29_0);
  store(t, 30u, 0u, c30_0);
  store(t, 31u, 0u, c31_0);
}

@compute @workgroup_size(8)
fn tn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  var c0_0: mat4x4<f32>;
  var c1_0: mat4x4<f32>;
  var c2_0: mat4x4<f32>;
  var c3_0: mat4x4<f32>;
  var c4_0: mat4x4<f32>;
  var c5_0: mat4x4<f32>;
  var c6_0: mat4x4<f32>;
  var c7_0: mat4x4<f32>;
  var c8_0: mat4x4<f32>;
  var c9_0: mat4x4<f32>;
  var c10_0: mat4x4<f32>;
  var c11_0: mat4x4<f32>;
  var c12_0: mat4x4<f32>;
  var c13_0: mat4x4<f32>;
  var c14_0: mat4x4<f32>;
  var c15_0: mat4x4<f32>;
  var c16_0: mat4x4<f32>;
  var c17_0: mat4x4<f32>;
  var c18_0: mat4x4<f32>;
  var c19_0: mat4x4<f32>;
  var c20_0: mat4x4<f32>;
  var c21_0: mat4x4<f32>;
  var c22_0: mat4x4<f32>;
  var c23_0: mat4x4<f32>;
  var c24_0: mat4x4<f32>;
  var c25_0: mat4x4<f32>;
  var c26_0: mat4x4<f32>;
  var c27_0: mat4x4<f32>;
  var c28_0: mat4x4<f32>;
  var c29_0: mat4x4<f32>;
  var c30_0: mat4x4<f32>;
  var c31_0: mat4x4<f32>;
  for (var k = 0u; k < p.K / 4u; k++) {  // 4 steps of k per iteration, as in nn (each c row is loaded once)
    let k0 = 4u * k;
    let y0 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0)], b[col4(t.bbase, k0 + 1u, t.n0)], b[col4(t.bbase, k0 + 2u, t.n0)], b[col4(t.bbase, k0 + 3u, t.n0)]);
    let y1 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 4u)], b[col4(t.bbase, k0 + 1u, t.n0 + 4u)], b[col4(t.bbase, k0 + 2u, t.n0 + 4u)], b[col4(t.bbase, k0 + 3u, t.n0 + 4u)]);
    let y2 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 8u)], b[col4(t.bbase, k0 + 1u, t.n0 + 8u)], b[col4(t.bbase, k0 + 2u, t.n0 + 8u)], b[col4(t.bbase, k0 + 3u, t.n0 + 8u)]);
    let y3 = mat4x4<f32>(b[col4(t.bbase, k0, t.n0 + 12u)], b[col4(t.bbase, k0 + 1u, t.n0 + 12u)], b[col4(t.bbase, k0 + 2u, t.n0 + 12u)], b[col4(t.bbase, k0 + 3u, t.n0 + 12u)]);
    let x0_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 0u, p.M - 4u)) / 4u];
    let x1_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 4u, p.M - 4u)) / 4u];
    let x2_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 8u, p.M - 4u)) / 4u];
    let x3_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 12u, p.M - 4u)) / 4u];
    let x4_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 16u, p.M - 4u)) / 4u];
    let x5_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 20u, p.M - 4u)) / 4u];
    let x6_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 24u, p.M - 4u)) / 4u];
    let x7_0 = a[(t.abase + (k0 + 0u) * p.a_cs + min(t.m0 + 28u, p.M - 4u)) / 4u];
    let x0_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 0u, p.M - 4u)) / 4u];
    let x1_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 4u, p.M - 4u)) / 4u];
    let x2_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 8u, p.M - 4u)) / 4u];
    let x3_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 12u, p.M - 4u)) / 4u];
    let x4_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 16u, p.M - 4u)) / 4u];
    let x5_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 20u, p.M - 4u)) / 4u];
    let x6_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 24u, p.M - 4u)) / 4u];
    let x7_1 = a[(t.abase + (k0 + 1u) * p.a_cs + min(t.m0 + 28u, p.M - 4u)) / 4u];
    let x0_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 0u, p.M - 4u)) / 4u];
    let x1_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 4u, p.M - 4u)) / 4u];
    let x2_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 8u, p.M - 4u)) / 4u];
    let x3_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 12u, p.M - 4u)) / 4u];
    let x4_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 16u, p.M - 4u)) / 4u];
    let x5_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 20u, p.M - 4u)) / 4u];
    let x6_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 24u, p.M - 4u)) / 4u];
    let x7_2 = a[(t.abase + (k0 + 2u) * p.a_cs + min(t.m0 + 28u, p.M - 4u)) / 4u];
    let x0_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 0u, p.M - 4u)) / 4u];
    let x1_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 4u, p.M - 4u)) / 4u];
    let x2_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 8u, p.M - 4u)) / 4u];
    let x3_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 12u, p.M - 4u)) / 4u];
    let x4_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 16u, p.M - 4u)) / 4u];
    let x5_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 20u, p.M - 4u)) / 4u];
    let x6_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 24u, p.M - 4u)) / 4u];
    let x7_3 = a[(t.abase + (k0 + 3u) * p.a_cs + min(t.m0 + 28u, p.M - 4u)) / 4u];
    let x0 = vec4<f32>(x0_0.x, x0_1.x, x0_2.x, x0_3.x);
    c0_0 = row_mv(c0_0, x0, y0, y1, y2, y3);
    let x1 = vec4<f32>(x0_0.y, x0_1.y, x0_2.y, x0_3.y);
    c1_0 = row_mv(c1_0, x1, y0, y1, y2, y3);
    let x2 = vec4<f32>(x0_0.z, x0_1.z, x0_2.z, x0_3.z);
    c2_0 = row_mv(c2_0, x2, y0, y1, y2, y3);
    let x3 = vec4<f32>(x0_0.w, x0_1.w, x0_2.w, x0_3.w);
    c3_0 = row_mv(c3_0, x3, y0, y1, y2, y3);
    let x4 = vec4<f32>(x1_0.x, x1_1.x, x1_2.x, x1_3.x);
    c4_0 = row_mv(c4_0, x4, y0, y1, y2, y3);
    let x5 = vec4<f32>(x1_0.y, x1_1.y, x1_2.y, x1_3.y);
    c5_0 = row_mv(c5_0, x5, y0, y1, y2, y3);
    let x6 = vec4<f32>(x1_0.z, x1_1.z, x1_2.z, x1_3.z);
    c6_0 = row_mv(c6_0, x6, y0, y1, y2, y3);
    let x7 = vec4<f32>(x1_0.w, x1_1.w, x1_2.w, x1_3.w);
    c7_0 = row_mv(c7_0, x7, y0, y1, y2, y3);
    let x8 = vec4<f32>(x2_0.x, x2_1.x, x2_2.x, x2_3.x);
    c8_0 = row_mv(c8_0, x8, y0, y1, y2, y3);
    let x9 = vec4<f32>(x2_0.y, x2_1.y, x2_2.y, x2_3.y);
    c9_0 = row_mv(c9_0, x9, y0, y1, y2, y3);
    let x10 = vec4<f32>(x2_0.z, x2_1.z, x2_2.z, x2_3.z);
    c10_0 = row_mv(c10_0, x10, y0, y1, y2, y3);
    let x11 = vec4<f32>(x2_0.w, x2_1.w, x2_2.w, x2_3.w);
    c11_0 = row_mv(c11_0, x11, y0, y1, y2, y3);
    let x12 = vec4<f32>(x3_0.x, x3_1.x, x3_2.x, x3_3.x);
    c12_0 = row_mv(c12_0, x12, y0, y1, y2, y3);
    let x13 = vec4<f32>(x3_0.y, x3_1.y, x3_2.y, x3_3.y);
    c13_0 = row_mv(c13_0, x13, y0, y1, y2, y3);
    let x14 = vec4<f32>(x3_0.z, x3_1.z, x3_2.z, x3_3.z);
    c14_0 = row_mv(c14_0, x14, y0, y1, y2, y3);
    let x15 = vec4<f32>(x3_0.w, x3_1.w, x3_2.w, x3_3.w);
    c15_0 = row_mv(c15_0, x15, y0, y1, y2, y3);
    let x16 = vec4<f32>(x4_0.x, x4_1.x, x4_2.x, x4_3.x);
    c16_0 = row_mv(c16_0, x16, y0, y1, y2, y3);
    let x17 = vec4<f32>(x4_0.y, x4_1.y, x4_2.y, x4_3.y);
    c17_0 = row_mv(c17_0, x17, y0, y1, y2, y3);
    let x18 = vec4<f32>(x4_0.z, x4_1.z, x4_2.z, x4_3.z);
    c18_0 = row_mv(c18_0, x18, y0, y1, y2, y3);
    let x19 = vec4<f32>(x4_0.w, x4_1.w, x4_2.w, x4_3.w);
    c19_0 = row_mv(c19_0, x19, y0, y1, y2, y3);
    let x20 = vec4<f32>(x5_0.x, x5_1.x, x5_2.x, x5_3.x);
    c20_0 = row_mv(c20_0, x20, y0, y1, y2, y3);
    let x21 = vec4<f32>(x5_0.y, x5_1.y, x5_2.y, x5_3.y);
    c21_0 = row_mv(c21_0, x21, y0, y1, y2, y3);
    let x22 = vec4<f32>(x5_0.z, x5_1.z, x5_2.z, x5_3.z);
    c22_0 = row_mv(c22_0, x22, y0, y1, y2, y3);
    let x23 = vec4<f32>(x5_0.w, x5_1.w, x5_2.w, x5_3.w);
    c23_0 = row_mv(c23_0, x23, y0, y1, y2, y3);
    let x24 = vec4<f32>(x6_0.x, x6_1.x, x6_2.x, x6_3.x);
    c24_0 = row_mv(c24_0, x24, y0, y1, y2, y3);
    let x25 = vec4<f32>(x6_0.y, x6_1.y, x6_2.y, x6_3.y);
    c25_0 = row_mv(c25_0, x25, y0, y1, y2, y3);
    let x26 = vec4<f32>(x6_0.z, x6_1.z, x6_2.z, x6_3.z);
    c26_0 = row_mv(c26_0, x26, y0, y1, y2, y3);
    let x27 = vec4<f32>(x6_0.w, x6_1.w, x6_2.w, x6_3.w);
    c27_0 = row_mv(c27_0, x27, y0, y1, y2, y3);
    let x28 = vec4<f32>(x7_0.x, x7_1.x, x7_2.x, x7_3.x);
    c28_0 = row_mv(c28_0, x28, y0, y1, y2, y3);
    let x29 = vec4<f32>(x7_0.y, x7_1.y, x7_2.y, x7_3.y);
    c29_0 = row_mv(c29_0, x29, y0, y1, y2, y3);
    let x30 = vec4<f32>(x7_0.z, x7_1.z, x7_2.z, x7_3.z);
    c30_0 = row_mv(c30_0, x30, y0, y1, y2, y3);
    let x31 = vec4<f32>(x7_0.w, x7_1.w, x7_2.w, x7_3.w);
    c31_0 = row_mv(c31_0, x31, y0, y1, y2, y3);
  }
  store(t, 0u, 0u, c0_0);
  store(t, 1u, 0u, c1_0);
  store(t, 2u, 0u, c2_0);
  store(t, 3u, 0u, c3_0);
  store(t, 4u, 0u, c4_0);
  store(t, 5u, 0u, c5_0);
  store(t, 6u, 0u, c6_0);
  store(t, 7u, 0u, c7_0);
  store(t, 8u, 0u, c8_0);
  store(t, 9u, 0u, c9_0);
  store(t, 10u, 0u, c10_0);
  store(t, 11u, 0u, c11_0);
  store(t, 12u, 0u, c12_0);
  store(t, 13u, 0u, c13_0);
  store(t, 14u, 0u, c14_0);
  store(t, 15u, 0u, c15_0);
  store(t, 16u, 0u, c16_0);
  store(t, 17u, 0u, c17_0);
  store(t, 18u, 0u, c18_0);
  store(t, 19u, 0u, c19_0);
  store(t, 20u, 0u, c20_0);
  store(t, 21u, 0u, c21_0);
  store(t, 22u, 0u, c22_0);
  store(t, 23u, 0u, c23_0);
  store(t, 24u, 0u, c24_0);
  store(t, 25u, 0u, c25_0);
  store(t, 26u, 0u, c26_0);
  store(t, 27u, 0u, c27_0);
  store(t, 28u, 0u, c28_0);
  store(t, 29u, 0u, c29_0);
  store(t, 30u, 0u, c30_0);
  store(t, 31u, 0u, c31_0);
}
