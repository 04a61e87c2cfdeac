#!/usr/bin/env python3
# The README's speed table from a `deno task bench --json FILE` result, with each figure's target and whether it
# is met: python3 scripts/bench_table.py docs/bench.json
# Memory-bound kernels are compared with the copy timed interleaved with them (the "x copy" of their note);
# adamw_update and grad_norm, which have none of their own, with the copy measured beside adamw_update (its
# note's "of copy_bandwidth X GB/s"). The attention's ratio is the median over rounds of an attention sample
# against the mean of matmul samples timed right before and after it (attention_fwd_bwd_b8_h12_t128_d64_vs_matmul).
import json, re, sys
d = json.load(open(sys.argv[1]))
R = {r["name"]: r for r in d["results"]}
def m(n): return R[n]["median"] if n in R else float("nan")
def f(x, unit):
    return f"{x:.0f} {unit}" if x >= 100 else f"{x:.1f} {unit}" if x >= 10 else f"{x:.2f} {unit}"
def beside_adamw():
    mm = re.search(r"of copy_bandwidth ([0-9.]+) GB/s", R.get("adamw_update", {}).get("note", ""))
    return float(mm.group(1)) if mm else m("copy_bandwidth")
def ratio(n):
    note = R.get(n, {}).get("note", "")
    mm = re.search(r"([0-9.]+)x copy", note)
    if mm:
        return float(mm.group(1)), ""
    copy = beside_adamw()
    return m(n) / copy, f" of {copy:.2f} GB/s"
def tex_vs_storage():
    mm = re.search(r"whose time is ([0-9.]+)x", R.get("attention_fwd_bwd_b8_h12_t128_d64_storage", {}).get("note", ""))
    return f"{float(mm.group(1)):.2f}x" if mm else "?"
def met(ok):
    return "met" if ok else "not met"
def row(name, value, target):
    return (f"`{name}`", value, target)
def backward(name):
    x = mat / m(name)  # the backward's time over the forward's
    return row(name, f(m(name), "GFLOP/s"), f"within 1.5x of forward ({x:.2f}x time: {met(x <= 1.5)})")
plain = m("bert_mini_plain_step")
mat = m("matmul_1024x768x768")
att = m("attention_fwd_bwd_b8_h12_t128_d64_vs_matmul")
rows = [
    row("copy_bandwidth", f(m("copy_bandwidth"), "GB/s"), "(yardstick)"),
    row("matmul_1024x768x768", f(mat, "GFLOP/s"), f">= 40 ({met(mat >= 40)}; packed-texture kernel)"),
    row("matmul_1024x768x768_storage", f(m("matmul_1024x768x768_storage"), "GFLOP/s"),
        "the storage-buffer kernel (`cpu-storage`), same run"),
    backward("matmul_backward_dinp_1024x768x768"),
    backward("matmul_backward_dweight_1024x768x768"),
]
if "matmul_1024x512x8191" in R:
    rows.append(row("matmul_1024x512x8191", f(m("matmul_1024x512x8191"), "GFLOP/s"),
                    f"N % 4 = 3 (an LM head): scalar stores of c; the tiled fallback "
                    f"{f(m('matmul_1024x512x8191_tiled'), 'GFLOP/s')}"))
