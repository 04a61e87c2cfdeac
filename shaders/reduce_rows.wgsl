// reduce_rows: out[first + r] = sum of row r of inp (rows, L), for the rows of one binding range.
// One workgroup owns one row; invocation t adds elements t, t + WG, ... in order, then a fixed tree in
// workgroup memory (=). Reference: src/reference/reduce.ts reduceRowSum.

override WG: u32 = 128;

struct Params { L: u32, rows: u32, first: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (R)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (rows, L)
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> sh: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; }
  var acc = 0.0;
  let base = r * p.L;
  for (var j = lid; j < p.L; j += WG) { acc += inp[base + j]; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] += sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[p.first + r] = sh[0]; }
}
