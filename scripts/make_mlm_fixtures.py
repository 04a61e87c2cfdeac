#!/usr/bin/env python3
"""Golden fixtures for masked-language-model pretraining: a tiny random `BertForMaskedLM` checkpoint
(tests/fixtures/bert_mlm) and six AdamW steps of it on fixed, already masked batches, computed by a plain-torch
BERT in float64 (make_fixtures.forward's encoder) with Hugging Face's MLM head:

  head: h = LayerNorm(gelu(transform.dense(x)), eps 1e-12); logits = h @ word_embeddings^T + cls.predictions.bias
      (the decoder weight IS bert.embeddings.word_embeddings.weight: one leaf, so its gradient is the embedding
      lookup's plus the decoder's; nn.Embedding's padding_idx keeps the lookup's share of the [PAD] row at zero,
      the decoder's share is not).
  loss: cross entropy over every position with ignore_index -100 (mean over the labelled positions), as
      BertForMaskedLM computes it.
  optimizer: as src/pipeline/pretrain.ts wires it: dropout off, constant lr 1e-3, torch.optim.AdamW(betas
      (0.9, 0.999), eps 1e-6, weight_decay 0.01; 0.3 in `decay`) with no decay for biases and LayerNorm weights,
      clip_grad_norm_(1.0) in `clip`.

The batches are masked here (BERT's rule: per row max(1, round(0.15 n)) of the n non-special real tokens, of
those 80% [MASK], 10% a random non-special token, 10% unchanged); the test feeds the masked ids and the labels
as pretrain.ts passes them, so the masking code itself is not part of this check.

Outputs (float32 safetensors; layout in tests/fixtures/README.md): tests/fixtures/bert_mlm/{config.json,
model.safetensors,vocab.txt,steps.safetensors}.
Run: /usr/bin/python3 scripts/make_mlm_fixtures.py  (needs python3-torch and numpy; deterministic).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
import make_training_fixtures as mtf  # noqa: E402

OUT = os.path.join(mf.ROOT, "bert_mlm")
VOCAB = mf.WORDPIECE_VOCAB[:50]
PAD, CLS, SEP, MASK = 0, 2, 3, 4
SPECIAL = 5  # ids below are [PAD] [UNK] [CLS] [SEP] [MASK]
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-6
SHAPES = [(3, 16), (2, 12), (3, 16), (3, 10), (2, 16), (3, 14)]


def config():
    return mf.base_config("bert", architectures=["BertForMaskedLM"], vocab_size=len(VOCAB),
                          max_position_embeddings=16)


def param_shapes(cfg):
    """BertForMaskedLM's tensors: the encoder without pooler, the transform and the decoder bias (the tied
    decoder weight is not stored, as save_pretrained drops tied copies)."""
    s = {k: v for k, v in mf.param_shapes({**cfg, "id2label": {}}, "token").items() if not k.startswith("classifier")}
    C, V = cfg["hidden_size"], cfg["vocab_size"]
    t = "cls.predictions.transform."
    s.update({t + "dense.weight": (C, C), t + "dense.bias": (C,), t + "LayerNorm.weight": (C,),
              t + "LayerNorm.bias": (C,), "cls.predictions.bias": (V,)})
    return s


def mlm_forward(cfg, P, ids, mask, types):
    """Logits (B, T, V) of BertForMaskedLM over every position."""
    x = mtf.bert_encoder(cfg, P, ids, mask, types)[0]
    eps, e = cfg["layer_norm_eps"], "bert.embeddings."
    lin = lambda name, v: F.linear(v, P[name + ".weight"], P[name + ".bias"])
    ln = lambda name, v: F.layer_norm(v, (v.shape[-1],), P[name + ".weight"], P[name + ".bias"], eps)
    t = "cls.predictions.transform."
    h = ln(t + "LayerNorm", mf.act(cfg["hidden_act"], lin(t + "dense", x)))
    return h @ P[e + "word_embeddings.weight"].T + P["cls.predictions.bias"]


def make_batches(gen):
    """Padded batches ([CLS] a [SEP] [b [SEP]]: row 0 full length, the others shorter) masked by BERT's rule;
    returns them and how many labelled positions became [MASK], a random token and stayed unchanged."""
    batches, kinds = [], [0, 0, 0]
    V = len(VOCAB)
    for B, T in SHAPES:
        rows = []
        for r in range(B):
            n = T if r == 0 else int(torch.randint(5, T, (1,), generator=gen))
            rnd = torch.randint(SPECIAL, V, (n,), generator=gen).tolist()
            if r % 2 == 1 and n >= 6:
                cut = int(torch.randint(1, n - 4, (1,), generator=gen))
                ids = [CLS] + rnd[:cut] + [SEP] + rnd[cut:n - 3] + [SEP]
                types = [0] * (cut + 2) + [1] * (n - cut - 2)
            else:
                ids, types = [CLS] + rnd[:n - 2] + [SEP], [0] * n
            rows.append((ids, types))
        ids, mask, types = mf.pad_rows(rows, PAD)
        labels = torch.full_like(ids, -100)
        masked = ids.clone()
        for b, (row, _) in enumerate(rows):
            cand = [t for t, i in enumerate(row) if i >= SPECIAL]
            k = max(1, round(0.15 * len(cand)))
            for j in torch.randperm(len(cand), generator=gen)[:k].tolist():
                t = cand[j]
                labels[b, t] = ids[b, t]
                u = float(torch.rand((), generator=gen))
                if u < 0.8:
                    masked[b, t] = MASK
                    kinds[0] += 1
                elif u < 0.9:
                    masked[b, t] = int(torch.randint(SPECIAL, V, (1,), generator=gen))
                    kinds[1] += 1
                else:
                    kinds[2] += 1
        batches.append((masked, mask, types, labels))
    return batches, kinds


def train(cfg, params32, batches, max_grad_norm=0.0, weight_decay=0.01):
    """Six AdamW steps; the final parameters, per-step losses and gradient norms, and step 1's gradients."""
    P = {k: v.clone().requires_grad_(True) for k, v in params32.items()}
    no_decay = lambda name: name.endswith("bias") or "LayerNorm.weight" in name
    groups = [
        {"params": [v for k, v in P.items() if not no_decay(k)], "weight_decay": weight_decay},
        {"params": [v for k, v in P.items() if no_decay(k)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    losses, norms, grads = [], [], {}
    for i, (ids, mask, types, labels) in enumerate(batches):
        logits = mlm_forward(cfg, P, ids, mask, types)
        loss = F.cross_entropy(logits.reshape(-1, cfg["vocab_size"]), labels.reshape(-1), ignore_index=-100)
        loss.backward()
        if i == 0:
            grads = {k: v.grad.clone() for k, v in P.items()}
        norms.append(torch.sqrt(sum((v.grad * v.grad).sum() for v in P.values())).item())
        if max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(P.values()), max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=False)
        losses.append(loss.item())
    return P, losses, norms, grads


def main():
    torch.manual_seed(0)
    cfg = config()
    params32 = mf.random_params(param_shapes(cfg), torch.Generator().manual_seed(7))
    params = {k: v.double() for k, v in params32.items()}
    batches, kinds = make_batches(torch.Generator().manual_seed(8))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    mf.save_safetensors(os.path.join(OUT, "model.safetensors"), params32)
    out = {}
    for i, (ids, mask, types, labels) in enumerate(batches):
        out.update({f"batch.{i}.input_ids": ids, f"batch.{i}.attention_mask": mask,
                    f"batch.{i}.token_type_ids": types, f"batch.{i}.labels": labels})
    print(f"batches {SHAPES}: {sum(int((b[3] != -100).sum()) for b in batches)} labelled positions, "
          f"[MASK] / random / unchanged {kinds}")
    for name, kw in {"plain": {}, "clip": {"max_grad_norm": 1.0}, "decay": {"weight_decay": 0.3}}.items():
        P, losses, norms, grads = train(cfg, params, batches, **kw)
        out.update({f"{name}.{k}": v for k, v in P.items()})
        out[f"{name}.loss"] = torch.tensor(losses)
        out[f"{name}.grad_norm"] = torch.tensor(norms)
        if name == "plain":
            out.update({f"grad.{k}": v for k, v in grads.items()})
        moved = max((P[k] - params[k]).abs().max().item() for k in params)
        print(f"{name}: losses {[round(x, 4) for x in losses]}, grad norms {[round(x, 3) for x in norms]}, "
              f"largest weight change {moved:.2e}")
    mf.save_safetensors(os.path.join(OUT, "steps.safetensors"), {k: v.double() for k, v in out.items()})


if __name__ == "__main__":
    main()
