// crossentropy_forward, pass 2 of 3 of the `invocation` layout (for CPU-emulated adapters such as llvmpipe,
// where workgroup barriers are expensive and a vec4 load costs what a scalar one does), V % 4 = 0: the same
// results as crossentropy_forward.wgsl for each row n with a target t in [0, V):
//   losses[n] = logsumexp(logits[n]) - logits[n, t],  dlogits[n, :] = (softmax(logits[n]) - onehot(t)) / count,
// count = loss[0] from crossentropy_count.wgsl; ignored rows get losses = 0 and dlogits = 0 (logits unread).
// Both are written (=). crossentropy_reduce.wgsl then averages `losses` into the scalar loss.
//   logits, dlogits (N, V / 4) vec4s; targets (N) i32; losses (N); loss (1) holding count.
// One invocation owns one row: an online softmax over vec4s (the running sum is rescaled only when the maximum
// grows), then one pass writing dlogits. No workgroup memory, no barriers; fixed order (deterministic).
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 8;

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> losses: array<f32>;         // (N)
@group(0) @binding(1) var<storage, read_write> dlogits: array<vec4<f32>>;  // (N, V / 4)
@group(0) @binding(2) var<storage, read> logits: array<vec4<f32>>;         // (N, V / 4)
@group(0) @binding(3) var<storage, read> targets: array<i32>;              // (N)
@group(0) @binding(4) var<storage, read> loss: array<f32>;                 // (1): count
@group(0) @binding(5) var<uniform> p: Params;

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let V4 = p.V / 4u;
  let o = row * V4;
  let t = targets[row];
  if (t < 0 || u32(t) >= p.V) {
    for (var c = 0u; c < V4; c++) { dlogits[o + c] = vec4<f32>(0.0); }
    losses[row] = 0.0;
    return;
  }
  let one = vec4<f32>(1.0);
  let x0 = logits[o];
  var m = max4(x0);
  var s = dot(exp(x0 - m), one);
  for (var c = 1u; c < V4; c++) {
    let x = logits[o + c];
    let mx = max(m, max4(x));
    if (mx > m) {
      s *= exp(m - mx);
      m = mx;
    }
    s += dot(exp(x - m), one);
  }
  let scale = 1.0 / max(loss[0], 1.0);
  let k = scale / s;  // one multiply per class instead of a divide
  let tv = vec4<u32>(u32(t));
  for (var c = 0u; c < V4; c++) {
    let hot = select(vec4<f32>(0.0), one, vec4<u32>(4u * c) + vec4<u32>(0u, 1u, 2u, 3u) == tv);
    dlogits[o + c] = exp(logits[o + c] - m) * k - hot * scale;
  }
  losses[row] = log(s) + m - logits[o + u32(t) / 4u][u32(t) % 4u];
}
