#!/usr/bin/env python3
"""Golden fixtures for training and AD-DROP: a few AdamW steps of the tiny `bert_seq_cls` checkpoint (plain,
with gradient accumulation, with clipping, with AD-DROP) and the attribution scores of `grad`, `ig` and
`attention` for `bert_seq_cls` and `bert_regression`, computed by a plain-torch BERT in float64 that follows
make_fixtures.py's forward (Hugging Face semantics) plus AD-DROP as /work/shared/ADDROP.md defines it:

  training: dropout off, constant lr 1e-3, no warm-up, torch.optim.AdamW(betas (0.9, 0.999), eps 1e-8,
      weight_decay 0.01; 0.3 in the `decay` variant) with the Hugging Face Trainer's groups (no decay for biases and LayerNorm weights),
      clip_grad_norm_ when max_grad_norm > 0, each micro-batch's mean loss divided by the accumulation count.
  AD-DROP step (attribution grad, p 0.3, q 1, layer 0): clean forward -> c = argmax(logits) per example ->
      F = sum_b logits[b, c_b] -> dF/dA_0 (post-softmax probabilities that multiply V) -> per (b, h, i < n_b)
      over the real keys j < n_b: thr = sorted(scores)[floor((1 - p) * n)] with the rank in float32 (as the
      kernel computes it), candidates = scores >= thr, all dropped (q = 1): mask -1e9 there, 0 elsewhere ->
      forward with the mask added to layer 0's scores, CE with the gold labels, backward, AdamW step.
  attribution (one example at a time, eval mode): grad = dF/dA; ig = A * (1/m) sum_{k=1..m} dF(k/m A)/d(k/m A)
      with the layer's probabilities (all heads) scaled and the pseudo-label fixed by the clean pass, m = 20;
      attention = A. F = logits[c] (classification) or -MSE(pred, gold) (regression).

Outputs (float32, safetensors; layout in tests/fixtures/README.md): tests/fixtures/training/steps.safetensors
and tests/fixtures/attribution/{bert_seq_cls,bert_regression}.{jsonl,safetensors}, electra_tok_cls.{conll,
safetensors} (token classification: F = -CE against the clean pass's argmax labels at the first sub-word of
every word).
Run: /usr/bin/python3 scripts/make_training_fixtures.py [--attribution-only]  (needs python3-torch and numpy;
deterministic).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

ROOT = mf.ROOT
LR, BETAS, EPS, WD = 1e-3, (0.9, 0.999), 1e-8, 0.01
P_ADDROP, IG_STEPS, DROP = 0.3, 20, -1e9


def load_safetensors(path):
    """Reads an F32 safetensors file into float64 tensors keyed by name."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        data = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(h["shape"])
        out[name] = torch.from_numpy(data.astype(np.float64))
    return out


def bert_forward(cfg, P, ids, mask, types, add_mask=None, alpha=None):
    """BERT sequence head (make_fixtures.forward, BERT branch) with AD-DROP's extras: `add_mask` (B, NH, T, T)
    added to layer 0's scores; `alpha` = (layer, scale) multiplies that layer's probabilities (all heads).
    Returns logits and, per layer, the probabilities A and the tensor that multiplies V (alpha * A)."""
    x, probs, used = bert_encoder(cfg, P, ids, mask, types, add_mask, alpha)
    lin = lambda name, v: F.linear(v, P[name + ".weight"], P[name + ".bias"])
    logits = lin("classifier", torch.tanh(lin("bert.pooler.dense", x[:, 0])))
    return logits, probs, used


