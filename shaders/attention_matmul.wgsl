// attention_matmul: the batched, strided matrix products of self-attention (forward S = Q K^T and out = P V,
// backward dP = dout V^T, dV = P^T dout, dQ = dS K, dK = dS^T Q), one kernel for all six:
//   c[z](m, n) = scale * sum_k a[z](m, k) * b[z](k, n),   z = bi * NH + h  (example bi, head h)
//   a[z](m, k) = a[a_off + bi*a_bs + h*a_hs + m*a_rs + k*a_cs]   (any strides: transposes are free)
//   b[z](k, n) = b[b_off + bi*b_bs + h*b_hs + k*b_rs + n*b_cs]
//   c[z](m, n) = c[c_off + bi*c_bs + h*c_hs + m*c_rs + n]
// One workgroup owns a (RM*GM) x (4*GN) tile of one c[z]; one invocation owns an RM x 4 block of it in
// registers (the k loop reads RM + 4 values per 4*RM multiply-adds; no workgroup memory: on llvmpipe loads
// from workgroup memory cost as much as loads from storage). Out-of-range rows/columns read a clamped
// element and are not stored, so the inner loop has no branches. Outputs are written (=), never accumulated.
// Reference: src/reference/attention.ts (the matrix products inside attentionForward / attentionBackward).

const RM: u32 = 4u;   // rows per invocation (substituted by the wrapper)
override GM: u32 = 8u;  // invocations along m
override GN: u32 = 8u;  // invocations along n (each owns 4 columns)

struct Params {
  M: u32, N: u32, K: u32, NH: u32,
  a_off: u32, a_bs: u32, a_hs: u32, a_rs: u32, a_cs: u32,
  b_off: u32, b_bs: u32, b_hs: u32, b_rs: u32, b_cs: u32,
  c_off: u32, c_bs: u32, c_hs: u32, c_rs: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> c: array<f32>;  // output, layout by c_* strides
@group(0) @binding(1) var<storage, read> a: array<f32>;        // left operand, layout by a_* strides
@group(0) @binding(2) var<storage, read> b: array<f32>;        // right operand, layout by b_* strides
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(GM * GN)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let bi = wid.z / p.NH;
  let h = wid.z % p.NH;
  let m0 = (wid.y * GM + li / GN) * RM;
  let n0 = (wid.x * GN + li % GN) * 4u;
  let abase = p.a_off + bi * p.a_bs + h * p.a_hs;
  let bbase = p.b_off + bi * p.b_bs + h * p.b_hs;
  var arow: array<u32, RM>;
  for (var r = 0u; r < RM; r++) { arow[r] = abase + min(m0 + r, p.M - 1u) * p.a_rs; }
  let nmax = p.N - 1u;
  let bc = vec4<u32>(
    bbase + min(n0, nmax) * p.b_cs,
    bbase + min(n0 + 1u, nmax) * p.b_cs,
    bbase + min(n0 + 2u, nmax) * p.b_cs,
    bbase + min(n0 + 3u, nmax) * p.b_cs,
  );
  var acc: array<vec4<f32>, RM>;
  for (var k = 0u; k < p.K; k++) {
    let kb = k * p.b_rs;
    let bv = vec4<f32>(b[bc.x + kb], b[bc.y + kb], b[bc.z + kb], b[bc.w + kb]);
    let ka = k * p.a_cs;
    for (var r = 0u; r < RM; r++) { acc[r] = fma(vec4<f32>(a[arow[r] + ka]), bv, acc[r]); }
  }
  let cbase = p.c_off + bi * p.c_bs + h * p.c_hs;
  for (var r = 0u; r < RM; r++) {
    let m = m0 + r;
    if (m >= p.M) { break; }
    let v = acc[r] * p.scale;
    let o = cbase + m * p.c_rs + n0;
    if (n0 < p.N) { c[o] = v.x; }
    if (n0 + 1u < p.N) { c[o + 1u] = v.y; }
    if (n0 + 2u < p.N) { c[o + 2u] = v.z; }
    if (n0 + 3u < p.N) { c[o + 3u] = v.w; }
  }
}
