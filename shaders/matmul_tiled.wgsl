// matmul_tiled (hardware-GPU tiling): out[z] (I, J) = alpha * A[z] (I, P) @ B[z] (J, P)^T (+ bias (J))
//   (+ out[z] when accumulating), every operand read or written through offsets and strides, so that any
//   transpose, head split or row stride needs no packing. Batch z = bi * NH + h (example bi, head h):
//   A(i, p) = a[a_off + bi * a_bs + h * a_hs + i * a_si + p * a_sp]
//   B(j, p) = b[b_off + bi * b_bs + h * b_hs + j * b_sj + p * b_sp]
//   out(i, j) = out[c_off + bi * c_bs + h * c_hs + i * c_si + j]
//   Used on hardware GPUs (or when forced) by every matmul op (NH = 1) and by the six products of the
//   attention (src/kernels/attention_matmul.ts). Reference: src/reference/matmul.ts.
// One workgroup owns a 64 x 64 tile of out; one of its 256 invocations owns the 4 x 4 block at rows
// 4 * lid.y .. + 3 and columns 4 * lid.x .. + 3, accumulated over P in steps of 16 staged through workgroup
// memory, in four vec4 variables (one per row). No function-scope array is indexed by a loop variable: an
// NVIDIA H200 ran the previous kernel, whose 4 x 4 accumulators were such an array, at 233 GFLOP/s
// (2026-11-27; docs/gpu.md). Each operand is staged with its contiguous axis across neighbouring invocations
// (coalesced loads: k-fast when the stride along P is 1, else m-fast), into rows of 68 floats (a multiple of 4,
// so the vec4 reads stay aligned, and the k-fast stores spread over banks). Sums run over p in order, one fma
// per step, as in the previous kernel.
// Writes (=) by default; flags bit 0 accumulates (+=, parameter gradients), bit 1 adds bias[j].

struct Params {
  I: u32, J: u32, P: u32, NH: u32,
  a_off: u32, a_bs: u32, a_hs: u32, a_si: u32, a_sp: u32,
  b_off: u32, b_bs: u32, b_hs: u32, b_sj: u32, b_sp: u32,
  c_off: u32, c_bs: u32, c_hs: u32, c_si: u32,
  alpha: f32, flags: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // out through offsets and strides
@group(0) @binding(1) var<storage, read> a: array<f32>;          // A through strides
@group(0) @binding(2) var<storage, read> b: array<f32>;          // B through strides
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (J) or a dummy when flags bit 1 is 0
@group(0) @binding(4) var<uniform> p: Params;

const TILE: u32 = 64u;
const KT: u32 = 16u;
const ROW: u32 = 68u;  // floats per staged k (64 + 4 of padding)
var<workgroup> a_tile: array<f32, 1088>;  // [KT][ROW], a_tile[k * ROW + i]
var<workgroup> b_tile: array<f32, 1088>;  // [KT][ROW], b_tile[k * ROW + j]

fn tile4(is_a: bool, o: u32) -> vec4<f32> {
  if (is_a) { return vec4<f32>(a_tile[o], a_tile[o + 1u], a_tile[o + 2u], a_tile[o + 3u]); }
  return vec4<f32>(b_tile[o], b_tile[o + 1u], b_tile[o + 2u], b_tile[o + 3u]);
}

// Row m of the output block, columns n0 .. n0 + 3 (those below J).
fn store_row(m: u32, n0: u32, zo: u32, acc: vec4<f32>) {
  if (m >= p.I) { return; }
  for (var c = 0u; c < 4u; c++) {
    let n = n0 + c;
    if (n >= p.J) { return; }
    let o = zo + m * p.c_si + n;
    var v = p.alpha * acc[c];
    if ((p.flags & 2u) != 0u) { v += bias[n]; }
    if ((p.flags & 1u) != 0u) { v += out[o]; }
    out[o] = v;
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i0 = wid.y * TILE;
  let j0 = wid.x * TILE;
  let bi = wid.z / p.NH;
  let h = wid.z % p.NH;
  let za = p.a_off + bi * p.a_bs + h * p.a_hs;
  let zb = p.b_off + bi * p.b_bs + h * p.b_hs;
  let tid = lid.y * 16u + lid.x;
  let a_kfast = p.a_sp == 1u;  // uniform
  let b_kfast = p.b_sp == 1u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.P; k0 += KT) {
    // 256 invocations stage 64 x 16 values of each operand: 4 each.
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let ma = select(e % TILE, e / KT, a_kfast);
      let ka = select(e / TILE, e % KT, a_kfast);
      var av = 0.0;
      if (i0 + ma < p.I && k0 + ka < p.P) { av = a[za + (i0 + ma) * p.a_si + (k0 + ka) * p.a_sp]; }
      a_tile[ka * ROW + ma] = av;
      let mb = select(e % TILE, e / KT, b_kfast);
      let kb = select(e / TILE, e % KT, b_kfast);
      var bv = 0.0;
      if (j0 + mb < p.J && k0 + kb < p.P) { bv = b[zb + (j0 + mb) * p.b_sj + (k0 + kb) * p.b_sp]; }
      b_tile[kb * ROW + mb] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k++) {
      let x = tile4(true, k * ROW + lid.y * 4u);
      let y = tile4(false, k * ROW + lid.x * 4u);
      acc0 = fma(vec4<f32>(x.x), y, acc0);
      acc1 = fma(vec4<f32>(x.y), y, acc1);
      acc2 = fma(vec4<f32>(x.z), y, acc2);
      acc3 = fma(vec4<f32>(x.w), y, acc3);
    }
    workgroupBarrier();
  }
  let zo = p.c_off + bi * p.c_bs + h * p.c_hs;
  let m0 = i0 + lid.y * 4u;
  let n0 = j0 + lid.x * 4u;
  store_row(m0, n0, zo, acc0);
  store_row(m0 + 1u, n0, zo, acc1);
  store_row(m0 + 2u, n0, zo, acc2);
  store_row(m0 + 3u, n0, zo, acc3);
}
