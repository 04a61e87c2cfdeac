// attention_matmul_vec8: the products of attention_matmul.wgsl (same Params and formula) with vec4 loads and an
// 8 x 8 register block per invocation, for shapes where every offset and stride of a vec4 read is a multiple of
// 4 (hs % 4 = 0, T % 4 = 0). Entry points by operand layout, as in attention_matmul_vec4.wgsl:
//   nt: a k-contiguous, b(k, n) k-contiguous  (S = Q K^T, dP = dout V^T)
//   nn: a k-contiguous, b(k, n) n-contiguous  (out = P V, dQ = dS K)
//   tn: a m-contiguous, b(k, n) n-contiguous  (dV = P^T dout, dK = dS^T Q)
// One workgroup owns a (8*GM) x (8*GN) tile of one c[z]; one invocation owns an 8 x 8 block: 4 multiply-adds
// per loaded float (twice the 4 x 4 block's), which is what counts on llvmpipe, where every non-uniform load
// is a per-lane scalar loop. Rows/columns past the edge read a clamped element and are not stored. Written (=).
// Reference: src/reference/attention.ts.

const RB: u32 = 8u;      // rows per invocation (a multiple of 4; 16 measured slower on llvmpipe)
override GM: u32 = 4u;  // invocations along m
override GN: u32 = 8u;  // invocations along n

struct Params {
  M: u32, N: u32, K: u32, NH: u32,
  a_off: u32, a_bs: u32, a_hs: u32, a_rs: u32, a_cs: u32,
  b_off: u32, b_bs: u32, b_hs: u32, b_rs: u32, b_cs: u32,
  c_off: u32, c_bs: u32, c_hs: u32, c_rs: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> c: array<f32>;     // output, layout by c_* strides
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;     // left operand, layout by a_* strides
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;     // right operand, layout by b_* strides
@group(0) @binding(3) var<uniform> p: Params;

struct Tile { m0: u32, n0: u32, abase: u32, bbase: u32, cbase: u32 }

fn tile(wid: vec3<u32>, li: u32) -> Tile {
  let bi = wid.z / p.NH;
  let h = wid.z % p.NH;
  return Tile(
    (wid.y * GM + li / GN) * RB,
    (wid.x * GN + li % GN) * 8u,
    p.a_off + bi * p.a_bs + h * p.a_hs,
    p.b_off + bi * p.b_bs + h * p.b_hs,
    p.c_off + bi * p.c_bs + h * p.c_hs,
  );
}

// Stores row r of the block: columns n0..n0+3 (lo) and n0+4..n0+7 (hi).
fn store(t: Tile, r: u32, lo: vec4<f32>, hi: vec4<f32>) {
  let m = t.m0 + r;
  if (m >= p.M) { return; }
  let o = t.cbase + m * p.c_rs + t.n0;
  for (var j = 0u; j < 4u; j++) {
    if (t.n0 + j < p.N) { c[o + j] = lo[j] * p.scale; }
    if (t.n0 + 4u + j < p.N) { c[o + 4u + j] = hi[j] * p.scale; }
  }
}

// vec4 index of row `i` (clamped to `last`) of an operand with row stride `stride` (floats).
fn row4(base: u32, i: u32, last: u32, stride: u32) -> u32 {
  return (base + min(i, last) * stride) / 4u;
}

@compute @workgroup_size(GM * GN)
fn nt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ml = p.M - 1u;
  let nl = p.N - 1u;
  var ai: array<u32, RB>;
  var bj: array<u32, 8>;
  for (var r = 0u; r < RB; r++) { ai[r] = row4(t.abase, t.m0 + r, ml, p.a_rs); }
  for (var r = 0u; r < 8u; r++) { bj[r] = row4(t.bbase, t.n0 + r, nl, p.b_cs); }
  var lo: array<vec4<f32>, RB>;
  var hi: array<vec4<f32>, RB>;
  for (var k = 0u; k < p.K / 4u; k++) {
    let y0 = mat4x4<f32>(b[bj[0] + k], b[bj[1] + k], b[bj[2] + k], b[bj[3] + k]);
    let y1 = mat4x4<f32>(b[bj[4] + k], b[bj[5] + k], b[bj[6] + k], b[bj[7] + k]);
    for (var r = 0u; r < RB; r++) {
      let x = a[ai[r] + k];
      lo[r] += x * y0;
      hi[r] += x * y1;
    }
  }
  for (var r = 0u; r < RB; r++) { store(t, r, lo[r], hi[r]); }
}

@compute @workgroup_size(GM * GN)
fn nn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ml = p.M - 1u;
  var ai: array<u32, RB>;
  for (var r = 0u; r < RB; r++) { ai[r] = row4(t.abase, t.m0 + r, ml, p.a_rs); }
  let b0 = (t.bbase + min(t.n0, p.N - 4u)) / 4u;
  let b1 = (t.bbase + min(t.n0 + 4u, p.N - 4u)) / 4u;
  let bk = p.b_rs / 4u;
  var lo: array<vec4<f32>, RB>;
  var hi: array<vec4<f32>, RB>;
  for (var k = 0u; k < p.K / 4u; k++) {
    let kb = 4u * k * bk;
    let y0 = mat4x4<f32>(b[b0 + kb], b[b0 + kb + bk], b[b0 + kb + 2u * bk], b[b0 + kb + 3u * bk]);
    let y1 = mat4x4<f32>(b[b1 + kb], b[b1 + kb + bk], b[b1 + kb + 2u * bk], b[b1 + kb + 3u * bk]);
    for (var r = 0u; r < RB; r++) {
      let x = a[ai[r] + k];
      lo[r] += y0 * x;
      hi[r] += y1 * x;
    }
  }
  for (var r = 0u; r < RB; r++) { store(t, r, lo[r], hi[r]); }
}

@compute @workgroup_size(GM * GN)
fn tn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  var aq: array<u32, RB / 4u>;
  for (var q = 0u; q < RB / 4u; q++) { aq[q] = (t.abase + min(t.m0 + 4u * q, p.M - 4u)) / 4u; }
  let ak = p.a_cs / 4u;
  let b0 = (t.bbase + min(t.n0, p.N - 4u)) / 4u;
  let b1 = (t.bbase + min(t.n0 + 4u, p.N - 4u)) / 4u;
  let bk = p.b_rs / 4u;
  var lo: array<vec4<f32>, RB>;
  var hi: array<vec4<f32>, RB>;
  for (var k = 0u; k < p.K; k++) {
    let y0 = b[b0 + k * bk];  // b(k, n0..n0+3)
    let y1 = b[b1 + k * bk];  // b(k, n0+4..n0+7)
    for (var q = 0u; q < RB / 4u; q++) {
      let x = a[aq[q] + k * ak];  // a(m0+4q..m0+4q+3, k)
      for (var r = 0u; r < 4u; r++) {
        lo[4u * q + r] = fma(vec4<f32>(x[r]), y0, lo[4u * q + r]);
        hi[4u * q + r] = fma(vec4<f32>(x[r]), y1, hi[4u * q + r]);
      }
    }
  }
  for (var r = 0u; r < RB; r++) { store(t, r, lo[r], hi[r]); }
}