def bert_encoder(cfg, P, ids, mask, types, add_mask=None, alpha=None):
    """The encoder of bert_forward (also make_mlm_fixtures.py's): last hidden states, probabilities, used."""
    B, T = ids.shape
    C, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps = C // NH, cfg["layer_norm_eps"]
    e = "bert.embeddings."
    x = F.embedding(ids, P[e + "word_embeddings.weight"], padding_idx=cfg["pad_token_id"])
    x = x + F.embedding(torch.arange(T).expand(B, T), P[e + "position_embeddings.weight"])
    x = x + F.embedding(types, P[e + "token_type_embeddings.weight"])
    x = F.layer_norm(x, (C,), P[e + "LayerNorm.weight"], P[e + "LayerNorm.bias"], eps)
    m = (1.0 - mask[:, None, None, :].to(x.dtype)) * mf.F32_MIN
    lin = lambda name, v: F.linear(v, P[name + ".weight"], P[name + ".bias"])
    ln = lambda name, v: F.layer_norm(v, (C,), P[name + ".weight"], P[name + ".bias"], eps)
    probs, used = [], []
    for l in range(cfg["num_hidden_layers"]):
        a = f"bert.encoder.layer.{l}."
        q, k, v = (lin(a + "attention.self." + n, x).view(B, T, NH, D).transpose(1, 2) for n in ["query", "key", "value"])
        s = q @ k.transpose(-1, -2) / math.sqrt(D) + m
        if add_mask is not None and l == 0:
            s = s + add_mask
        A = torch.softmax(s, dim=-1)
        U = A * alpha[1] if alpha is not None and alpha[0] == l else A
        probs.append(A)
        used.append(U)
        ctx = (U @ v).transpose(1, 2).reshape(B, T, C)
        att = ln(a + "attention.output.LayerNorm", lin(a + "attention.output.dense", ctx) + x)
        h = mf.act(cfg["hidden_act"], lin(a + "intermediate.dense", att))
        x = ln(a + "output.LayerNorm", lin(a + "output.dense", h) + att)
    return x, probs, used


def candidate_rank(n, p):
    """floor((1 - p) * n) evaluated in float32, as shaders/select_rank.wgsl does."""
    return int(np.floor((np.float32(1.0) - np.float32(p)) * np.float32(n)))


def addrop_mask(scores, lengths, p):
    """The q = 1 AD-DROP mask of one layer and the smallest gap, relative to the row's largest |score|, between
    the threshold and the next lower real score (how far the reference is from a tie that flips a candidate)."""
    B, NH, T, _ = scores.shape
    out = torch.zeros_like(scores)
    gap = math.inf
    for b in range(B):
        n = int(lengths[b])
        k = candidate_rank(n, p)
        for h in range(NH):
            for i in range(n):
                row = scores[b, h, i, :n]
                srt = torch.sort(row).values
                if k >= n:
                    continue
                thr = srt[k]
                out[b, h, i, :n][row >= thr] = DROP
                scale = row.abs().max().item()
                if k > 0 and scale > 0:
                    gap = min(gap, (thr - srt[k - 1]).item() / scale)
    return out, gap


def make_batches(vocab_size, gen):
    """Six padded batches of random ids ([CLS] a [SEP] [b [SEP]]) with varying B and T, and 3-class labels."""
    shapes = [(3, 9), (2, 12), (3, 6), (3, 10), (2, 7), (3, 11)]
    batches = []
    for B, T in shapes:
        rows = []
        for r in range(B):
            n = T if r == 0 else int(torch.randint(4, T + 1, (1,), generator=gen))
            rnd = torch.randint(5, vocab_size, (n,), generator=gen).tolist()
            if r % 2 == 1 and n >= 6:  # a pair: [CLS] a [SEP] b [SEP], types 0 then 1
                cut = int(torch.randint(1, n - 4, (1,), generator=gen))
                ids = [2] + rnd[:cut] + [3] + rnd[cut:n - 3] + [3]
                types = [0] * (cut + 2) + [1] * (n - cut - 2)
            else:
                ids, types = [2] + rnd[:n - 2] + [3], [0] * n
            rows.append((ids, types))
        ids, mask, types = mf.pad_rows(rows, 0)
        labels = torch.randint(0, 3, (B,), generator=gen)
        batches.append((ids, mask, types, labels))
    return batches


