// matmul_transpose: out[z] (C, R) = inp[z] (R, C)^T, the packing step that gives the CPU-friendly matmul
//   kernels an operand in the layout they read as vec4 (e.g. weight^T for dinp).
// One invocation owns one element; a 16 x 16 workgroup owns a 16 x 16 tile of inp; wid.z is the batch.
// Writes (=).

struct Params { R: u32, C: u32, batch: u32, pad: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (Z, C, R)
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (Z, R, C)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * 16u + lid.x;
  let r = wid.y * 16u + lid.y;
  if (r < p.R && c < p.C) {
    let z = wid.z * p.batch;
    out[z + c * p.R + r] = inp[z + r * p.C + c];
  }
}
