// mse_forward (fused with its gradient): loss = mean over n of (pred[n] - target[n])^2 (0 when N = 0) and
// dpred = 2 (pred - target) / N, both written (=). One workgroup owns everything: invocation j owns the
// elements j, j + WG, ...; the sum is a fixed-order tree (deterministic).
//   pred, target, dpred (N); loss (1).
// Reference: src/reference/loss.ts mseForward.

override WG: u32 = 64;  // a power of two

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> loss: array<f32>;   // (1)
@group(0) @binding(1) var<storage, read_write> dpred: array<f32>;  // (N)
@group(0) @binding(2) var<storage, read> pred: array<f32>;         // (N)
@group(0) @binding(3) var<storage, read> targets: array<f32>;      // (N), the wrapper's `target`
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let inv = 1.0 / f32(max(p.N, 1u));
  var s = 0.0;
  for (var i = lid; i < p.N; i += WG) {
    let d = pred[i] - targets[i];
    s += d * d;
    dpred[i] = 2.0 * d * inv;
  }
  red[lid] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = red[0] * inv; }
}
