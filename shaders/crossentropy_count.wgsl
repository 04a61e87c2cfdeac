// crossentropy_count, pass 1 of 3 of the `invocation` layout of the cross-entropy: loss[0] = count, the number
// of rows whose target is in [0, V), summed by one workgroup in a fixed order. `loss` only parks the count for
// crossentropy_forward_rows*.wgsl (pass 2); crossentropy_reduce.wgsl (pass 3) overwrites it with the mean loss.
//   loss (1); targets (N) i32.
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 64;  // a power of two

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> loss: array<f32>;  // (1)
@group(0) @binding(1) var<storage, read> targets: array<i32>;     // (N)
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red_c: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var c = 0.0;
  for (var i = lid; i < p.N; i += WG) {
    let t = targets[i];
    c += select(0.0, 1.0, t >= 0 && u32(t) < p.V);
  }
  red_c[lid] = c;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red_c[lid] += red_c[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = red_c[0]; }
}
