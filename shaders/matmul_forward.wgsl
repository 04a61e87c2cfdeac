// matmul_forward: out = inp @ weight^T + bias, batched over the rows of inp (PyTorch nn.Linear convention,
// weight stored (N, K) as in Hugging Face checkpoints).
//   inp (M, K), weight (N, K), bias (N), out (M, N); M = B*T rows, K = input features, N = output features.
// One workgroup owns a 64 x 64 tile of out; one invocation owns a 4 x 4 block of it, accumulated in registers
// over K in steps of 16 staged through workgroup memory. Activation outputs are written (=), not accumulated.
// Reference: src/reference/matmul.ts matmulForward.

struct Params { M: u32, N: u32, K: u32, has_bias: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (M, N)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (M, K)
@group(0) @binding(2) var<storage, read> weight: array<f32>;     // (N, K)
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (N) or a dummy when has_bias = 0
@group(0) @binding(4) var<uniform> p: Params;

const TILE: u32 = 64u;
const KT: u32 = 16u;
var<workgroup> a_tile: array<f32, 1024>;  // [KT][TILE], a_tile[k * TILE + m]
var<workgroup> b_tile: array<f32, 1024>;  // [KT][TILE], b_tile[k * TILE + n]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += KT) {
    // 256 invocations load 64 x 16 values of each operand: 4 each.
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;      // 0..1023
      let m = e / KT;
      let k = e % KT;
      let gm = row0 + m;
      let gk = k0 + k;
      var av = 0.0;
      if (gm < p.M && gk < p.K) { av = inp[gm * p.K + gk]; }
      a_tile[k * TILE + m] = av;
      let gn = col0 + m;
      var bv = 0.0;
      if (gn < p.N && gk < p.K) { bv = weight[gn * p.K + gk]; }
      b_tile[k * TILE + m] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = a_tile[k * TILE + lid.y * 4u + i];
        b[i] = b_tile[k * TILE + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + lid.y * 4u + i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + lid.x * 4u + j;
      if (n >= p.N) { continue; }
      var v = acc[i][j];
      if (p.has_bias != 0u) { v += bias[n]; }
      out[m * p.N + n] = v;
    }
  }
}
