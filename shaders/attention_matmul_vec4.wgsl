// attention_matmul_vec4: the products of attention_matmul.wgsl (same Params and formula) with vec4 loads, for
// shapes where every offset and stride of a vec4 read is a multiple of 4 (hs % 4 = 0, T % 4 = 0, K % 4 = 0).
// Three entry points by operand layout (the contiguous dimension of a and of b):
//   nt: a k-contiguous, b(k, n) k-contiguous  (S = Q K^T, dP = dout V^T)
//   nn: a k-contiguous, b(k, n) n-contiguous  (out = P V, dQ = dS K)
//   tn: a m-contiguous, b(k, n) n-contiguous  (dV = P^T dout, dK = dS^T Q)
// One workgroup owns a (4*GM) x (4*GN) tile of one c[z]; one invocation owns a 4 x 4 block, reading eight vec4
// per 64 multiply-adds (no workgroup memory: on llvmpipe it costs as much as storage). Rows/columns past the
// edge read a clamped element and are not stored. Outputs are written (=).
// Reference: src/reference/attention.ts.

override GM: u32 = 8u;  // invocations along m
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
    (wid.y * GM + li / GN) * 4u,
    (wid.x * GN + li % GN) * 4u,
    p.a_off + bi * p.a_bs + h * p.a_hs,
    p.b_off + bi * p.b_bs + h * p.b_hs,
    p.c_off + bi * p.c_bs + h * p.c_hs,
  );
}

fn store(t: Tile, r: u32, v: vec4<f32>) {
  let m = t.m0 + r;
  if (m >= p.M) { return; }
  let o = t.cbase + m * p.c_rs + t.n0;
  let w = v * p.scale;
  if (t.n0 < p.N) { c[o] = w.x; }
  if (t.n0 + 1u < p.N) { c[o + 1u] = w.y; }
  if (t.n0 + 2u < p.N) { c[o + 2u] = w.z; }
  if (t.n0 + 3u < p.N) { c[o + 3u] = w.w; }
}

// Float index of row `i` (clamped to `last`) of an operand, in vec4 units.
fn row4(base: u32, i: u32, last: u32, stride: u32) -> u32 {
  return (base + min(i, last) * stride) / 4u;
}

@compute @workgroup_size(GM * GN)
fn nt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ml = p.M - 1u;
  let nl = p.N - 1u;
  let a0 = row4(t.abase, t.m0, ml, p.a_rs);
  let a1 = row4(t.abase, t.m0 + 1u, ml, p.a_rs);
  let a2 = row4(t.abase, t.m0 + 2u, ml, p.a_rs);
  let a3 = row4(t.abase, t.m0 + 3u, ml, p.a_rs);
  let b0 = row4(t.bbase, t.n0, nl, p.b_cs);
  let b1 = row4(t.bbase, t.n0 + 1u, nl, p.b_cs);
  let b2 = row4(t.bbase, t.n0 + 2u, nl, p.b_cs);
  let b3 = row4(t.bbase, t.n0 + 3u, nl, p.b_cs);
  var c0 = vec4<f32>();
  var c1 = vec4<f32>();
  var c2 = vec4<f32>();
  var c3 = vec4<f32>();
  for (var k = 0u; k < p.K / 4u; k++) {
    let y = mat4x4<f32>(b[b0 + k], b[b1 + k], b[b2 + k], b[b3 + k]);  // columns: rows n of b^T
    c0 += a[a0 + k] * y;
    c1 += a[a1 + k] * y;
    c2 += a[a2 + k] * y;
    c3 += a[a3 + k] * y;
  }
  store(t, 0u, c0);
  store(t, 1u, c1);
  store(t, 2u, c2);
  store(t, 3u, c3);
}

@compute @workgroup_size(GM * GN)
fn nn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let ml = p.M - 1u;
  let a0 = row4(t.abase, t.m0, ml, p.a_rs);
  let a1 = row4(t.abase, t.m0 + 1u, ml, p.a_rs);
  let a2 = row4(t.abase, t.m0 + 2u, ml, p.a_rs);
  let a3 = row4(t.abase, t.m0 + 3u, ml, p.a_rs);
  let bn = (t.bbase + min(t.n0, p.N - 4u)) / 4u;
  let bk = p.b_rs / 4u;
  var c0 = vec4<f32>();
  var c1 = vec4<f32>();
  var c2 = vec4<f32>();
  var c3 = vec4<f32>();
  for (var k = 0u; k < p.K / 4u; k++) {
    let kb = bn + 4u * k * bk;
    let y = mat4x4<f32>(b[kb], b[kb + bk], b[kb + 2u * bk], b[kb + 3u * bk]);  // columns: rows k of b
    c0 += y * a[a0 + k];
    c1 += y * a[a1 + k];
    c2 += y * a[a2 + k];
    c3 += y * a[a3 + k];
  }
  store(t, 0u, c0);
  store(t, 1u, c1);
  store(t, 2u, c2);
  store(t, 3u, c3);
}

@compute @workgroup_size(GM * GN)
fn tn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = tile(wid, li);
  let am = (t.abase + min(t.m0, p.M - 4u)) / 4u;
  let ak = p.a_cs / 4u;
  let bn = (t.bbase + min(t.n0, p.N - 4u)) / 4u;
  let bk = p.b_rs / 4u;
  var c0 = vec4<f32>();
  var c1 = vec4<f32>();
  var c2 = vec4<f32>();
  var c3 = vec4<f32>();
  for (var k = 0u; k < p.K; k++) {
    let x = a[am + k * ak];  // a(m0..m0+3, k)
    let y = b[bn + k * bk];  // b(k, n0..n0+3)
    c0 = fma(vec4<f32>(x.x), y, c0);
    c1 = fma(vec4<f32>(x.y), y, c1);
    c2 = fma(vec4<f32>(x.z), y, c2);
    c3 = fma(vec4<f32>(x.w), y, c3);
  }
  store(t, 0u, c0);
  store(t, 1u, c1);
  store(t, 2u, c2);
  store(t, 3u, c3);
}
