// activation_forward: out = f(inp) elementwise, f chosen by the override KIND: 0 exact GELU
// x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), 1 tanh GELU (HF gelu_new), 2 tanh, 3 ReLU.
// One invocation owns one element; the grid may be 2D when N exceeds 65535 workgroups. Writes (=).
// Reference: src/reference/activation.ts activationForward.

override WG: u32 = 256;
override KIND: u32 = 0u;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (N)
@group(0) @binding(2) var<uniform> p: Params;

// erf to ~1.1e-7 absolute: its Taylor series below 0.84375, 1 - erfc with the Chebyshev-fitted erfc of
// Numerical Recipes (erfcc, relative error < 1.2e-7) above.
fn erf_f32(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.84375) {
    let x2 = x * x;
    var s = -1.0 / 685440.0;
    s = s * x2 + 1.0 / 75600.0;
    s = s * x2 - 1.0 / 9360.0;
    s = s * x2 + 1.0 / 1320.0;
    s = s * x2 - 1.0 / 216.0;
    s = s * x2 + 1.0 / 42.0;
    s = s * x2 - 1.0 / 10.0;
    s = s * x2 + 1.0 / 3.0;
    s = s * x2 - 1.0;
    return -(x * 1.1283791670955126) * s;
  }
  let t = 1.0 / (1.0 + 0.5 * z);
  var q = 0.17087277;
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
  return select(-r, r, x >= 0.0);
}

fn act(x: f32) -> f32 {
  if (KIND == 0u) { return 0.5 * x * (1.0 + erf_f32(x * 0.7071067811865476)); }
  if (KIND == 1u) {
    // 0.5 x (1 + tanh(u)) = x * sigmoid(2u): no cancellation for negative u. |u| <= 40 keeps exp finite.
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -40.0, 40.0);
    return x / (1.0 + exp(-2.0 * u));
  }
  if (KIND == 2u) { return tanh(clamp(x, -15.0, 15.0)); }
  return max(x, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N) { return; }
  out[i] = act(inp[i]);
}
