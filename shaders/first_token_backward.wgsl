// first_token_backward: dinp[b, t, :] = (t == 0 ? dout[b, :] : 0). Activation gradient: written (=), every
// element of dinp, so no clearing pass is needed. One invocation owns one element of dinp.
// Reference: src/reference/first_token.ts firstTokenBackward.

override WG: u32 = 256;

struct Params { B: u32, T: u32, C: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;  // (B, T, C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (B, C)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.B * p.T * p.C) { return; }
  let c = i % p.C;
  let t = (i / p.C) % p.T;
  let b = i / (p.C * p.T);
  var v = 0.0;
  if (t == 0u) { v = dout[b * p.C + c]; }
  dinp[i] = v;
}
