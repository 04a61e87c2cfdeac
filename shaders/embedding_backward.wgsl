// embedding_backward: dtable[row, c] += sum of dout[n, c] over the positions n that read that row, for one
// table (word, position or token type). Deterministic without atomics: the CPU-built bucket list (see
// src/kernels/embedding_ids.ts embeddingBuckets) gives each distinct row its positions in increasing order,
// and they are summed in that order. Parameter gradients accumulate (+=). The table may be bound in row chunks
// [row0, row0 + rows) (one dispatch each, for tables above the storage binding limit).
//   dtable chunk (rows, C); buckets (3 N + 2) u32 = [count, rows[N], offsets[N + 1], positions[N]]; dout (N, C).
// Entry `main` (software adapters): one workgroup owns one bucket (a distinct row); invocation j owns the
// columns j, j + WG, ... and adds the bucket's positions in order. Entry `lanes` (GPUs, where the token-type
// table's one or two buckets, every position of the batch, would run on a few invocations each adding N rows
// in turn): workgroup (b, z) owns bucket b and the COLS columns from z * COLS (neighbouring columns: a warp
// reads consecutive addresses); lane l of a column adds the bucket's positions l, l + WG / COLS, ... in order,
// then the lanes' sums combine by a fixed tree in workgroup memory (deterministic; another order than `main`'s).
// Reference: src/reference/embedding.ts embeddingBackward.

override WG: u32 = 64;
override COLS: u32 = 32u;  // entry `lanes`: columns per workgroup

struct Params { N: u32, C: u32, row0: u32, rows: u32 }

@group(0) @binding(0) var<storage, read_write> dtable: array<f32>;  // (rows, C): rows row0.. of the table
@group(0) @binding(1) var<storage, read> buckets: array<u32>;       // (3 N + 2)
@group(0) @binding(2) var<storage, read> dout: array<f32>;          // (N, C)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= buckets[0]) { return; }
  let row = buckets[1u + b];
  if (row < p.row0 || row - p.row0 >= p.rows) { return; }
  let k0 = buckets[1u + p.N + b];
  let k1 = buckets[2u + p.N + b];
  let o = (row - p.row0) * p.C;
  for (var c = lid; c < p.C; c += WG) {
    var s = 0.0;
    for (var k = k0; k < k1; k++) { s += dout[buckets[2u + 2u * p.N + k] * p.C + c]; }
    dtable[o + c] += s;
  }
}

@compute @workgroup_size(WG)
fn lanes(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let lane = column_lane(lid);
  let b = wid.x + wid.y * nwg.x;
  let c = wid.z * COLS + lid % COLS;
  // No early return: every invocation reaches the barriers.
  var row = 0u;
  var k0 = 0u;
  var k1 = 0u;
  if (b < buckets[0]) {
    row = buckets[1u + b];
    k0 = buckets[1u + p.N + b];
    k1 = buckets[2u + p.N + b];
  }
  let valid = b < buckets[0] && row >= p.row0 && row - p.row0 < p.rows && c < p.C;
  var s = 0.0;
  if (valid) {
    for (var k = k0 + lane; k < k1; k += column_lanes()) { s += dout[buckets[2u + 2u * p.N + k] * p.C + c]; }
  }
  let total = column_sum(lid, s);
  if (valid && lane == 0u) { dtable[(row - p.row0) * p.C + c] += total; }
}
