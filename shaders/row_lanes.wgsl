// row_lanes: the helpers of the row kernels' `lanes` entries (softmax_*_vec4.wgsl, attention_probs_*_vec4.wgsl),
// appended to them by src/kernels/row_lanes.ts. LANES neighbouring invocations of a workgroup of WG share a row
// (the including shader declares both overrides); each lane reduces its vec4s l, l + LANES, ..., then the lanes'
// values combine by a fixed tree in workgroup memory, so the result is the same run to run. Every invocation of
// the workgroup must call the reduction (it holds barriers), rows past the end included, and an entry calls one
// (the result is read from workgroup memory after the last barrier).

var<workgroup> lanes_a: array<f32, WG>;
var<workgroup> lanes_b: array<f32, WG>;

// The row (local to the dispatch) of invocation lid of workgroup wid (1D or 2D grid).
fn lanes_row(wid: vec3<u32>, lid: u32, nwg: vec3<u32>) -> u32 {
  return (wid.x + wid.y * nwg.x) * (WG / LANES) + lid / LANES;
}

// The row's max and sum of exp(x - max) from each lane's (max, sum) of an online softmax.
fn lanes_max_sum(lid: u32, ms: vec2<f32>) -> vec2<f32> {
  let lane = lid % LANES;
  lanes_a[lid] = ms.x;
  lanes_b[lid] = ms.y;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      let m1 = lanes_a[lid];
      let m2 = lanes_a[lid + s];
      let m = max(m1, m2);
      lanes_b[lid] = lanes_b[lid] * exp(m1 - m) + lanes_b[lid + s] * exp(m2 - m);
      lanes_a[lid] = m;
    }
    workgroupBarrier();
  }
  return vec2<f32>(lanes_a[lid - lane], lanes_b[lid - lane]);
}

// The row's sum of each lane's x.
fn lanes_sum(lid: u32, x: f32) -> f32 {
  let lane = lid % LANES;
  lanes_a[lid] = x;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { lanes_a[lid] += lanes_a[lid + s]; }
    workgroupBarrier();
  }
  return lanes_a[lid - lane];
}
