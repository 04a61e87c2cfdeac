// attention_probs_backward_vec4: attention_probs_backward.wgsl (same formula, Params and bindings) with vec4
// loads and stores, for T % 4 = 0 and every offset a multiple of 4 (llvmpipe issues each storage access per
// lane). The row's dot product is summed four keys at a time, in another order than the scalar kernel's.
// Entry `main`: one row per invocation (software adapters); entry `lanes` (GPUs): see below.
// Reference: src/reference/attention.ts attentionBackward.

override WG: u32 = 64;
override LANES: u32 = 32u;  // entry `lanes`: invocations per row, a power of two dividing WG

struct Params {
  rows: u32, T: u32, NH: u32, has_alpha: u32,
  write_dprobs: u32, p_drop: f32, inv_keep: f32, layer: u32,
  slot: u32, row0: u32, b0: u32, wp_off: u32,
  ws_off: u32, dp_off: u32, probs_off: u32, alpha_off: u32,
}

@group(0) @binding(0) var<storage, read_write> work_p: array<vec4<f32>>;  // (nb, NH, T, T): dP' in, P' out
@group(0) @binding(1) var<storage, read_write> work_s: array<vec4<f32>>;  // (nb, NH, T, T): dS out
@group(0) @binding(2) var<storage, read_write> dprobs: array<vec4<f32>>;  // (nb, NH, T, T) or a dummy
@group(0) @binding(3) var<storage, read> probs: array<vec4<f32>>;         // (nb, NH, T, T): A
@group(0) @binding(4) var<storage, read> alpha: array<f32>;               // (nb) or a dummy
@group(0) @binding(5) var<storage, read> rng: array<u32>;                 // [seed, step]
@group(0) @binding(6) var<uniform> p: Params;

// Where row `lrow` (local to the chunk) lies, its alpha and its dropout stream.
struct RowAt { base: u32, n4: u32, wp: u32, ws: u32, dp: u32, pr: u32, al: f32, key: u32 }

fn row_at(lrow: u32) -> RowAt {
  let row = p.row0 + lrow;
  let b = row / (p.NH * p.T);
  let le0 = lrow * p.T;  // local element index of the row
  var al = 1.0;
  if (p.has_alpha != 0u) { al = alpha[p.alpha_off + b - p.b0]; }
  // base: global element index of the row (the random draws)
  return RowAt(row * p.T, p.T / 4u, (p.wp_off + le0) / 4u, (p.ws_off + le0) / 4u, (p.dp_off + le0) / 4u,
               (p.probs_off + le0) / 4u, al, stream_key(rng[0], stream_id(rng[1], p.layer, 1u, p.slot)));
}

// dropout's keep / (1 - p) for the four keys of vec4 j.
fn keep4(r: RowAt, j: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), vec4<f32>(p.inv_keep), rand_at4(r.key, r.base + 4u * j) >= vec4<f32>(p.p_drop));
}

// Pass 1 over the row's vec4s first, first + step, ...: dprobs (where written) and the share of sum(g * A).
fn dot_share(r: RowAt, first: u32, step: u32, store: bool) -> f32 {
  var acc = vec4<f32>(0.0);
  for (var j = first; j < r.n4; j += step) {
    let g = work_p[r.wp + j] * keep4(r, j);
    if (store && p.write_dprobs != 0u) { dprobs[r.dp + j] = g; }
    acc = fma(g, probs[r.pr + j], acc);
  }
  return (acc.x + acc.y) + (acc.z + acc.w);
}

// Pass 2 over the same vec4s: dS and P' (the product dV reads).
fn write_grads(r: RowAt, first: u32, step: u32, dot: f32) {
  for (var j = first; j < r.n4; j += step) {
    let w = keep4(r, j);
    let a = probs[r.pr + j];
    work_s[r.ws + j] = a * (r.al * work_p[r.wp + j] * w - dot);
    work_p[r.wp + j] = r.al * a * w;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lrow = gid.x + gid.y * nwg.x * WG;
  if (lrow >= p.rows) { return; }
  let r = row_at(lrow);
  write_grads(r, 0u, 1u, r.al * dot_share(r, 0u, 1u, true));
}

// Entry `lanes`, for GPUs (entry `main` above is for software adapters): LANES neighbouring invocations share
// a row, lane l taking its vec4s l, l + LANES, ... (consecutive addresses across a warp). The row's dot product
// adds each lane's share, then the lanes' shares by a fixed tree in workgroup memory (deterministic, in another
// order than `main`'s). Rows past the end take part in the barriers and store nothing.

@compute @workgroup_size(WG)
fn lanes(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let lrow = lanes_row(wid, lid, nwg);
  let r = row_at(min(lrow, p.rows - 1u));  // rows past the end read the last row and store nothing
  let dot = lanes_sum(lid, dot_share(r, lid % LANES, LANES, lrow < p.rows));
  if (lrow < p.rows) { write_grads(r, lid % LANES, LANES, r.al * dot); }
}
