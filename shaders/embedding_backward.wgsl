// embedding_backward: dtable[row, c] += sum of dout[n, c] over the positions n that read that row, for one
// table (word, position or token type). Deterministic without atomics: the CPU-built bucket list (see
// src/kernels/embedding_ids.ts embeddingBuckets) gives each distinct row its positions in increasing order,
// and they are summed in that order. Parameter gradients accumulate (+=). The table may be bound in row chunks
// [row0, row0 + rows) (one dispatch each, for tables above the storage binding limit).
//   dtable chunk (rows, C); buckets (3 N + 2) u32 = [count, rows[N], offsets[N + 1], positions[N]]; dout (N, C).
// Workgroup (b, z) owns bucket b (a distinct row) and the columns [z * cols, (z + 1) * cols); invocation j the
// columns z * cols + j, + WG, ... By adapter (src/kernels/embedding.ts): software adapters one block of all C
// columns per bucket (fewer, longer workgroups), GPUs blocks of WG columns (one column per invocation, so that
// the token-type table's one or two buckets still spread over C invocations). Each column's sum has the same
// order either way, so both give the same bits.
// Reference: src/reference/embedding.ts embeddingBackward.

override WG: u32 = 64;

struct Params { N: u32, C: u32, row0: u32, rows: u32, cols: u32 }

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
  let c1 = min(p.C, (wid.z + 1u) * p.cols);
  for (var c = wid.z * p.cols + lid; c < c1; c += WG) {
    var s = 0.0;
    for (var k = k0; k < k1; k++) { s += dout[buckets[2u + 2u * p.N + k] * p.C + c]; }
    dtable[o + c] += s;
  }
}
