// reduce_partial: first stage of a deterministic sum (or sum of squares when SQUARE) over N floats of one
// binding range. Entry `main`: workgroup w owns the ITEMS * WG vec4s from w * ITEMS * WG on (set by adapter in
// src/kernels/reduce.ts: WG = 8, ITEMS = 512 on software adapters, where each barrier is a costly round of
// coroutine switches; WG = 256, ITEMS = 8 on GPUs); invocation t adds vec4s t, t + WG, ... (ITEMS of them) in
// a fixed order, then a fixed tree in workgroup memory; writes partials[base + w] (=).
// Entry `main_tail`: one invocation adds elements skip .. N-1 (the last N % 4 of a tensor) into partials[base].
// The final stage (reduce_final.wgsl, grad_norm_final.wgsl) adds the partials in index order.
// Reference: src/reference/reduce.ts reduceSum, src/reference/grad_norm.ts gradNorm.

override WG: u32 = 256;
override SQUARE: bool = false;
override ITEMS: u32 = 16u;

struct Params { N: u32, base: u32, groups: u32, skip: u32 }

@group(0) @binding(0) var<storage, read_write> partials: array<f32>;  // (P) all partial sums of a reduction
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;       // (N / 4)
@group(0) @binding(2) var<uniform> p: Params;

// Scalar view of the input, used only by `main_tail`.
@group(0) @binding(1) var<storage, read> inp1: array<f32>;            // (N)

var<workgroup> sh: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= p.groups) { return; }
  let n4 = p.N / 4u;
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < ITEMS; k++) {
    let i = (w * ITEMS + k) * WG + lid;
    if (i < n4) {
      let x = inp[i];
      acc += select(x, x * x, SQUARE);
    }
  }
  sh[lid] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] += sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.base + w] = sh[0]; }
}

@compute @workgroup_size(1)
fn main_tail() {
  var acc = 0.0;
  for (var i = p.skip; i < p.N; i++) {
    let x = inp1[i];
    acc += select(x, x * x, SQUARE);
  }
  partials[p.base] = acc;
}
