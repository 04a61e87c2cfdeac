// attention_probs_forward_vec4: attention_probs_forward.wgsl (same formula, Params and bindings) with vec4 loads
// and stores, for T % 4 = 0 and every offset a multiple of 4: llvmpipe issues each storage access per lane, so
// a quarter of the accesses is most of the speed. Pass 1 takes the row's max and sum four keys at a time; pass 2
// reloads the scores and masks (no marker is written back). The sum's order differs from the scalar kernel's.
// Entry `main`: one row per invocation (software adapters); entry `lanes` (GPUs): see below.
// Reference: src/reference/attention.ts attentionProbs, dropoutKeep, scaleProbs.

override WG: u32 = 64;
override LANES: u32 = 32u;  // entry `lanes`: invocations per row, a power of two dividing WG
override HAS_ADD: bool = false;       // as in attention_probs_forward.wgsl
override WRITE_DROPPED: bool = true;
const MASKED: f32 = -1e30;
const F32_LOWEST: f32 = -3.4028234663852886e38;

struct Params {
  rows: u32, T: u32, NH: u32, has_alpha: u32,
  p_drop: f32, inv_keep: f32,
  layer: u32, slot: u32, row0: u32, b0: u32,
  probs_off: u32, drop_off: u32, add_off: u32, key_off: u32,
  alpha_off: u32,
}

@group(0) @binding(0) var<storage, read_write> probs: array<vec4<f32>>;    // (nb, NH, T, T): S in, A out
@group(0) @binding(1) var<storage, read_write> dropped: array<vec4<f32>>;  // (nb, NH, T, T) or a dummy
@group(0) @binding(2) var<storage, read> key_mask: array<vec4<f32>>;       // (nb, T)
@group(0) @binding(3) var<storage, read> add_mask: array<vec4<f32>>;       // (nb, NH, T, T) or a dummy
@group(0) @binding(4) var<storage, read> alpha: array<f32>;                // (nb) or a dummy
@group(0) @binding(5) var<storage, read> rng: array<u32>;                  // [seed, step]
@group(0) @binding(6) var<uniform> p: Params;

// Where row `lrow` (local to the chunk) lies.
struct RowAt { b: u32, base: u32, le0: u32, n4: u32, pb: u32, kb: u32, ab: u32 }

fn row_at(lrow: u32) -> RowAt {
  let row = p.row0 + lrow;
  let b = row / (p.NH * p.T);
  let le0 = lrow * p.T;  // local element index of the row
  // base: global element index of the row (the random draws)
  return RowAt(b, row * p.T, le0, p.T / 4u, (p.probs_off + le0) / 4u, (p.key_off + (b - p.b0) * p.T) / 4u,
               (p.add_off + le0) / 4u);
}

// Pass 1 over the row's vec4s first, first + step, ...: online max and sum over the unmasked keys.
fn max_sum(r: RowAt, first: u32, step: u32) -> vec2<f32> {
  var mx = F32_LOWEST;
  var sum = 0.0;
  for (var j = first; j < r.n4; j += step) {
    var m = key_mask[r.kb + j];
    if (HAS_ADD) { m += add_mask[r.ab + j]; }
    let ok = m > vec4<f32>(MASKED);
    let v = select(vec4<f32>(F32_LOWEST), probs[r.pb + j] + m, ok);
    let nmx = max(mx, max(max(v.x, v.y), max(v.z, v.w)));
    let e = select(vec4<f32>(0.0), exp(v - nmx), ok);
    sum = sum * exp(mx - nmx) + (e.x + e.y) + (e.z + e.w);
    mx = nmx;
  }
  return vec2<f32>(mx, sum);
}

// Pass 2 over the same vec4s: normalize (masked keys and all-masked rows give 0) and apply alpha and dropout.
fn write_probs(r: RowAt, first: u32, step: u32, mx: f32, sum: f32) {
  let inv = select(0.0, 1.0 / sum, sum > 0.0);
  var scale = p.inv_keep;
  if (p.has_alpha != 0u) { scale *= alpha[p.alpha_off + r.b - p.b0]; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, 1u, p.slot));
  let db = (p.drop_off + r.le0) / 4u;
  for (var j = first; j < r.n4; j += step) {
    var m = key_mask[r.kb + j];
    if (HAS_ADD) { m += add_mask[r.ab + j]; }
    let a = select(vec4<f32>(0.0), exp(probs[r.pb + j] + m - mx) * inv, m > vec4<f32>(MASKED));
    probs[r.pb + j] = a;
    if (WRITE_DROPPED) {
      let keep = rand_at4(key, r.base + 4u * j) >= vec4<f32>(p.p_drop);
      dropped[db + j] = select(vec4<f32>(0.0), a * scale, keep);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lrow = gid.x + gid.y * nwg.x * WG;
  if (lrow >= p.rows) { return; }
  let r = row_at(lrow);
  let ms = max_sum(r, 0u, 1u);
  write_probs(r, 0u, 1u, ms.x, ms.y);
}

// Entry `lanes`, for GPUs (entry `main` above is for software adapters): LANES neighbouring invocations share
// a row, lane l taking its vec4s l, l + LANES, ..., so that a warp's loads and stores cover consecutive
// addresses (with one row per invocation they lie a row apart). Each lane keeps an online max and sum; the
// lanes' pairs combine by a fixed tree in workgroup memory (deterministic, in another order than `main`'s).
// Rows past the end take part in the barriers and store nothing.

@compute @workgroup_size(WG)
fn lanes(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let lrow = lanes_row(wid, lid, nwg);
  let r = row_at(min(lrow, p.rows - 1u));  // rows past the end read the last row and store nothing
  let ms = lanes_max_sum(lid, max_sum(r, lid % LANES, LANES));
  if (lrow < p.rows) { write_probs(r, lid % LANES, LANES, ms.x, ms.y); }
}
