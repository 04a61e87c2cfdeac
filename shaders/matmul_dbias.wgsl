// matmul_dbias: dbias (N) += sum over rows m of dout (M, N), the bias gradient of matmulBackward.
// One invocation owns one column and sums its M rows in ascending order (a fixed order: deterministic, no
// atomics). Parameter gradient: accumulated (+=).

struct Params { M: u32, N: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> dbias: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> dout: array<f32>;         // (M, N)
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) { s += dout[m * p.N + n]; }
  dbias[n] += s;
}
