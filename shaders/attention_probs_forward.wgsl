// attention_probs_forward: per (b, h, i) row of scaled scores S (written into `probs` by attention_matmul):
//   A = softmax(S + keyMask[b] + addMask[b, h, i]) over the keys whose total additive mask is > MASKED
//   (masked keys get exactly 0; a row with no unmasked key is all 0; f32-min + f32-min = -inf is still
//   "masked", so it never reaches exp), written over S in `probs`; and, with WRITE_DROPPED,
//   dropped = alpha[b] * A * keep / (1 - p_drop), keep = rand_uniform(seed, stream_id(step, layer, 1, slot), e)
//   >= p_drop with e the flat (b, h, i, j) index (the generator of src/reference/random.ts).
// One invocation owns one row (two passes: online max and sum, then write). Outputs are written (=).
// A dispatch covers rows row0 .. row0 + rows - 1 (examples from b0 on; several when the tensors exceed the
// binding limit, see src/kernels/attention_chunks.ts): each binding holds those examples from element `*_off`
// on, while e, b and the random draws use global indices.
// Reference: src/reference/attention.ts attentionProbs, dropoutKeep, scaleProbs.

override WG: u32 = 64;
// Overrides rather than uniform flags: llvmpipe runs a branch on a uniform flag inside the loops as masked,
// divergent code (the vec4 kernel measured 8% faster with them, throwaway probe).
override HAS_ADD: bool = false;       // addMask bound
override WRITE_DROPPED: bool = true;  // dropped written
const MASKED: f32 = -1e30;
const F32_LOWEST: f32 = -3.4028234663852886e38;

struct Params {
  rows: u32, T: u32, NH: u32, has_alpha: u32,
  p_drop: f32, inv_keep: f32,
  layer: u32, slot: u32, row0: u32, b0: u32,
  probs_off: u32, drop_off: u32, add_off: u32, key_off: u32,
  alpha_off: u32,
}

@group(0) @binding(0) var<storage, read_write> probs: array<f32>;    // (nb, NH, T, T): S in, A out
@group(0) @binding(1) var<storage, read_write> dropped: array<f32>;  // (nb, NH, T, T) or a dummy
@group(0) @binding(2) var<storage, read> key_mask: array<f32>;       // (nb, T)
@group(0) @binding(3) var<storage, read> add_mask: array<f32>;       // (nb, NH, T, T) or a dummy
@group(0) @binding(4) var<storage, read> alpha: array<f32>;          // (nb) or a dummy
@group(0) @binding(5) var<storage, read> rng: array<u32>;            // [seed, step]
@group(0) @binding(6) var<uniform> p: Params;

// The additive mask of key j in the row whose first element is `le0` (local index).
fn total_mask(b: u32, le0: u32, j: u32) -> f32 {
  var m = key_mask[p.key_off + (b - p.b0) * p.T + j];
  if (HAS_ADD) { m += add_mask[p.add_off + le0 + j]; }
  return m;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lrow = gid.x + gid.y * nwg.x * WG;
  if (lrow >= p.rows) { return; }
  let row = p.row0 + lrow;
  let b = row / (p.NH * p.T);
  let base = row * p.T;   // global element index of the row (the random draws)
  let le0 = lrow * p.T;   // local element index of the row
  let pb = p.probs_off + le0;
  // Pass 1: online max and sum; each masked key's score becomes the marker F32_LOWEST.
  var mx = F32_LOWEST;
  var sum = 0.0;
  for (var j = 0u; j < p.T; j++) {
    let m = total_mask(b, le0, j);
    let ok = m > MASKED;
    let v = probs[pb + j] + m;
    let nmx = select(mx, max(mx, v), ok);
    sum = sum * exp(mx - nmx) + select(0.0, exp(v - nmx), ok);
    mx = nmx;
    probs[pb + j] = select(F32_LOWEST, v, ok);
  }
  // Pass 2: normalize (masked keys and all-masked rows give 0) and apply alpha and dropout.
  let inv = select(0.0, 1.0 / sum, sum > 0.0);
  var scale = p.inv_keep;
  if (p.has_alpha != 0u) { scale *= alpha[p.alpha_off + b - p.b0]; }
  let key = stream_key(rng[0], stream_id(rng[1], p.layer, 1u, p.slot));
  for (var j = 0u; j < p.T; j++) {
    let v = probs[pb + j];
    let a = select(0.0, exp(v - mx) * inv, v > MASKED);
    probs[pb + j] = a;
    if (WRITE_DROPPED) {
      let keep = rand_at(key, base + j) >= p.p_drop;
      dropped[p.drop_off + le0 + j] = select(0.0, a * scale, keep);
    }
  }
}
