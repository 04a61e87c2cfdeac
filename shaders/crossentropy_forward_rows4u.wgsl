// crossentropy_forward, passes 2-4 of 5 of the `invocation` layout when V % 4 != 0 (V >= 5) and N * V % 4 = 0
// (OPUS-MT's vocabularies of 58,101 to 65,001 words, a 9-label NER head over an even number of tokens). The rows
// then start anywhere within a vec4; they are read through the aligned vec4s that overlap them (the neighbours'
// elements masked out) instead of one scalar at a time as crossentropy_forward_rows.wgsl does, at the cost of a
// vec4 load each on CPU-emulated adapters. For each row n with a target t in [0, V):
//   losses[n] = logsumexp(logits[n]) - logits[n, t],  dlogits[n, :] = (softmax(logits[n]) - onehot(t)) / count,
// count = loss[0] from crossentropy_count.wgsl; ignored rows get losses = 0 and dlogits = 0 whatever their logits
// hold. Both are written (=). crossentropy_reduce.wgsl (pass 5) then averages `losses` into the scalar loss.
//   main (pass 2), one invocation per row: an online softmax over the row's vec4s (the running sum rescaled only
//     when the maximum grows), losses[n] = lse_n = logsumexp(logits[n]), then dlogits for the vec4s that lie
//     inside the row (read again while in cache), as crossentropy_forward_rows4.wgsl does;
//   boundary (pass 3), one invocation per row n < N - 1: the vec4 holding the end of row n and the start of row
//     n + 1 when they share one (with V >= 5 no vec4 spans three rows), from lse_n and lse_{n+1};
//   finish (pass 4), one invocation per row: losses[n] = lse_n - logits[n, t].
//   logits, dlogits (N * V / 4) vec4s, the (N, V) matrices flat; targets (N) i32; losses (N); loss (1) holding
//   count. No workgroup memory, no barriers; fixed order (deterministic).
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 8;

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> losses: array<f32>;         // (N)
@group(0) @binding(1) var<storage, read_write> dlogits: array<vec4<f32>>;  // (N * V / 4)
@group(0) @binding(2) var<storage, read> logits: array<vec4<f32>>;         // (N * V / 4)
@group(0) @binding(3) var<storage, read> targets: array<i32>;              // (N)
@group(0) @binding(4) var<storage, read> loss: array<f32>;                 // (1): count
@group(0) @binding(5) var<uniform> p: Params;

// Stands in for the neighbours' elements: below any logit, and exp(LOW - m) = 0 for any finite m.
const LOW = -3.0e38;
const LANES = vec4<u32>(0u, 1u, 2u, 3u);

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

fn row_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn valid(t: i32) -> bool {
  return t >= 0 && u32(t) < p.V;
}

// The vec4 q with the elements outside row n's [o, o + V) replaced by LOW.
fn masked(q: u32, o: u32) -> vec4<f32> {
  let e = vec4<u32>(4u * q) + LANES;
  return select(vec4<f32>(LOW), logits[q], e >= vec4<u32>(o) & e < vec4<u32>(o + p.V));
}

// The gradient of the elements of vec4 q for row n (those of other rows come out as if of row n: the caller
// selects), 0 for a row without a target whatever its logits hold.
fn grad(q: u32, n: u32, scale: f32) -> vec4<f32> {
  let t = targets[n];
  if (!valid(t)) { return vec4<f32>(0.0); }
  let c = vec4<u32>(4u * q) + LANES - vec4<u32>(n * p.V);  // the columns (wrapped below the row: no match)
  let hot = select(vec4<f32>(0.0), vec4<f32>(1.0), c == vec4<u32>(u32(t)));
  return (exp(logits[q] - losses[n]) - hot) * scale;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = row_index(gid, nwg);
  if (row >= p.N) { return; }
  let o = row * p.V;
  // The vec4s inside the row: [inner, outer); the ones holding its first and last elements may be partial.
  let inner = (o + 3u) / 4u;
  let outer = (o + p.V) / 4u;
  let t = targets[row];
  if (!valid(t)) {
    for (var q = inner; q < outer; q++) { dlogits[q] = vec4<f32>(0.0); }
    losses[row] = 0.0;
    return;
  }
  let first = o / 4u;
  let last = (o + p.V - 1u) / 4u;
  let one = vec4<f32>(1.0);
  let x0 = masked(first, o);
  var m = max4(x0);
  var s = dot(exp(x0 - m), one);
  for (var q = first + 1u; q < last; q++) {
    let x = logits[q];
    let mx = max(m, max4(x));
    if (mx > m) {
      s *= exp(m - mx);
      m = mx;
    }
    s += dot(exp(x - m), one);
  }
  let x = masked(last, o);
  let mx = max(m, max4(x));
  if (mx > m) {
    s *= exp(m - mx);
    m = mx;
  }
  s += dot(exp(x - m), one);
  losses[row] = log(s) + m;
  let scale = 1.0 / max(loss[0], 1.0);
  let k = scale / s;  // one multiply per class instead of a divide
  let tv = vec4<u32>(o + u32(t));
  for (var q = inner; q < outer; q++) {
    let hot = select(vec4<f32>(0.0), one, vec4<u32>(4u * q) + LANES == tv);
    dlogits[q] = exp(logits[q] - m) * k - hot * scale;
  }
}

@compute @workgroup_size(WG)
fn boundary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = row_index(gid, nwg);
  let next = (row + 1u) * p.V;  // the next row's first element
  if (row + 1u >= p.N || next % 4u == 0u) { return; }
  let q = next / 4u;
  let scale = 1.0 / max(loss[0], 1.0);
  let e = vec4<u32>(4u * q) + LANES;
  dlogits[q] = select(grad(q, row + 1u, scale), grad(q, row, scale), e < vec4<u32>(next));
}

@compute @workgroup_size(WG)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = row_index(gid, nwg);
  if (row >= p.N) { return; }
  let t = targets[row];
  if (!valid(t)) { return; }
  let e = row * p.V + u32(t);
  losses[row] -= logits[e / 4u][e % 4u];
}
