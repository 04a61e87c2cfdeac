// first_token_forward: out[b, :] = inp[b, 0, :], the [CLS] / <s> representation a sequence-classification head
// reads. One invocation owns one output element.
// Reference: src/reference/first_token.ts firstTokenForward.

override WG: u32 = 256;

struct Params { B: u32, T: u32, C: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (B, C)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (B, T, C)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.B * p.C) { return; }
  let b = i / p.C;
  let c = i % p.C;
  out[i] = inp[b * p.T * p.C + c];
}
