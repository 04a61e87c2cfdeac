// copy_columns: out[r * outStride + outOffset + c] = inp[r * inpStride + inpOffset + c] for r < rows and
// c < width: a block of columns of a row-major matrix into a block of columns of another (the query and
// key/value projections of a cross-attention into its fused (M, 3C) q|k|v, and the gradient back).
// Writes (=); the other elements of out keep their values. Copies the 4-byte elements as bits (u32), so f32
// NaN payloads and subnormals pass unchanged and the round trip is exact.
// One invocation owns one element of the block (row r = i / width, column c = i % width); the grid may be 2D
// when rows * width exceeds 65535 workgroups.
// Reference: src/reference/copy_columns.ts copyColumns.

override WG: u32 = 256;

struct Params { rows: u32, width: u32, outStride: u32, outOffset: u32, inpStride: u32, inpOffset: u32 }

// Each tensor is (rows, stride), or shorter: it may end at the block's last element.
@group(0) @binding(0) var<storage, read_write> out: array<u32>;  // (rows, outStride)
@group(0) @binding(1) var<storage, read> inp: array<u32>;        // (rows, inpStride)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.width) { return; }
  let r = i / p.width;
  let c = i % p.width;
  out[r * p.outStride + p.outOffset + c] = inp[r * p.inpStride + p.inpOffset + c];
}
