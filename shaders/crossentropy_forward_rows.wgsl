// crossentropy_forward, pass 2 of 3 of the `invocation` layout for any V (crossentropy_forward_rows4.wgsl is
// the vec4 form for V % 4 = 0): for each row n with a target t in [0, V):
//   losses[n] = logsumexp(logits[n]) - logits[n, t],  dlogits[n, :] = (softmax(logits[n]) - onehot(t)) / count,
// count = loss[0] from crossentropy_count.wgsl; ignored rows get losses = 0 and dlogits = 0 (logits unread).
// Both are written (=). crossentropy_reduce.wgsl then averages `losses` into the scalar loss.
//   logits, dlogits (N, V); targets (N) i32; losses (N); loss (1) holding count.
// One invocation owns one row: an online softmax (the running sum is rescaled only when the maximum grows),
// then one pass writing dlogits. No workgroup memory, no barriers; fixed order (deterministic).
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 8;

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> losses: array<f32>;   // (N)
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;  // (N, V)
@group(0) @binding(2) var<storage, read> logits: array<f32>;         // (N, V)
@group(0) @binding(3) var<storage, read> targets: array<i32>;        // (N)
@group(0) @binding(4) var<storage, read> loss: array<f32>;           // (1): count
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let V = p.V;
  let o = row * V;
  let t = targets[row];
  if (t < 0 || u32(t) >= V) {
    for (var v = 0u; v < V; v++) { dlogits[o + v] = 0.0; }
    losses[row] = 0.0;
    return;
  }
  var m = logits[o];
  var s = 1.0;
  for (var v = 1u; v < V; v++) {
    let x = logits[o + v];
    if (x > m) {
      s *= exp(m - x);
      m = x;
    }
    s += exp(x - m);
  }
  let scale = 1.0 / max(loss[0], 1.0);
  let k = scale / s;  // one multiply per class instead of a divide
  for (var v = 0u; v < V; v++) {
    dlogits[o + v] = exp(logits[o + v] - m) * k - select(0.0, scale, v == u32(t));
  }
  losses[row] = log(s) + m - logits[o + u32(t)];
}
