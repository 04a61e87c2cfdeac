// layernorm_forward: out = (inp - mean) * rstd * weight + bias over each row of C (HF nn.LayerNorm: biased
// variance, eps inside the sqrt); saves mean and rstd per row for the backward. Activations are written (=).
//   inp, out (rows, C) with rows = B*T; weight, bias (C); mean, rstd (rows).
// One workgroup owns one row; invocation j owns the columns j, j + WG, ...; the sum and then the centred sum of
// squares are workgroup tree reductions in a fixed order (deterministic). The grid may be 2D (rows > 65535).
// Reference: src/reference/layernorm.ts layernormForward.

override WG: u32 = 128;  // a power of two

struct Params { rows: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // (rows, C)
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;  // (rows)
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>;  // (rows)
@group(0) @binding(3) var<storage, read> inp: array<f32>;         // (rows, C)
@group(0) @binding(4) var<storage, read> weight: array<f32>;      // (C)
@group(0) @binding(5) var<storage, read> bias: array<f32>;        // (C)
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

// Sum of v over the workgroup, returned to every invocation.
fn workgroup_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }  // uniform over the workgroup
  let C = p.C;
  let o = row * C;
  var s = 0.0;
  for (var c = lid; c < C; c += WG) { s += inp[o + c]; }
  let m = workgroup_sum(s, lid) / f32(C);
  var v = 0.0;
  for (var c = lid; c < C; c += WG) {
    let d = inp[o + c] - m;
    v += d * d;
  }
  let r = 1.0 / sqrt(workgroup_sum(v, lid) / f32(C) + p.eps);
  for (var c = lid; c < C; c += WG) { out[o + c] = (inp[o + c] - m) * r * weight[c] + bias[c]; }
  if (lid == 0u) {
    mean[row] = m;
    rstd[row] = r;
  }
}