def train(cfg, params32, batches, accumulation=1, max_grad_norm=0.0, addrop=False, weight_decay=WD):
    """Runs the batches as micro-batches; returns the final parameters and per-step losses / gradient norms."""
    P = {k: v.clone().requires_grad_(True) for k, v in params32.items()}
    no_decay = lambda name: name.endswith("bias") or "LayerNorm.weight" in name
    groups = [
        {"params": [v for k, v in P.items() if not no_decay(k)], "weight_decay": weight_decay},
        {"params": [v for k, v in P.items() if no_decay(k)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    losses, norms, masks, gap, loss_sum = [], [], [], math.inf, 0.0
    for i, (ids, mask, types, labels) in enumerate(batches):
        add = None
        if addrop:
            logits, _, used = bert_forward(cfg, P, ids, mask, types)
            c = logits.argmax(-1)
            dA = torch.autograd.grad(logits.gather(1, c[:, None]).sum(), used[0])[0]
            add, g = addrop_mask(dA, mask.sum(1), P_ADDROP)
            gap = min(gap, g)
            masks.append(add)
        logits, _, _ = bert_forward(cfg, P, ids, mask, types, add_mask=add)
        loss = F.cross_entropy(logits, labels) / accumulation
        loss.backward()
        loss_sum += loss.item()
        if (i + 1) % accumulation:
            continue
        grads = [v.grad for v in P.values()]
        norms.append(torch.sqrt(sum((g * g).sum() for g in grads)).item())
        if max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(P.values()), max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=False)
        losses.append(loss_sum)
        loss_sum = 0.0
    return P, losses, norms, masks, gap


def training():
    d = os.path.join(ROOT, "bert_seq_cls")
    cfg = json.load(open(os.path.join(d, "config.json")))
    params = load_safetensors(os.path.join(d, "model.safetensors"))
    batches = make_batches(cfg["vocab_size"], torch.Generator().manual_seed(6))
    out = {}
    for i, (ids, mask, types, labels) in enumerate(batches):
        out.update({f"batch.{i}.input_ids": ids, f"batch.{i}.attention_mask": mask,
                    f"batch.{i}.token_type_ids": types, f"batch.{i}.labels": labels})
    variants = {
        "plain": {},
        "accum": {"accumulation": 2},
        "clip": {"max_grad_norm": 1.0},
        "addrop": {"addrop": True},
        "decay": {"weight_decay": 0.3},  # decay large enough that a wrong decay group moves weights > 1e-4
    }
    for name, kw in variants.items():
        P, losses, norms, masks, gap = train(cfg, params, batches, **kw)
        out.update({f"{name}.{k}": v for k, v in P.items()})
        out[f"{name}.loss"] = torch.tensor(losses)
        out[f"{name}.grad_norm"] = torch.tensor(norms)
        out.update({f"{name}.mask.{i}": m for i, m in enumerate(masks)})
        moved = max((P[k] - params[k]).abs().max().item() for k in params)
        extra = f", smallest threshold gap {gap:.2e} of the row scale" if kw.get("addrop") else ""
        print(f"training {name}: losses {[round(x, 4) for x in losses]}, grad norms "
              f"{[round(x, 3) for x in norms]}, largest weight change {moved:.2e}{extra}")
    os.makedirs(os.path.join(ROOT, "training"), exist_ok=True)
    mf.save_safetensors(os.path.join(ROOT, "training", "steps.safetensors"), {k: v.double() for k, v in out.items()})


def attribution_scores(cfg, P, ids, types, label, layer):
    """grad, ig and attention scores (NH, n, n) of one example at `layer`, and whether the IG path's argmax
    ever differs from the clean pseudo-label (the case a fixed pseudo-label matters for)."""
    ids, types = torch.tensor([ids]), torch.tensor([types])
    mask = torch.ones_like(ids)
    regression = cfg.get("problem_type") == "regression"

    def objective(logits, c):
        if regression:
            return -F.mse_loss(logits[:, 0], torch.tensor([float(label)], dtype=torch.float64))
        return logits[0, c]

    with torch.no_grad():
        logits, probs, _ = bert_forward(cfg, P, ids, mask, types)
    c = int(logits.argmax(-1))
    A = probs[layer][0]
    total, flipped = torch.zeros_like(A), False
    for k in range(1, IG_STEPS + 1):
        logits_k, _, used = bert_forward(cfg, P, ids, mask, types, alpha=(layer, k / IG_STEPS))
        flipped |= int(logits_k.argmax(-1)) != c
        g = torch.autograd.grad(objective(logits_k, c), used[layer])[0][0]
        total += g
        if k == IG_STEPS:
            grad = g
    return {"grad": grad, "ig": A * total / IG_STEPS, "attention": A}, c, flipped and not regression


def token_attribution_scores(cfg, P, ids, targets, layer):
    """grad, ig and attention scores (NH, n, n) of one token-classification example at `layer` and the clean
    pass's pseudo-labels (-100 where no loss applies): F = -CE(logits, argmax labels), the mean over the tokens
    whose target is not -100 (the first sub-word of every word), the labels fixed by the clean pass."""
    ids = torch.tensor([ids])
    mask, types = torch.ones_like(ids), torch.zeros_like(ids)
    counted = torch.tensor([y != -100 for y in targets])
    trace = []
    with torch.no_grad():
        logits, _ = mf.forward(cfg, "token", P, ids, mask, types, trace=trace)
    c = logits[0].argmax(-1)
    A = trace[layer][0][0]
    total = torch.zeros_like(A)
    for k in range(1, IG_STEPS + 1):
        trace = []
        logits_k, _ = mf.forward(cfg, "token", P, ids, mask, types, alpha=(layer, k / IG_STEPS), trace=trace)
        objective = -F.cross_entropy(logits_k[0][counted], c[counted])
        g = torch.autograd.grad(objective, trace[layer][1])[0][0]
        total += g
        if k == IG_STEPS:
            grad = g
    pseudo = torch.where(counted, c, torch.full_like(c, -100))
    return {"grad": grad, "ig": A * total / IG_STEPS, "attention": A}, pseudo


def token_attribution():
    """tests/fixtures/attribution/electra_tok_cls.{conll,safetensors}: the CoNLL input and its scores."""
    vocab = {t: i for i, t in enumerate(mf.WORDPIECE_VOCAB)}
    name = "electra_tok_cls"
    d = os.path.join(ROOT, name)
    cfg = json.load(open(os.path.join(d, "config.json")))
    tags = cfg["id2label"]
    sentences = [
        (["john", "lives", "in", "paris"], [1, 0, 0, 3]),
        (["the", "unaffable", "player", "runs", "home"], [0, 0, 0, 0, 0]),  # un ##aff ##able: 3 sub-words
        (["mary", "was", "walking", "in", "new", "london"], [1, 0, 0, 0, 3, 4]),
    ]
    P = {k: v.requires_grad_(True) for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
    rows = mf.encode_words(vocab, [w for w, _ in sentences], [[0] * len(w) for w, _ in sentences])
    out = {}
    for i, (ids, _, targets) in enumerate(rows):
        out[f"{i}.input_ids"] = torch.tensor(ids)
        for layer in (0, cfg["num_hidden_layers"] - 1):
            s, pseudo = token_attribution_scores(cfg, P, ids, targets, layer)
            out[f"{i}.pseudo_label"] = pseudo
            out.update({f"{i}.{m}.{layer}": v for m, v in s.items()})
    out_dir = os.path.join(ROOT, "attribution")
    with open(os.path.join(out_dir, f"{name}.conll"), "w") as f:
        f.write("\n\n".join("\n".join(f"{w} {tags[str(y)]}" for w, y in zip(*s)) for s in sentences) + "\n")
    mf.save_safetensors(os.path.join(out_dir, f"{name}.safetensors"), {k: v.double() for k, v in out.items()})
    print(f"attribution {name}: {len(rows)} examples, lengths {[len(r[0]) for r in rows]}")


def attribution():
    vocab = {t: i for i, t in enumerate(mf.WORDPIECE_VOCAB)}
    sets = {
        "bert_seq_cls": [
            {"text": "the film was really fun", "text_pair": "i love this movie", "label": "positive"},
            {"text": "a dog runs home", "label": "neutral"},
            {"text": "the acting was boring and the plot was bad .", "text_pair": "i hate it", "label": "negative"},
            {"text": "she went to paris with john", "label": "neutral"},
            {"text": "love it", "label": "positive"},  # IG at layer 0: argmax changes along the path
        ],
        "bert_regression": [
            {"text": "The movie was GREAT fun !", "label": 4.25},
            {"text": "boring", "label": 0.5},
            {"text": "it was not very good , but the acting was fun .", "label": 2.75},
        ],
    }
    out_dir = os.path.join(ROOT, "attribution")
    os.makedirs(out_dir, exist_ok=True)
    for name, examples in sets.items():
        d = os.path.join(ROOT, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        P = {k: v.requires_grad_(True) for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
        rows = mf.encode_bert(vocab, [e["text"].lower() for e in examples],
                              [e.get("text_pair") for e in examples])
        out, flips = {}, 0
        for i, (ids, types) in enumerate(rows):
            label = examples[i]["label"]
            out[f"{i}.input_ids"] = torch.tensor(ids)
            for layer in (0, cfg["num_hidden_layers"] - 1):
                s, c, flipped = attribution_scores(cfg, P, ids, types, label, layer)
                flips += flipped
                out[f"{i}.pseudo_label"] = torch.tensor(c)
                out.update({f"{i}.{m}.{layer}": v for m, v in s.items()})
        with open(os.path.join(out_dir, f"{name}.jsonl"), "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in examples)
        mf.save_safetensors(os.path.join(out_dir, f"{name}.safetensors"), {k: v.double() for k, v in out.items()})
        print(f"attribution {name}: {len(rows)} examples, lengths {[len(r[0]) for r in rows]}, "
              f"IG paths whose argmax leaves the pseudo-label: {flips}")


if __name__ == "__main__":
    torch.manual_seed(0)
    if sys.argv[1:] == ["--attribution-only"]:
        attribution()
        token_attribution()
        sys.exit(0)
    training()
    attribution()
    token_attribution()
