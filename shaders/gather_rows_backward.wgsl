// gather_rows_backward: dinp[n, :] = dout[slot[n], :] where row n was gathered (slot[n] != 0xffffffff), 0
// elsewhere. `slot` is the inverse of the forward's `rows` (each row gathered at most once). Activation
// gradient: written (=), every element of dinp, so no clearing pass is needed. One invocation owns one element
// of dinp.
// Reference: src/reference/gather_rows.ts gatherRowsBackward.

override WG: u32 = 256;

struct Params { P: u32, N: u32, C: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;  // (N, C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (P, C)
@group(0) @binding(2) var<storage, read> slot: array<u32>;        // (N), 0xffffffff = not gathered
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.C) { return; }
  let s = slot[i / p.C];
  var v = 0.0;
  if (s < p.P) { v = dout[s * p.C + i % p.C]; }
  dinp[i] = v;
}
