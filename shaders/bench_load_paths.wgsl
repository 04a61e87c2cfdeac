// bench_load_paths (benchmark only, bench/load_paths_bench.ts): what one vec4 load costs an invocation on
// this adapter, by where it comes from. Each invocation sums L vec4 loads (16 per loop iteration into 4
// accumulators) from the source picked by the override MODE and writes the sum (so nothing is optimised away):
//   0 storage buffer, a different address per invocation   1 storage buffer, the same address in a workgroup
//   2 uniform buffer, a different address per invocation   3 workgroup memory, a different address
//   4 no load: one FMA per step instead (the loop's own cost)
//   5 rgba32float texture (textureLoad), a different texel per invocation
// One invocation owns one output vec4.

override MODE: u32 = 0u;
override L: u32 = 1024u;  // loads per invocation, a multiple of 16

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;  // (invocations)
@group(0) @binding(1) var<storage, read> s: array<vec4<f32>>;          // (16384)
@group(0) @binding(2) var<uniform> u: array<vec4<f32>, 4096>;
@group(0) @binding(3) var t: texture_2d<f32>;                           // (128 x 128)

var<workgroup> w: array<vec4<f32>, 1024>;

fn load(k: u32, lid: u32, wid: u32) -> vec4<f32> {
  switch (MODE) {
    case 0u: { return s[(lid * 37u + k * 64u) & 16383u]; }
    case 1u: { return s[(wid * 37u + k * 64u) & 16383u]; }
    case 2u: { return u[(lid * 37u + k * 8u) & 4095u]; }
    case 3u: { return w[(lid * 37u + k * 8u) & 1023u]; }
    case 5u: {
      let i = (lid * 37u + k * 64u) & 16383u;
      return textureLoad(t, vec2<u32>(i & 127u, i >> 7u), 0);
    }
    default: { return vec4<f32>(f32(k)); }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  var a = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  w[lid.x] = vec4<f32>(f32(lid.x));
  workgroupBarrier();
  for (var kk = 0u; kk < L / 16u; kk++) {
    for (var r = 0u; r < 16u; r++) {
      let k = kk * 16u + r;
      if (MODE == 4u) {
        a[r & 3u] = fma(a[r & 3u], vec4<f32>(1.0001), load(k, lid.x, wid.x));
      } else {
        a[r & 3u] += load(k, lid.x, wid.x);
      }
    }
  }
  out[wid.x * 64u + lid.x] = a[0] + a[1] + a[2] + a[3];
}
