// matmul_dbias: dbias (N) += sum over rows m of dout (M, N), the bias gradient of matmulBackward. Deterministic
// (fixed orders, no atomics); parameter gradient: accumulated (+=).
// Entry `main` (software adapters): one invocation owns one column and sums its M rows in ascending order.
// Entry `lanes` (GPUs, where N invocations each adding M rows in turn leave the card nearly idle behind one
// long chain of loads): a workgroup of WG = COLS x LANES invocations owns COLS neighbouring columns (a warp
// reads consecutive addresses); lane l of a column adds rows l, l + LANES, ... in ascending order, then the
// lanes' sums combine by a fixed tree in workgroup memory.

struct Params { M: u32, N: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> dbias: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> dout: array<f32>;         // (M, N)
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;
override COLS: u32 = 32u;  // entry `lanes`: columns per workgroup; LANES = WG / COLS rows in parallel

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) { s += dout[m * p.N + n]; }
  dbias[n] += s;
}

@compute @workgroup_size(WG)
fn lanes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = column_lane(lid);
  let n = wid.x * COLS + lid % COLS;
  var s = 0.0;
  if (n < p.N) {
    for (var m = lane; m < p.M; m += column_lanes()) { s += dout[m * p.N + n]; }
  }
  let total = column_sum(lid, s);
  if (lane == 0u && n < p.N) { dbias[n] += total; }
}
