// gather_rows_forward: out[p, :] = inp[rows[p], :], the rows a masked-language-model head predicts (the masked
// positions of a batch, see src/model/mlm_head.ts). One invocation owns one output element.
// Reference: src/reference/gather_rows.ts gatherRowsForward.

override WG: u32 = 256;

struct Params { P: u32, N: u32, C: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (P, C)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (N, C)
@group(0) @binding(2) var<storage, read> rows: array<u32>;       // (P), each < N
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.P * p.C) { return; }
  let r = i / p.C;
  let c = i % p.C;
  out[i] = inp[rows[r] * p.C + c];
}
