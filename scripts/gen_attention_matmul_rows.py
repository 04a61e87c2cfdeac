#!/usr/bin/env python3
# Regenerate with: python3 scripts/gen_attention_matmul_rows.py
# Emits shaders/attention_matmul_rows.wgsl (32 x 16 blocks held in named variables: llvmpipe keeps private
# arrays with dynamic indices in memory, so the block is spelled out like matmul_nt.wgsl) and
# shaders/attention_matmul_rows_tex.wgsl (the same kernel with 32 x 32 blocks and both operands read from
# textures). Block widths measured in throwaway probes (B = 8, T = 128, d = 64, forward + backward): from
# storage 32 x 32 ran 4-6% slower than 32 x 16; from textures 32 x 32 ran 6-8% faster (fewer fetches per
# multiply-add, and a texel fetch costs what an FMA on a block in memory does not), 64 x 32 no faster still
# (its 8 lanes span two heads) at eight times the compile time.
import os
import re
R = 32


def kernel(CN):
    """The storage kernel with R x CN blocks (CN a multiple of 16)."""
    NQ = CN // 16  # groups of 16 columns (4 mat4x4 columns each)
    acc = "\n".join("  var c%d_%d: mat4x4<f32>;" % (r, g) for r in range(R) for g in range(NQ))
    stores = "\n".join("  store(t, %du, %du, c%d_%d);" % (r, 16 * g, r, g) for r in range(R) for g in range(NQ))
    ys = lambda g: ", ".join("y%d" % (4 * g + j) for j in range(4))
    def rows_of(f, xs):
        out = []
        for r in range(R):
            out.append("    let x%d = %s;" % (r, xs(r)))
            for g in range(NQ):
                out.append("    c%d_%d = %s(c%d_%d, x%d, %s);" % (r, g, f, r, g, r, ys(g)))
        return "\n".join(out)
    rows_nt = rows_of("row_dot", lambda r: "a[ar%d.%s + k]" % (r // 4, "xyzw"[r % 4]))
    rows_nn = rows_of("row_mv", lambda r: "a[ar%d.%s + k]" % (r // 4, "xyzw"[r % 4]))
    ar = "\n".join("  let ar%d = rows4(t.abase, t.m0 + %du, p.M - 1u, p.a_rs);" % (i, 4 * i) for i in range(R // 4))
    tn_loads = "\n".join("    let x%d_%d = a[(t.abase + (k0 + %du) * p.a_cs + min(t.m0 + %du, p.M - 4u)) / 4u];" % (g, i, i, 4 * g) for i in range(4) for g in range(R // 4))
    rows_tn = rows_of("row_mv", lambda r: "vec4<f32>(x%d_0.%s, x%d_1.%s, x%d_2.%s, x%d_3.%s)" % (sum(((r // 4, "xyzw"[r % 4]),) * 4, ())))
    bcs = "\n".join("  let bc%d = rows4(t.bbase, t.n0 + %du, p.N - 1u, p.b_cs);" % (j, 4 * j) for j in range(4 * NQ))
    ynt = "\n".join("    let y%d = mat4x4<f32>(b[bc%d.x + k], b[bc%d.y + k], b[bc%d.z + k], b[bc%d.w + k]);" % ((j,) + (j,) * 4) for j in range(4 * NQ))
    off = lambda j: "t.n0" if j == 0 else "t.n0 + %du" % (4 * j)
    ynn = "\n".join("    let y%d = mat4x4<f32>(b[col4(t.bbase, k0, %s)], b[col4(t.bbase, k0 + 1u, %s)], b[col4(t.bbase, k0 + 2u, %s)], b[col4(t.bbase, k0 + 3u, %s)]);" % ((j,) + (off(j),) * 4) for j in range(4 * NQ))
    return f'''// attention_matmul_rows: the products of attention_matmul.wgsl (same Params and formula) for software adapters
// (llvmpipe), where every storage load is a per-lane scalar loop and costs far more than an FMA: one invocation
// owns a {R} x {CN} block of c ({R} rows, {CN} columns, held in {R * NQ} mat4x4: row r, columns 16g + 4q..+3 in c<r>_<g>[q]),
// so {R + CN} vec4 loads feed {R * CN * 4} multiply-adds per 4 steps of k (the 8 x 8 block of attention_matmul_vec8.wgsl:
// 16 per 256). A workgroup is 8 invocations: GN side by side along n and 8 / GN row blocks; with GN = 8 all of them
// read the same rows of a. Entry points by operand layout (every offset and stride a multiple of 4, M and N
// too; c's column stride is 1):
//   nt: a(m, k) k-contiguous, b(k, n) k-contiguous  (S = Q K^T, dP = dout V^T)
//   nn: a(m, k) k-contiguous, b(k, n) n-contiguous  (out = P V, dQ = dS K)
//   tn: a(m, k) m-contiguous, b(k, n) n-contiguous  (dV = P^T dout, dK = dS^T Q)
// Rows/columns past the edge read a clamped element and are not stored. Written (=).
// Reference: src/reference/attention.ts. (The 32 rows are spelled out: llvmpipe keeps private arrays indexed
// in loops in memory.)

const BLOCK_COLS: u32 = {CN}u;  // read by src/kernels/attention_matmul.ts
override GN: u32 = 8u;  // invocations along n ({CN} columns each): 1, 2, 4 or 8

struct Params {{
  M: u32, N: u32, K: u32, NH: u32,
  a_off: u32, a_bs: u32, a_hs: u32, a_rs: u32, a_cs: u32,
  b_off: u32, b_bs: u32, b_hs: u32, b_rs: u32, b_cs: u32,
  c_off: u32, c_bs: u32, c_hs: u32, c_rs: u32,
  scale: f32,
}}

@group(0) @binding(0) var<storage, read_write> c: array<vec4<f32>>;  // output, layout by c_* strides
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;        // left operand, layout by a_* strides
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;        // right operand, layout by b_* strides
@group(0) @binding(3) var<uniform> p: Params;

struct Tile {{ m0: u32, n0: u32, abase: u32, bbase: u32, cbase: u32 }}

fn tile(wid: vec3<u32>, li: u32) -> Tile {{
  let bi = wid.z / p.NH;
  let h = wid.z % p.NH;
  return Tile(
    (wid.y * (8u / GN) + li / GN) * {R}u,
    (wid.x * GN + li % GN) * {CN}u,
    p.a_off + bi * p.a_bs + h * p.a_hs,
    p.b_off + bi * p.b_bs + h * p.b_hs,
    p.c_off + bi * p.c_bs + h * p.c_hs,
  );
}}

// vec4 indices of four consecutive rows from `first` (clamped to `last`) of an operand with row stride `stride`.
fn rows4(base: u32, first: u32, last: u32, stride: u32) -> vec4<u32> {{
  return (base + min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * stride) / 4u;
}}

// vec4 index of columns n..n+3 (clamped to the last four) of row k of an n-contiguous operand.
fn col4(base: u32, k: u32, n: u32) -> u32 {{
  return (base + k * p.b_rs + min(n, p.N - 4u)) / 4u;
}}

// sum over i of y[i] * x[i] (y's columns are 4 steps of k), with FMAs.
fn mv(acc: vec4<f32>, y: mat4x4<f32>, x: vec4<f32>) -> vec4<f32> {{
  return fma(y[3], vec4<f32>(x.w), fma(y[2], vec4<f32>(x.z), fma(y[1], vec4<f32>(x.y), fma(y[0], vec4<f32>(x.x), acc))));
}}

// nt: acc[q][j] += dot(x, column 4q + j of b over 4 steps of k); y_q[j] holds that column's 4 values. Written as
// mv over the transposed y (the same FMAs in the same order): as four scalar dot chains per vec4, llvmpipe ran
// the product 1.25x slower (throwaway probe, 2026-11-26).
fn row_dot(acc: mat4x4<f32>, x: vec4<f32>, y0: mat4x4<f32>, y1: mat4x4<f32>, y2: mat4x4<f32>, y3: mat4x4<f32>) -> mat4x4<f32> {{
  return mat4x4<f32>(mv(acc[0], transpose(y0), x), mv(acc[1], transpose(y1), x), mv(acc[2], transpose(y2), x),
                     mv(acc[3], transpose(y3), x));
}}

// nn: acc[q] += sum over 4 steps i of k of x[i] * b(k + i, 4q..4q+3); y_q[i] = b(k + i, 4q..4q+3).
fn row_mv(acc: mat4x4<f32>, x: vec4<f32>, y0: mat4x4<f32>, y1: mat4x4<f32>, y2: mat4x4<f32>, y3: mat4x4<f32>) -> mat4x4<f32> {{
  return mat4x4<f32>(mv(acc[0], y0, x), mv(acc[1], y1, x), mv(acc[2], y2, x), mv(acc[3], y3, x));
}}

// Stores row r of the block (columns n0..n0+15 as 4 vec4), scaled, unless the row or columns lie past the edge.
fn store(t: Tile, r: u32, j: u32, v: mat4x4<f32>) {{
  let m = t.m0 + r;
  if (m >= p.M) {{ return; }}
  let o = (t.cbase + m * p.c_rs + t.n0 + j) / 4u;
  for (var q = 0u; q < 4u; q++) {{
    if (t.n0 + j + 4u * q < p.N) {{ c[o + q] = v[q] * p.scale; }}
  }}
}}

@compute @workgroup_size(8)
fn nt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {{
  let t = tile(wid, li);
{ar}
{bcs}
{acc}
  for (var k = 0u; k < p.K / 4u; k++) {{
{ynt}
{rows_nt}
  }}
{stores}
}}

@compute @workgroup_size(8)
fn nn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {{
  let t = tile(wid, li);
{ar}
{acc}
  for (var k = 0u; k < p.K / 4u; k++) {{
    let k0 = 4u * k;
{ynn}
{rows_nn}
  }}
{stores}
}}

@compute @workgroup_size(8)
fn tn(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {{
  let t = tile(wid, li);
{acc}
  for (var k = 0u; k < p.K / 4u; k++) {{  // 4 steps of k per iteration, as in nn (each c row is loaded once)
    let k0 = 4u * k;
{ynn}
{tn_loads}
{rows_tn}
  }}
{stores}
}}
'''

def textured(src):
    """The same kernel with a and b fetched from linear texture copies of their buffers (TEXTURE_WIDTH texels a
    row): every load of a[i] / b[i] becomes la(i) / lb(i)."""
    head, body = src.split("\nstruct Params", 1)
    head = head.replace(
        "// attention_matmul_rows: the products of attention_matmul.wgsl (same Params and formula) for software adapters",
        "// attention_matmul_rows_tex (generated by scripts/gen_attention_matmul_rows.py; do not edit): the products of\n"
        "// attention_matmul.wgsl (same Params and formula) for software adapters", 1)
    assert head.startswith("// attention_matmul_rows_tex")
    head = head.replace("// Reference: src/reference/attention.ts.", """// Here both operands come from textures: a and b are copied (copyBufferToTexture, a plain copy) into
// rgba32float textures, TEXTURE_WIDTH texels a row, vec4 i of the buffer at texel (i % TEXTURE_WIDTH,
// i / TEXTURE_WIDTH); the a_off / b_off offsets count from the first copied element. On llvmpipe a texel fetch
// is one vector gather where a storage load is a per-lane loop, and a kernel with no storage loads at all
// compiles to markedly better code: about 20% faster per product, the copies counted.
// Reference: src/reference/attention.ts.""", 1)
    body = body.replace(
        "@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;        // left operand, layout by a_* strides\n"
        "@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;        // right operand, layout by b_* strides\n",
        "@group(0) @binding(1) var ta: texture_2d<f32>;  // left operand, layout by a_* strides, linear (see above)\n"
        "@group(0) @binding(2) var tb: texture_2d<f32>;  // right operand, layout by b_* strides, linear\n")
    assert "texture_2d" in body
    body = body.replace("struct Tile", """const TEXTURE_WIDTH: u32 = 512u;  // read by src/kernels/attention_matmul.ts

// vec4 i of the left / right operand.
fn la(i: u32) -> vec4<f32> {
  return textureLoad(ta, vec2<u32>(i % TEXTURE_WIDTH, i / TEXTURE_WIDTH), 0);
}

fn lb(i: u32) -> vec4<f32> {
  return textureLoad(tb, vec2<u32>(i % TEXTURE_WIDTH, i / TEXTURE_WIDTH), 0);
}

struct Tile""", 1)
    body = re.sub(r"\ba\[([^\]]*)\]", r"la(\1)", body)
    body = re.sub(r"\bb\[([^\]]*)\]", r"lb(\1)", body)
    assert "a[" not in body.replace("la(", "") and not re.search(r"\bb\[", body)
    return head + "\nstruct Params" + body


HERE = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(HERE, '..', 'shaders', 'attention_matmul_rows.wgsl'), 'w').write(kernel(16))
open(os.path.join(HERE, '..', 'shaders', 'attention_matmul_rows_tex.wgsl'), 'w').write(textured(kernel(32)))
