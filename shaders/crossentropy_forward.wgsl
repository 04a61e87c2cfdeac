// crossentropy_forward, pass 1 of 2 (fused softmax, cross-entropy and its gradient): for each row n of logits
// with a target t in [0, V) (any other target, e.g. -100, is ignored):
//   losses[n] = logsumexp(logits[n]) - logits[n, t],  dlogits[n, :] = (softmax(logits[n]) - onehot(t)) / count,
// count = the number of non-ignored rows; ignored rows get losses = 0 and dlogits = 0. Both are written (=).
// crossentropy_reduce.wgsl then averages `losses` into the scalar loss.
//   logits, dlogits (N, V); targets (N) i32; losses (N).
// One workgroup owns one row; invocation j owns the classes j, j + WG, ...; the row maximum and the sum of
// exponentials are one pass of an online softmax, merged by a fixed-order tree (deterministic), as is count.
// Reference: src/reference/loss.ts crossEntropyForward.

override WG: u32 = 256;  // a power of two

struct Params { N: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> losses: array<f32>;   // (N)
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;  // (N, V)
@group(0) @binding(2) var<storage, read> logits: array<f32>;         // (N, V)
@group(0) @binding(3) var<storage, read> targets: array<i32>;        // (N)
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;
var<workgroup> red_c: array<f32, WG>;

// Merges the softmax partials (m1, s1) and (m2, s2): running maximum and sum of exp(x - maximum).
fn merge(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  if (s2 == 0.0) { return vec2<f32>(m1, s1); }
  if (s1 == 0.0) { return vec2<f32>(m2, s2); }
  let m = max(m1, m2);
  return vec2<f32>(m, s1 * exp(m1 - m) + s2 * exp(m2 - m));
}

fn valid(t: i32) -> bool {
  return t >= 0 && u32(t) < p.V;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.N) { return; }  // uniform over the workgroup
  let V = p.V;
  let o = row * V;
  var cnt = 0.0;
  for (var i = lid; i < p.N; i += WG) { cnt += select(0.0, 1.0, valid(targets[i])); }
  var m = 0.0;
  var s = 0.0;
  for (var v = lid; v < V; v += WG) {
    let x = logits[o + v];
    if (s == 0.0) {
      m = x;
      s = 1.0;
    } else if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  red_m[lid] = m;
  red_s[lid] = s;
  red_c[lid] = cnt;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      let r = merge(red_m[lid], red_s[lid], red_m[lid + k], red_s[lid + k]);
      red_m[lid] = r.x;
      red_s[lid] = r.y;
      red_c[lid] += red_c[lid + k];
    }
    workgroupBarrier();
  }
  let mx = red_m[0];
  let sum = red_s[0];
  let count = red_c[0];
  let t = targets[row];
  let ok = valid(t);
  // An ignored row, or no valid row at all: zero loss and gradient (never 0 / 0), whatever its logits hold
  // (selected, not multiplied by 0: NaN or an overflowing exp would survive that).
  let scale = 1.0 / max(count, 1.0);
  for (var v = lid; v < V; v += WG) {
    let sm = exp(logits[o + v] - mx) / sum;
    dlogits[o + v] = select(0.0, (sm - select(0.0, 1.0, u32(t) == v)) * scale, ok);
  }
  if (lid == 0u) {
    losses[row] = select(0.0, log(sum) + mx - logits[o + min(u32(max(t, 0)), V - 1u)], ok);
  }
}
