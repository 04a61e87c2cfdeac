// layernorm_backward, stage 2 of 2: dweight += sum over g of partial[0, g, :], dbias += sum of partial[1, g, :],
// summed in increasing g (deterministic). Parameter gradients accumulate (+=).
//   dweight, dbias (C); partial (2, G, C) from layernorm_backward.wgsl or layernorm_backward_rows.wgsl.
// `main`: one invocation owns one column of one of the two gradients (2 C invocations). `main4` (C % 4 = 0, for
// the rows layout of software adapters, where each access costs the same whatever its width): one vec4 of
// columns (2 C / 4 invocations), the same sums in the same order. `lanes` (GPUs, where G is rows / 4 and one
// invocation per column would add G partials in turn): a workgroup of WG = COLS x (WG / COLS) invocations owns
// COLS neighbouring columns of the 2 C; lane l adds partials g = l, l + WG / COLS, ... in increasing g, then
// the lanes' sums combine by a fixed tree in workgroup memory (deterministic; another order than `main`'s).

override WG: u32 = 64;
override COLS: u32 = 32u;  // entry `lanes`: columns per workgroup

struct Params { C: u32, G: u32 }

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>;  // (C)
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;    // (C)
@group(0) @binding(2) var<storage, read> partial: array<f32>;        // (2, G, C)
@group(0) @binding(0) var<storage, read_write> dweight4: array<vec4<f32>>;  // dweight as vec4s, for main4
@group(0) @binding(1) var<storage, read_write> dbias4: array<vec4<f32>>;    // dbias as vec4s, for main4
@group(0) @binding(2) var<storage, read> partial4: array<vec4<f32>>;        // partial as vec4s, for main4
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= 2u * p.C) { return; }
  let k = i / p.C;
  let c = i % p.C;
  var s = 0.0;
  for (var g = 0u; g < p.G; g++) { s += partial[(k * p.G + g) * p.C + c]; }
  if (k == 0u) {
    dweight[c] += s;
  } else {
    dbias[c] += s;
  }
}

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let C4 = p.C / 4u;
  let i = gid.x;
  if (i >= 2u * C4) { return; }
  let k = i / C4;
  let c = i % C4;
  var s = vec4<f32>(0.0);
  for (var g = 0u; g < p.G; g++) { s += partial4[(k * p.G + g) * C4 + c]; }
  if (k == 0u) {
    dweight4[c] += s;
  } else {
    dbias4[c] += s;
  }
}

@compute @workgroup_size(WG)
fn lanes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = column_lane(lid);
  let i = wid.x * COLS + lid % COLS;
  let k = i / p.C;
  let c = i % p.C;
  var s = 0.0;
  if (i < 2u * p.C) {
    for (var g = lane; g < p.G; g += column_lanes()) { s += partial[(k * p.G + g) * p.C + c]; }
  }
  let total = column_sum(lid, s);
  if (lane == 0u && i < 2u * p.C) {
    if (k == 0u) {
      dweight[c] += total;
    } else {
      dbias[c] += total;
    }
  }
}
