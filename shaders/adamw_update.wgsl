// adamw_update: one torch.optim.AdamW step (single-tensor path of torch 2.x) on one parameter tensor, in place:
//   g = grad * clip[0]                              (clip_grad_norm_'s coefficient, written on the GPU)
//   p = p * (1 - lr * wd)                           (decoupled weight decay; only when p.decay != 0)
//   m = m.lerp(g, 1 - b1)                           (torch: m + w * (g - m) for w < 0.5, else g - (g - m) * (1 - w))
//   v = v * b2 + ((1 - b2) * g) * g                 (v.mul_(b2).addcmul_(g, g, value = 1 - b2))
//   p = p + (-lr / bc1) * (m / (sqrt(v) / sqrt(bc2) + eps))   (addcdiv_ with value = -step_size)
// The per-step scalars come from `hyper` (see src/kernels/adamw.ts adamwHyper), rewritten once per step so the
// prepared dispatches replay. Entry `main`: one invocation owns one vec4 of a range of whole vec4s. Entry
// `main_tail`: one invocation owns one scalar of the last n % 4 elements (from index p.skip of its binding).
// Parameters and optimizer state are overwritten (=). Reference: src/reference/adamw.ts adamwUpdate.

override WG: u32 = 256;

struct Params { N: u32, decay: u32, skip: u32 }

@group(0) @binding(0) var<storage, read_write> param: array<vec4<f32>>;  // (N / 4)
@group(0) @binding(1) var<storage, read_write> m: array<vec4<f32>>;      // (N / 4)
@group(0) @binding(2) var<storage, read_write> v: array<vec4<f32>>;      // (N / 4)
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;         // (N / 4)
@group(0) @binding(4) var<storage, read> hyper: array<f32>;              // (8) adamwHyper layout
@group(0) @binding(5) var<storage, read> clip: array<f32>;               // (1) clip coefficient
@group(0) @binding(6) var<uniform> p: Params;

// The scalar view of the same bindings, used only by `main_tail`.
@group(0) @binding(0) var<storage, read_write> param1: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read_write> m1: array<f32>;      // (N)
@group(0) @binding(2) var<storage, read_write> v1: array<f32>;      // (N)
@group(0) @binding(3) var<storage, read> grad1: array<f32>;         // (N)

struct State { x: vec4<f32>, m: vec4<f32>, v: vec4<f32> }

fn adamw(x0: vec4<f32>, g0: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>, decay: bool) -> State {
  let beta1 = hyper[0];
  let w1 = hyper[1];
  let beta2 = hyper[2];
  let w2 = hyper[3];
  let eps = hyper[4];
  let decayFactor = hyper[5];
  let stepSize = hyper[6];
  let bc2Sqrt = hyper[7];
  let g = g0 * clip[0];
  var x = x0;
  if (decay) { x = x * decayFactor; }
  var mNew: vec4<f32>;
  if (w1 < 0.5) {
    mNew = m0 + w1 * (g - m0);
  } else {
    mNew = g - (g - m0) * (1.0 - w1);
  }
  let vNew = v0 * beta2 + (w2 * g) * g;
  let denom = sqrt(vNew) / bc2Sqrt + eps;
  x = x + (-stepSize) * (mNew / denom);
  return State(x, mNew, vNew);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N / 4u) { return; }
  let s = adamw(param[i], grad[i], m[i], v[i], p.decay != 0u);
  param[i] = s.x;
  m[i] = s.m;
  v[i] = s.v;
}

@compute @workgroup_size(4)
fn main_tail(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = p.skip + gid.x;
  if (i >= p.N) { return; }
  let s = adamw(vec4<f32>(param1[i]), vec4<f32>(grad1[i]), vec4<f32>(m1[i]), vec4<f32>(v1[i]), p.decay != 0u);
  param1[i] = s.x.x;
  m1[i] = s.m.x;
  v1[i] = s.v.x;
}
