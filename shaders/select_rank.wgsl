// select_rank: per row r of scores (R, L), L <= 512, over the row's first n = min(lengths[r / rowsPerExample], L)
// entries sorted ascending (ties kept), the AD-DROP threshold:
//   high: thr[r] = sorted[k], k = floor((1 - p) * n) in f32; +inf when k >= n (n = 0 or p = 0: no candidates)
//   low:  thr[r] = sorted[c - 1], c = ceil(p * n) in f32; -inf when c = 0 (no candidates)
// Exact by counting: sorted[k] = min { x_j : #{x <= x_j} > k } (ties included); the minimum is taken with
// atomicMin on an order-preserving u32 key of the f32 bits, so the result is the same every run (-0 and +0
// compare equal and either may be returned). Scores must not be NaN.
// One workgroup owns one row (in workgroup memory as vec4s, +inf past n); invocation t owns the four entries
// 4t .. 4t + 3 (WG = L / 4 rounded up to a power of two, at least 32). Thresholds are written (=).
// Reference: src/reference/select.ts selectRank.

override WG: u32 = 128;
const LMAX4: u32 = 128u; // 512 floats

struct Params { L: u32, rows: u32, first: u32, rowsPerExample: u32, p: f32, low: u32 }

@group(0) @binding(0) var<storage, read_write> thr: array<f32>;   // (R)
@group(0) @binding(1) var<storage, read> scores: array<f32>;      // (rows, L) this range's rows
@group(0) @binding(2) var<storage, read> lengths: array<u32>;     // (R / rowsPerExample) real entries per row
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> row: array<vec4<f32>, LMAX4>;
var<workgroup> best: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; }
  let g = p.first + r;
  let n = min(lengths[g / p.rowsPerExample], p.L);
  let inf = bitcast<f32>(0x7f800000u);
  var k: u32;
  var valid: bool;
  if (p.low == 0u) {
    k = u32(floor((1.0 - p.p) * f32(n)));
    valid = k < n;
  } else {
    let c = min(u32(ceil(p.p * f32(n))), n);
    valid = c > 0u;
    k = max(c, 1u) - 1u;
  }
  let n4 = (n + 3u) / 4u;
  let base = r * p.L;
  for (var b = lid; b < n4; b += WG) {
    var x = vec4<f32>(inf);
    for (var c = 0u; c < 4u; c++) {
      let j = 4u * b + c;
      if (j < n) { x[c] = scores[base + j]; }
    }
    row[b] = x;
  }
  if (lid == 0u) { atomicStore(&best, 0xffffffffu); }
  workgroupBarrier();
  if (valid && lid < n4) {
    let own = row[lid];
    var upto = vec4<u32>(0u);
    for (var b = 0u; b < n4; b++) {
      let x = row[b];
      upto += select(vec4<u32>(0u), vec4<u32>(1u), vec4<f32>(x.x) <= own);
      upto += select(vec4<u32>(0u), vec4<u32>(1u), vec4<f32>(x.y) <= own);
      upto += select(vec4<u32>(0u), vec4<u32>(1u), vec4<f32>(x.z) <= own);
      upto += select(vec4<u32>(0u), vec4<u32>(1u), vec4<f32>(x.w) <= own);
    }
    for (var c = 0u; c < 4u; c++) {
      if (4u * lid + c < n && upto[c] > k) { atomicMin(&best, order_key(own[c])); }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    var t = select(inf, -inf, p.low != 0u);
    if (valid) { t = from_order_key(atomicLoad(&best)); }
    thr[g] = t;
  }
}

// Maps f32 bits to u32 so that unsigned order equals float order (NaN excluded).
fn order_key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn from_order_key(key: u32) -> f32 {
  return bitcast<f32>(select(~key, key & 0x7fffffffu, (key & 0x80000000u) != 0u));
}

// Entry `main_rows` (software adapters, where a workgroup barrier is a round of coroutine switches and the
// O(n^2) count above costs n^2 compares per row): one invocation per row, no workgroup memory. The row's
// order keys sit in private memory (+max past n) and the threshold's key is built bit by bit from the top:
// keep bit b clear if more than k keys are <= (prefix | (2^b - 1)), else set it; 32 counts of n compares.
// The result is the smallest key with more than k keys at or below it, i.e. sorted[k] in key order (-0 before
// +0, as a sort of the f32 values orders them).
@compute @workgroup_size(8)
fn main_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 8u;
  if (r >= p.rows) { return; }
  let g = p.first + r;
  let n = min(lengths[g / p.rowsPerExample], p.L);
  var k: u32;
  var valid: bool;
  if (p.low == 0u) {
    k = u32(floor((1.0 - p.p) * f32(n)));
    valid = k < n;
  } else {
    let c = min(u32(ceil(p.p * f32(n))), n);
    valid = c > 0u;
    k = max(c, 1u) - 1u;
  }
  if (!valid) {
    thr[g] = select(bitcast<f32>(0x7f800000u), bitcast<f32>(0xff800000u), p.low != 0u);
    return;
  }
  let n4 = (n + 3u) / 4u;
  let base = r * p.L;
  var keys: array<vec4<u32>, LMAX4>;
  for (var b = 0u; b < n4; b++) {
    var x = vec4<u32>(0xffffffffu);
    for (var c = 0u; c < 4u; c++) {
      let j = 4u * b + c;
      if (j < n) { x[c] = order_key(scores[base + j]); }
    }
    keys[b] = x;
  }
  var prefix = 0u;
  for (var bit = 32u; bit > 0u; bit--) {
    let one = 1u << (bit - 1u);
    let t = vec4<u32>(prefix | (one - 1u));
    var cnt = vec4<u32>(0u);
    for (var b = 0u; b < n4; b++) {
      cnt += select(vec4<u32>(0u), vec4<u32>(1u), keys[b] <= t);
    }
    if ((cnt.x + cnt.y) + (cnt.z + cnt.w) <= k) { prefix |= one; }
  }
  thr[g] = from_order_key(prefix);
}
