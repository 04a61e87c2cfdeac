// matmul_pack: lays one operand of a batched product out in a staging buffer as matmul_packed.wgsl's
//   rgba32float texture wants it; copyBufferToTexture then moves it into the texture (on lavapipe a copy runs at
//   ~20 GB/s, a textureStore from a shader at a tenth of that). vec4 (zl * rows + r) * pitch + k4 of dst (texel
//   (k4, zl * rows + r)) holds scale * elements 4k4..4k4+3 of row r of batch z = z0 + zl, where element (r, k)
//   of batch z = bi * NH + h sits in src at off + bi * bs + h * hs + r * s_row + k * s_k. Any strides, so a
//   transposed operand packs as cheaply. Past K the row holds zeros, except element K with TAIL: 1 for
//   TAIL = 1, tail[tail_off + r] for TAIL = 2 (a bias folded into the product: a ones column against it).
// MODE picks the loads (wid.z is zl in all three; invocations along the contiguous dimension are neighbours):
//   0: any layout; one texel per invocation, four scalar loads.
//   1: s_k = 1 and every offset and s_row a multiple of 4: one texel per invocation, one vec4 load.
//   2: s_row = 1 and every offset and s_k a multiple of 4: four texels (rows 4r4..4r4+3) per invocation from
//      four vec4 loads along r, transposed in registers.
//   3: only texel k4 = K / 4 (K % 4 = 0) of each row, staged at k4 = 0: the tail of an operand whose first K / 4
//      texels are copied straight from its tensor. One row per invocation.
// Writes (=).

struct Params {
  rows: u32, K: u32, K4: u32, NH: u32,
  off: u32, bs: u32, hs: u32, s_row: u32,
  s_k: u32, z0: u32, scale: f32, tail_off: u32,
  pitch: u32, pad0: u32, pad1: u32, pad2: u32,  // pitch: vec4s per staged row (a multiple of 16)
}

override MODE: u32 = 0u;
override TAIL: u32 = 0u;

@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;  // (zn * rows, pitch)
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> src4: array<vec4<f32>>;  // the same buffer as src
@group(0) @binding(3) var<storage, read> tail: array<f32>;  // (rows) with TAIL = 2, else a dummy
@group(0) @binding(4) var<uniform> p: Params;

fn element(base: u32, r: u32, k: u32) -> f32 {
  if (k < p.K) { return p.scale * src[base + k * p.s_k]; }
  if (k == p.K && TAIL == 1u) { return 1.0; }
  if (k == p.K && TAIL == 2u) { return tail[p.tail_off + r]; }
  return 0.0;
}

fn texel(base: u32, r: u32, k4: u32) -> vec4<f32> {
  let k = 4u * k4;
  if (MODE == 1u && k + 4u <= p.K) { return p.scale * src4[(base + k) / 4u]; }
  return vec4<f32>(element(base, r, k), element(base, r, k + 1u), element(base, r, k + 2u), element(base, r, k + 3u));
}

fn store(k4: u32, row: u32, v: vec4<f32>) {
  dst[row * p.pitch + k4] = v;
}

fn base_of(z: u32, r: u32) -> u32 {
  return p.off + (z / p.NH) * p.bs + (z % p.NH) * p.hs + r * p.s_row;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let z = p.z0 + gid.z;
  let row0 = gid.z * p.rows;
  if (MODE == 3u) {
    let r = gid.x;
    if (r < p.rows) { store(0u, row0 + r, texel(base_of(z, r), r, p.K / 4u)); }
    return;
  }
  if (MODE == 2u) {
    let r = 4u * gid.x;
    let k4 = gid.y;
    if (k4 >= p.K4 || r >= p.rows) { return; }
    let k = 4u * k4;
    if (r + 4u <= p.rows && k + 4u <= p.K) {
      // src4 at (r .. r + 3, k + j) is one vec4 (s_row = 1).
      let base = base_of(z, r);
      let c0 = p.scale * src4[(base + k * p.s_k) / 4u];
      let c1 = p.scale * src4[(base + (k + 1u) * p.s_k) / 4u];
      let c2 = p.scale * src4[(base + (k + 2u) * p.s_k) / 4u];
      let c3 = p.scale * src4[(base + (k + 3u) * p.s_k) / 4u];
      store(k4, row0 + r, vec4<f32>(c0.x, c1.x, c2.x, c3.x));
      store(k4, row0 + r + 1u, vec4<f32>(c0.y, c1.y, c2.y, c3.y));
      store(k4, row0 + r + 2u, vec4<f32>(c0.z, c1.z, c2.z, c3.z));
      store(k4, row0 + r + 3u, vec4<f32>(c0.w, c1.w, c2.w, c3.w));
    } else {
      for (var i = r; i < min(r + 4u, p.rows); i++) {
        store(k4, row0 + i, texel(base_of(z, i), i, k4));
      }
    }
    return;
  }
  var k4 = gid.x;
  var r = gid.y;
  if (MODE == 0u && p.s_row == 1u) {  // transposed layout, unaligned: invocations along r
    k4 = gid.y;
    r = gid.x;
  }
  if (k4 >= p.K4 || r >= p.rows) { return; }
  store(k4, row0 + r, texel(base_of(z, r), r, k4));
}
