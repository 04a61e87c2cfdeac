// embedding_forward: out[n, c] = wte[ids[n], c] + (wpe[pos_ids[n], c] + wtt[type_ids[n], c]), written (=).
// The word table may be bound in row chunks [row0, row0 + rows) (one dispatch each, for tables above the
// storage binding limit): the first chunk writes every element (the word term only where ids[n] falls in its
// rows), later chunks add their word rows to the elements whose id they hold. Float addition commutes, so the
// result is the same bits for any chunking.
//   out (N, C); ids, pos_ids, type_ids (N) u32; wte chunk (rows, C); wpe (P, C); wtt (TT, C); N = B*T.
// One invocation owns one element of out; the grid may be 2D when N*C exceeds 65535 workgroups.
// Reference: src/reference/embedding.ts embeddingForward.

override WG: u32 = 256;

struct Params { N: u32, C: u32, row0: u32, rows: u32, first: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (N, C)
@group(0) @binding(1) var<storage, read> ids: array<u32>;        // (N)
@group(0) @binding(2) var<storage, read> pos_ids: array<u32>;    // (N)
@group(0) @binding(3) var<storage, read> type_ids: array<u32>;   // (N)
@group(0) @binding(4) var<storage, read> wte: array<f32>;        // (rows, C): rows row0.. of (V, C)
@group(0) @binding(5) var<storage, read> wpe: array<f32>;        // (P, C)
@group(0) @binding(6) var<storage, read> wtt: array<f32>;        // (TT, C)
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.C) { return; }
  let n = i / p.C;
  let c = i % p.C;
  let r = ids[n] - p.row0;  // wraps around (large) for ids below the chunk
  let mine = ids[n] >= p.row0 && r < p.rows;
  if (p.first == 1u) {
    let base = wpe[pos_ids[n] * p.C + c] + wtt[type_ids[n] * p.C + c];
    out[i] = select(base, wte[r * p.C + c] + base, mine);
  } else if (mine) {
    out[i] = wte[r * p.C + c] + out[i];
  }
}
