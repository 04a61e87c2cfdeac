// activation_backward: dinp = dout * f'(inp) elementwise (= by default, += when the override ACC is 1: an
// activation gradient accumulates only where a tensor has two consumers). f chosen by KIND as in
// activation_forward.wgsl: 0 exact GELU, 1 tanh GELU (HF gelu_new), 2 tanh, 3 ReLU (f'(0) = 0), 4 SiLU.
// One invocation owns one vec4 (elements 4i .. 4i + 3; the last one writes only the elements below N); the
// grid may be 2D when N / 4 exceeds 65535 workgroups.
// Reference: src/reference/activation.ts activationBackward.

override WG: u32 = 256;
override KIND: u32 = 0u;
override ACC: u32 = 0u;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> dinp: array<vec4<f32>>;  // (N), padded to whole vec4s
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;        // (N), padded to whole vec4s
@group(0) @binding(2) var<storage, read> inp: array<vec4<f32>>;         // (N), padded to whole vec4s
@group(0) @binding(3) var<uniform> p: Params;

// erf to ~1.1e-7 absolute, per component: its Taylor series below 0.84375, 1 - erfc with the Chebyshev-fitted
// erfc of Numerical Recipes (erfcc, relative error < 1.2e-7) above. Both are computed and selected (SIMD lanes
// would run both branches anyway).
fn erf4(x: vec4<f32>) -> vec4<f32> {
  let z = abs(x);
  let x2 = x * x;
  var s = vec4<f32>(-1.0 / 685440.0);
  s = s * x2 + 1.0 / 75600.0;
  s = s * x2 - 1.0 / 9360.0;
  s = s * x2 + 1.0 / 1320.0;
  s = s * x2 - 1.0 / 216.0;
  s = s * x2 + 1.0 / 42.0;
  s = s * x2 - 1.0 / 10.0;
  s = s * x2 + 1.0 / 3.0;
  s = s * x2 - 1.0;
  let small = -(x * 1.1283791670955126) * s;
  let t = 1.0 / (1.0 + 0.5 * z);
  var q = vec4<f32>(0.17087277);
  q = q * t - 0.82215223;
  q = q * t + 1.48851587;
  q = q * t - 1.13520398;
  q = q * t + 0.27886807;
  q = q * t - 0.18628806;
  q = q * t + 0.09678418;
  q = q * t + 0.37409196;
  q = q * t + 1.00002368;
  q = q * t - 1.26551223;
  let r = 1.0 - t * exp(q - z * z);
  return select(select(-r, r, x >= vec4<f32>(0.0)), small, z < vec4<f32>(0.84375));
}

// dout * f'(x); ReLU selects, so that an infinite dout at a dropped unit gives 0, not NaN.
fn grad(x: vec4<f32>, g: vec4<f32>) -> vec4<f32> {
  if (KIND == 0u) {
    let cdf = 0.5 * (1.0 + erf4(x * 0.7071067811865476));
    return g * (cdf + x * exp(-0.5 * x * x) * 0.3989422804014327);
  }
  if (KIND == 1u) {
    // d/dx [x * sigmoid(2u)] = s + 2 x s (1 - s) u' with s = sigmoid(2u), 1 - s = e s, e = exp(-2u):
    // no cancellation in 1 - tanh^2 for large |u|. |u| <= 40 keeps exp finite.
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), vec4<f32>(-40.0), vec4<f32>(40.0));
    let e = exp(-2.0 * u);
    let s = 1.0 / (1.0 + e);
    let du = 0.7978845608028654 * (1.0 + 0.134145 * x * x);
    return g * (s + 2.0 * x * s * (e * s) * du);
  }
  if (KIND == 2u) {
    let th = tanh(clamp(x, vec4<f32>(-15.0), vec4<f32>(15.0)));
    return g * (1.0 - th * th);
  }
  if (KIND == 4u) {
    // d/dx [x s] = s + x s (1 - s) with s = sigmoid(x), 1 - s = e s, e = exp(-x): no cancellation in 1 - s
    // for large x. |x| <= 80 keeps e finite (e s would be inf * 0 below); beyond, f' is 1 in f32 or
    // below 1.5e-33.
    let xc = clamp(x, vec4<f32>(-80.0), vec4<f32>(80.0));
    let e = exp(-xc);
    let s = 1.0 / (1.0 + e);
    return g * (s * (1.0 + xc * (e * s)));
  }
  return select(vec4<f32>(0.0), g, x > vec4<f32>(0.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (4u * i >= p.N) { return; }
  var v = grad(inp[i], dout[i]);
  if (ACC == 1u) { v += dinp[i]; }
  if (4u * i + 3u < p.N) {
    dinp[i] = v;
  } else {
    for (var k = 0u; 4u * i + k < p.N; k++) { dinp[i][k] = v[k]; }
  }
}
