// grad_norm_final: second stage of the global gradient norm (torch.nn.utils.clip_grad_norm_):
//   norm = sqrt(sum of partials[0 .. P-1]);  clipCoef = min(1, maxNorm / (norm + 1e-6)), or 1 when not clipping.
// One workgroup; invocation t adds partials t, t + WG, ... in order, then a fixed tree in workgroup memory (=).
// Reference: src/reference/grad_norm.ts gradNorm.

override WG: u32 = 256;

struct Params { P: u32, clip: u32, maxNorm: f32 }

@group(0) @binding(0) var<storage, read_write> norm: array<f32>;      // (1)
@group(0) @binding(1) var<storage, read_write> clipCoef: array<f32>;  // (1)
@group(0) @binding(2) var<storage, read> partials: array<f32>;        // (P) sums of squares
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> sh: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.P; i += WG) { acc += partials[i]; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] += sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let total = sqrt(sh[0]);
    norm[0] = total;
    var coef = 1.0;
    if (p.clip != 0u) { coef = min(1.0, p.maxNorm / (total + 1e-6)); }
    clipCoef[0] = coef;
  }
}
