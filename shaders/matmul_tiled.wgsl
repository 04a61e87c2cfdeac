// matmul_tiled (hardware-GPU tiling): out[z] (I, J) = alpha * A[z] (I, P) @ B[z] (J, P)^T (+ bias (J))
//   (+ out[z] when accumulating), with A and B read through strides, so any transpose needs no packing:
//   A(i, p) = a[z * batch_a + i * a_si + p * a_sp], B(j, p) = b[z * batch_b + j * b_sj + p * b_sp].
//   Used by every matmul op when the adapter is a hardware GPU (or variant "gpu" is forced).
//   Reference: src/reference/matmul.ts.
// One workgroup owns a 64 x 64 tile of out; one of its 256 invocations owns a 4 x 4 block, accumulated in
// registers over P in steps of 16 staged through workgroup memory. wid.z is the batch.
// Writes (=) by default; flags bit 0 accumulates (+=, parameter gradients), bit 1 adds bias[j].

struct Params {
  I: u32, J: u32, P: u32, a_si: u32,
  a_sp: u32, b_sj: u32, b_sp: u32, batch_a: u32,
  batch_b: u32, batch_out: u32, alpha: f32, flags: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (Z, I, J)
@group(0) @binding(1) var<storage, read> a: array<f32>;          // A through strides
@group(0) @binding(2) var<storage, read> b: array<f32>;          // B through strides
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (J) or a dummy when flags bit 1 is 0
@group(0) @binding(4) var<uniform> p: Params;

const TILE: u32 = 64u;
const KT: u32 = 16u;
var<workgroup> a_tile: array<f32, 1024>;  // [KT][TILE], a_tile[k * TILE + i]
var<workgroup> b_tile: array<f32, 1024>;  // [KT][TILE], b_tile[k * TILE + j]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i0 = wid.y * TILE;
  let j0 = wid.x * TILE;
  let za = wid.z * p.batch_a;
  let zb = wid.z * p.batch_b;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.P; k0 += KT) {
    // 256 invocations stage 64 x 16 values of each operand: 4 each.
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let m = e / KT;
      let k = e % KT;
      let gk = k0 + k;
      var av = 0.0;
      if (i0 + m < p.I && gk < p.P) { av = a[za + (i0 + m) * p.a_si + gk * p.a_sp]; }
      a_tile[k * TILE + m] = av;
      var bv = 0.0;
      if (j0 + m < p.J && gk < p.P) { bv = b[zb + (j0 + m) * p.b_sj + gk * p.b_sp]; }
      b_tile[k * TILE + m] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k++) {
      var x: array<f32, 4>;
      var y: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        x[i] = a_tile[k * TILE + lid.y * 4u + i];
        y[i] = b_tile[k * TILE + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(x[i], y[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let zo = wid.z * p.batch_out;
  for (var i = 0u; i < 4u; i++) {
    let m = i0 + lid.y * 4u + i;
    if (m >= p.I) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = j0 + lid.x * 4u + j;
      if (n >= p.J) { continue; }
      let o = zo + m * p.J + n;
      var v = p.alpha * acc[i][j];
      if ((p.flags & 2u) != 0u) { v += bias[n]; }
      if ((p.flags & 1u) != 0u) { v += out[o]; }
      out[o] = v;
    }
  }
}
