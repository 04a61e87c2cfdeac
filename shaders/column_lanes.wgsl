// column_lanes: the reduction of the column-sum kernels' `lanes` entries on GPUs (matmul_dbias.wgsl,
// layernorm_backward_reduce.wgsl, embedding_backward.wgsl), appended to them by src/kernels/row_lanes.ts. A
// workgroup of WG = COLS x (WG / COLS) invocations owns COLS neighbouring columns (a warp reads consecutive
// addresses); invocation lid is column lid % COLS, lane lid / COLS; each lane adds every (WG / COLS)-th term of
// its column in order, then the lanes' sums combine by a fixed tree in workgroup memory, so the result is the
// same run to run. Every invocation of the workgroup must call it (it holds barriers), once per entry.

var<workgroup> column_sums: array<f32, WG>;

// The lane of invocation lid, and the number of lanes per column.
fn column_lane(lid: u32) -> u32 {
  return lid / COLS;
}

fn column_lanes() -> u32 {
  return WG / COLS;
}

// The column's total of the lanes' sums s; meaningful in lane 0 (column_lane(lid) == 0).
fn column_sum(lid: u32, s: f32) -> f32 {
  let lane = lid / COLS;
  column_sums[lid] = s;
  workgroupBarrier();
  for (var h = WG / COLS / 2u; h > 0u; h >>= 1u) {
    if (lane < h) { column_sums[lid] += column_sums[lid + h * COLS]; }
    workgroupBarrier();
  }
  return column_sums[lid];
}
