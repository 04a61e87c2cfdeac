// random: the counter-based generator of src/reference/random.ts, appended to the shaders that draw (their own
// line numbers stay as in their files; WGSL declarations are order-independent). Uniform draws in [0, 1) with
// 24 bits: element i of stream `stream` under `seed` is rand_uniform(seed, stream, i) =
// rand_at(stream_key(seed, stream), i); streams are stream_id(step, layer, purpose, slot).

fn pcg_hash(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn pcg_hash4(v: vec4<u32>) -> vec4<u32> {
  let s = v * 747796405u + vec4<u32>(2891336453u);
  let w = ((s >> ((s >> vec4<u32>(28u)) + vec4<u32>(4u))) ^ s) * 277803737u;
  return (w >> vec4<u32>(22u)) ^ w;
}

// The per-stream part of a draw (hoist it out of loops over elements).
fn stream_key(seed: u32, stream: u32) -> u32 {
  return pcg_hash(stream ^ pcg_hash(seed));
}

fn rand_at(key: u32, i: u32) -> f32 {
  return f32(pcg_hash(i ^ key) >> 8u) * (1.0 / 16777216.0);
}

// Draws for elements i .. i + 3.
fn rand_at4(key: u32, i: u32) -> vec4<f32> {
  let h = pcg_hash4((vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u)) ^ vec4<u32>(key));
  return vec4<f32>(h >> vec4<u32>(8u)) * (1.0 / 16777216.0);
}

fn rand_uniform(seed: u32, stream: u32, i: u32) -> f32 {
  return rand_at(stream_key(seed, stream), i);
}

fn stream_id(step: u32, layer: u32, purpose: u32, slot: u32) -> u32 {
  return pcg_hash(pcg_hash(step) ^ ((layer + 1u) * 0x9e3779b1u) ^ (purpose << 24u) ^ slot);
}
