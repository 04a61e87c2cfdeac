// reduce_final: second stage of a deterministic sum: out[0] = sum of partials[0 .. P-1]. One workgroup;
// invocation t adds partials t, t + WG, t + 2 WG, ... in order, then a fixed tree in workgroup memory (=).
// Reference: src/reference/reduce.ts reduceSum.

override WG: u32 = 256;

struct Params { P: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // (1)
@group(0) @binding(1) var<storage, read> partials: array<f32>;    // (P)
@group(0) @binding(2) var<uniform> p: Params;

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
  if (lid == 0u) { out[0] = sh[0]; }
}