rows += [
    row("attention_fwd_bwd_b8_h12_t128_d64", f(m("attention_fwd_bwd_b8_h12_t128_d64"), "GFLOP/s"),
        f">= half the matmul's ({att:.2f}x, interleaved: {met(att >= 0.5)})"),
    row("attention_fwd_bwd_b8_h12_t128_d64_with_dA", f(m("attention_fwd_bwd_b8_h12_t128_d64_with_dA"), "GFLOP/s"),
        "also writing dA (AD-DROP's attribution pass), timed alone"),
    row("attention_fwd_bwd_b8_h12_t128_d64_storage", f(m("attention_fwd_bwd_b8_h12_t128_d64_storage"), "GFLOP/s"),
        f"storage operands, interleaved (textures: {tex_vs_storage()} its time)"),
    row("attention_fwd_bwd_b8_h12_t128_d64_block8", f(m("attention_fwd_bwd_b8_h12_t128_d64_block8"), "GFLOP/s"),
        "the 8 x 8 block kernel (forced), same run"),
]
if "attention_fwd_bwd_b8_h12_t128_d64_in_sequence" in R:
    rows.append(row("attention_fwd_bwd_b8_h12_t128_d64_in_sequence",
                    f(m("attention_fwd_bwd_b8_h12_t128_d64_in_sequence"), "ms"),
                    f"by dispatch (timestamps; each alone: {f(m('attention_fwd_bwd_b8_h12_t128_d64_alone'), 'ms')})"))
MEMORY_BOUND = ["layernorm_forward", "layernorm_backward", "gelu_forward", "gelu_backward",
                "softmax_forward_12288x128", "cross_entropy", "cross_entropy_v8191", "adamw_update", "grad_norm"]
for n in MEMORY_BOUND:
    if n in R:
        r, of = ratio(n)
        rows.append(row(n, f(m(n), "GB/s"), f">= 0.5x copy ({r:.2f}x{of}: {met(r >= 0.5)})"))
rows += [
    row("bert_mini_plain_step", f(plain, "ms"), f"<= 700 ms ({met(plain <= 700)})"),
    row("bert_mini_plain_step_memory", f(m("bert_mini_plain_step_memory"), "MB"), ""),
]
if "bert_mini_plain_step_by_kernel" in R:
    k = "bert_mini_plain_step_by_kernel"
    fam = sorted(((n[len(k) + 1:], m(n)) for n in R if n.startswith(k + "_")), key=lambda x: -x[1])
    rows.append(row(k, f(m(k), "ms"), "timestamps: " + ", ".join(f"{n} {100 * v / m(k):.0f}%" for n, v in fam[:3])))
if "bert_mini_plain_step_t127" in R:
    rows.append(row("bert_mini_plain_step_t127", f(m("bert_mini_plain_step_t127"), "ms"),
                    f"T = 127 unpadded: {m('bert_mini_plain_step_t127_ratio'):.2f}x the T = 128 step "
                    "(why batches pad to 8)"))
if "default_model_plain_step_in_flight" in R:
    rows.append(row("default_model_plain_step_in_flight", f(m("default_model_plain_step_in_flight"), "ms"),
                    f"{m('default_model_plain_step_speedup'):.2f}x as fast as awaited steps "
                    f"({f(m('default_model_plain_step_awaited'), 'ms')}), interleaved"))
for n, t in [("grad_layer0", 1.7), ("grad_all", 1.75), ("ig_layer0", 15), ("ig_all", 40)]:
    k = f"bert_mini_addrop_{n}_step"
    if k in R:
        x = m(k + "_ratio") if (k + "_ratio") in R else m(k) / plain
        rows.append(row(k, f(m(k), "ms"), f"{x:.2f}x plain, target <= {t}x ({met(x <= t)})"))
LOADS = ["load_storage_divergent", "load_storage_uniform", "load_uniform_buffer", "load_workgroup",
         "load_texture", "load_none_fma"]
for n in LOADS:
    if n in R:
        rows.append(row(n, f"{m(n):.2f} ns/load", "per invocation, one vec4 (docs/speed.md)"))
w = [max(len(r[i]) for r in rows + [("benchmark", "median", "target")]) for i in range(3)]
print(f"| {'benchmark'.ljust(w[0])} | {'median'.rjust(w[1])} | {'target'.ljust(w[2])} |")
print(f"| {'-'*w[0]} | {'-'*(w[1]-1)}: | {'-'*w[2]} |")
for r in rows:
    print(f"| {r[0].ljust(w[0])} | {r[1].rjust(w[1])} | {r[2].ljust(w[2])} |")
