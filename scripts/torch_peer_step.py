#!/usr/bin/env python3
"""Peer benchmark for `deno task bench`'s training-step cases: the same plain fine-tuning step in PyTorch with
transformers' BertForSequenceClassification, on the CPU or a CUDA GPU.

One step = forward with labels (cross-entropy), backward, global-norm clipping at 1.0, torch.optim.AdamW
(lr 1e-4, weight decay 0.01, eps 1e-8) and `loss.item()` (addrop's step also reads its loss back), in float32
with TF32 off, dropout 0.1 as in the model's config, train mode. Shapes as bench/train_bench.ts:
  bert_mini: vocab 8192, hidden 256, 4 layers, 4 heads, FFN 1024, batch 8 x 128;
  default_model: vocab 8192, hidden 128, 2 layers, 2 heads, FFN 512, batch 16 x 64;
  bert_base: vocab 30522, hidden 768, 12 layers, 12 heads, FFN 3072, batch 32 x 128 (--shapes picks).
Each case runs with the "eager" and the "sdpa" attention of transformers; medians of --steps steps after
--warmup. Nothing in CI runs this (it needs torch and transformers):

  python3 scripts/torch_peer_step.py --device cuda --json peer_cuda.json
  python3 scripts/torch_peer_step.py --device cpu --threads 2 --shapes bert_mini,default_model
"""
import argparse
import json
import statistics
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

SHAPES = {
    "bert_mini": dict(B=8, T=128, hidden=256, layers=4, heads=4),
    "default_model": dict(B=16, T=64, hidden=128, layers=2, heads=2),
    "bert_base": dict(B=32, T=128, hidden=768, layers=12, heads=12, vocab=30522),
}


def run_case(name, shape, attn, device, warmup, steps):
    cfg = BertConfig(vocab_size=shape.get("vocab", 8192), hidden_size=shape["hidden"], num_hidden_layers=shape["layers"],
                     num_attention_heads=shape["heads"], intermediate_size=4 * shape["hidden"],
                     max_position_embeddings=512, num_labels=2, attn_implementation=attn)
    torch.manual_seed(1)
    model = BertForSequenceClassification(cfg).to(device).train()
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, eps=1e-8)
    B, T = shape["B"], shape["T"]
    ids = torch.tensor([[2 if t == 0 else 5 + ((b * T + t) * 7919) % 8000 for t in range(T)] for b in range(B)],
                       device=device)
    mask = torch.ones_like(ids)
    labels = torch.arange(B, device=device) % 2

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    ms = []
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        step()
        if k >= warmup:
            ms.append((time.perf_counter() - t0) * 1000)
    return {
        "name": f"torch_{name}_plain_step_{attn}",
        "unit": "ms",
        "median": statistics.median(ms),
        "min": min(ms),
        "max": max(ms),
        "note": f"B={B} T={T}, {shape['layers']} layers, hidden {shape['hidden']}; {attn} attention; "
                f"median of {steps} steps after {warmup}",
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--shapes", default="bert_mini,default_model,bert_base")
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    import transformers
    results = [run_case(n, s, attn, dev, a.warmup, a.steps) for n, s in SHAPES.items() if n in a.shapes.split(",") for attn in ("eager", "sdpa")]
    for r in results:
        print(f"{r['name']:44} {r['median']:10.2f} ms  (min {r['min']:.2f}, max {r['max']:.2f})")
    out = {"device": name, "torch": torch.__version__, "transformers": transformers.__version__,
           "date": time.strftime("%Y-%m-%d"), "results": results}
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(out, f, indent=2)
        import os
        os.replace(a.json + ".tmp", a.json)


if __name__ == "__main__":
    main()
