// crossentropy_forward, pass 2 of 2: loss = sum of losses over the non-ignored rows / count (0 when no row is
// valid), summed by one workgroup in a fixed order (deterministic; no readback needed). Written (=).
//   loss (1); losses (N) from crossentropy_forward.wgsl; targets (N) i32, valid when in [0, V).
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 64;  // a power of two

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> loss: array<f32>;  // (1)
@group(0) @binding(1) var<storage, read> losses: array<f32>;      // (N)
@group(0) @binding(2) var<storage, read> targets: array<i32>;     // (N)
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> red_s: array<f32, WG>;
var<workgroup> red_c: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var c = 0.0;
  for (var i = lid; i < p.N; i += WG) {
    s += losses[i];
    let t = targets[i];
    c += select(0.0, 1.0, t >= 0 && u32(t) < p.V);
  }
  red_s[lid] = s;
  red_c[lid] = c;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      red_s[lid] += red_s[lid + k];
      red_c[lid] += red_c[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = select(0.0, red_s[0] / red_c[0], red_c[0] > 0.0); }
}
