#!/usr/bin/env python3
"""Reloads a checkpoint saved by addrop (`train()` / `deno task train`) with plain torch and compares its logits
with what `predict()` wrote: the saved config.json, model.safetensors and tokenizer must mean, to a PyTorch
implementation of Hugging Face's BERT, what they mean to addrop.

  /usr/bin/python3 scripts/check_hf_reload.py CHECKPOINT INPUT.jsonl PREDICTIONS.jsonl [--max-length N]

INPUT.jsonl has `text` (and optionally `text_pair`) per row, PREDICTIONS.jsonl is `deno task predict`'s output
for it with the same --max-length. Only BERT sequence classification / regression checkpoints (what the scratch
models are). The forward is scripts/make_fixtures.py's (float64); the tokenizer is a plain re-implementation of
Hugging Face's BertTokenizer (clean text, CJK spacing, lower case + accent stripping, punctuation split,
greedy longest-match WordPiece, longest-first truncation). Prints the largest |logit difference| and the share
of rows whose predicted label agrees. Needs python3-torch only; CI never runs it.
"""
import argparse
import json
import os
import struct
import sys
import unicodedata

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import forward  # noqa: E402  (the same model code as the golden fixtures)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, this check reads F32 only")
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(info["shape"])
    return out


def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return any(a <= cp <= b for a, b in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                         (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokens(text, lower):
    chars = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or (c not in "\t\n\r" and unicodedata.category(c).startswith("C")):
            continue
        if c in " \t\n\r" or unicodedata.category(c) == "Zs":
            chars.append(" ")
        elif is_cjk(cp):
            chars.append(f" {c} ")
        else:
            chars.append(c)
    words = []
    for tok in "".join(chars).split():
        if lower:
            tok = "".join(c for c in unicodedata.normalize("NFD", tok.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for c in tok:
            if is_punct(c):
                words += [cur, c] if cur else [c]
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and (("##" if start else "") + word[start:end]) not in vocab:
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(("##" if start else "") + word[start:end])
        start = end
    return pieces


def encode(vocab, lower, text, pair, max_length):
    a = [p for w in basic_tokens(text, lower) for p in wordpiece(w, vocab)]
    b = None if pair is None else [p for w in basic_tokens(pair, lower) for p in wordpiece(w, vocab)]
    budget = max_length - (2 if b is None else 3)
    while len(a) + (len(b) if b is not None else 0) > budget:  # longest first, ties from the second text
        if b is not None and len(b) >= len(a):
            b.pop()
        else:
            a.pop()
    toks = ["[CLS]"] + a + ["[SEP]"] + ([] if b is None else b + ["[SEP]"])
    types = [0] * (len(a) + 2) + ([] if b is None else [1] * (len(b) + 1))
    return [vocab[t] for t in toks], types


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("input")
    ap.add_argument("predictions")
    ap.add_argument("--max-length", type=int, default=128)
    args = ap.parse_args()
    d = args.checkpoint
    cfg = json.load(open(os.path.join(d, "config.json")))
    arch = cfg["architectures"][0]
    if cfg["model_type"] != "bert" or not arch.endswith("SequenceClassification"):
        raise SystemExit(f"{d}/config.json: {arch}; this check handles BERT sequence classification only")
    tok_json = json.load(open(os.path.join(d, "tokenizer.json")))
    vocab = tok_json["model"]["vocab"]
    lower = tok_json.get("normalizer", {}).get("lowercase", True)
    P = {k: v.double() for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
    id2label = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    rows = [json.loads(l) for l in open(args.input) if l.strip()]
    preds = [json.loads(l) for l in open(args.predictions) if l.strip()]
    if len(rows) != len(preds):
        raise SystemExit(f"{args.input} has {len(rows)} rows, {args.predictions} {len(preds)}")
    worst, agree, scale = 0.0, 0, 0.0
    with torch.no_grad():
        for row, pred in zip(rows, preds):
            ids, types = encode(vocab, lower, row["text"], row.get("text_pair"), args.max_length)
            ids, types = torch.tensor([ids]), torch.tensor([types])
            logits, _ = forward(cfg, "seq", P, ids, torch.ones_like(ids), types)
            ours = torch.tensor(pred["logits"], dtype=torch.float64)
            worst = max(worst, (logits[0] - ours).abs().max().item())
            scale = max(scale, logits.abs().max().item())
            if cfg.get("problem_type") == "regression" or id2label[int(logits[0].argmax())] == pred["label"]:
                agree += 1
    print(f"{len(rows)} rows: max |logit diff| {worst:.3e} (largest |logit| {scale:.3f}); "
          f"labels agree on {agree}/{len(rows)}")


if __name__ == "__main__":
    main()
