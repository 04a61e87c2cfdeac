#!/usr/bin/env python3
"""Checks addrop's Marian support against Hugging Face transformers itself (not a re-implementation).

  python check_hf_marian.py fixture tests/fixtures/marian
      MarianMTModel.from_pretrained on the fixture: its logits and loss on expected.safetensors' batch, and its
      generate(num_beams=1, max_new_tokens=8) ids, against what scripts/make_marian_fixtures.py stored (which the
      GPU tests compare with).
  python check_hf_marian.py beam tests/fixtures/marian_trained tests/fixtures/marian/pairs.jsonl
      Writes tests/fixtures/marian_trained/beam.json: transformers' generate(num_beams=K, max_new_tokens=N) ids for
      the pairs' sources and a few new recombinations of their words (K, N in CASES), which the GPU beam search
      must reproduce (tests/model/marian_beam_test.ts). The checkpoint is the one `deno task train` makes with
      --model tests/fixtures/marian --train/--validation tests/fixtures/marian/pairs.jsonl --epochs 60
      --learning-rate 1e-2 --batch-size 9 --hidden-dropout 0 --no-ad-drop --seed 42 (its config, weights and
      tokenizer files copied into the folder).
  python check_hf_marian.py opus RUN_DIR PREDICTIONS.jsonl NUM_BEAMS MAX_NEW_TOKENS
      For a checkpoint in OPUS-MT's layout (source.spm, target.spm, vocab.json; no tokenizer.json) that `deno task
      train` saved: transformers' own MarianTokenizer (sentencepiece) and MarianMTModel.generate(num_beams,
      max_new_tokens) on each row's `source` of `deno task predict`'s output, against its `translation`.
  python check_hf_marian.py trained RUN_DIR PAIRS.jsonl RUN_DIR/generated_predictions.txt MAX_NEW_TOKENS
      MarianMTModel.from_pretrained on a checkpoint `deno task train` saved: its greedy translations of the pairs'
      sources (tokenized with the saved tokenizer.json) against the run's own.

Needs transformers (5.17 was used), torch 2.x, safetensors, tokenizers and sentencepiece in a virtual
environment, e.g. `python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers safetensors
tokenizers sentencepiece`.
CI never runs it.
"""
import json
import sys

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import MarianMTModel


def fixture(d):
    m = MarianMTModel.from_pretrained(d).eval()
    e = load_file(f"{d}/expected.safetensors")
    ids, mask, labels = e["input_ids"].long(), e["attention_mask"].long(), e["labels"].long()
    with torch.no_grad():
        out = m(input_ids=ids, attention_mask=mask, labels=labels)
    print("max |logits - expected|:", (out.logits - e["logits"]).abs().max().item())
    print("loss:", out.loss.item(), "expected:", e["loss"].item())
    gen = m.generate(input_ids=ids, attention_mask=mask, num_beams=1, do_sample=False, max_new_tokens=8)
    print("generate() ids equal to expected:", torch.equal(gen, e["generated"].long()))


def trained(d, pairs, preds, max_new):
    m = MarianMTModel.from_pretrained(d).eval()
    tok = Tokenizer.from_file(f"{d}/tokenizer.json")
    sources = [json.loads(line)["source"] for line in open(pairs) if line.strip()]
    want = [line.rstrip("\n") for line in open(preds)][: len(sources)]
    same = 0
    for s, w in zip(sources, want):
        ids = torch.tensor([tok.encode(s).ids])
        g = m.generate(input_ids=ids, attention_mask=torch.ones_like(ids), num_beams=1, do_sample=False,
                       max_new_tokens=max_new)
        text = tok.decode(g[0].tolist(), skip_special_tokens=True)
        same += text == w
        if text != w:
            print("differs:", repr(s), "transformers:", repr(text), "addrop:", repr(w))
    print(f"{same}/{len(sources)} translations identical")


def opus(d, preds, k, n):
    from transformers import MarianTokenizer

    tok = MarianTokenizer.from_pretrained(d)
    m = MarianMTModel.from_pretrained(d).eval()
    rows = [json.loads(line) for line in open(preds) if line.strip()]
    same = 0
    for r in rows:
        enc = tok(r["source"], return_tensors="pt")
        g = m.generate(**enc, num_beams=k, do_sample=False, max_new_tokens=n)
        text = tok.decode(g[0], skip_special_tokens=True)
        same += text == r["translation"]
        if text != r["translation"]:
            print("differs:", repr(r["source"]), "transformers:", repr(text), "addrop:", repr(r["translation"]))
    print(f"{same}/{len(rows)} translations identical")


CASES = [(4, 10), (2, 6), (5, 3), (3, 12)]
EXTRA_SOURCES = ["the dog sits", "we see the cat", "the small cats run", "a house", "i love fish", "the big dog eats"]


def beam(d, pairs):
    m = MarianMTModel.from_pretrained(d).eval()
    tok = Tokenizer.from_file(f"{d}/tokenizer.json")
    sources = [json.loads(line)["source"] for line in open(pairs) if line.strip()] + EXTRA_SOURCES
    ids = [tok.encode(s).ids for s in sources]
    out = {"sources": sources, "source_ids": ids, "cases": []}
    for k, n in CASES:
        rows = []
        for x in ids:
            t = torch.tensor([x])
            g = m.generate(input_ids=t, attention_mask=torch.ones_like(t), num_beams=k, do_sample=False,
                           max_new_tokens=n)
            rows.append(g[0].tolist()[1:])
        out["cases"].append({"num_beams": k, "max_new_tokens": n, "generated": rows})
    with open(f"{d}/beam.json", "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {d}/beam.json")


if __name__ == "__main__":
    if sys.argv[1:2] == ["fixture"] and len(sys.argv) == 3:
        fixture(sys.argv[2])
    elif sys.argv[1:2] == ["beam"] and len(sys.argv) == 4:
        beam(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["opus"] and len(sys.argv) == 6:
        opus(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1:2] == ["trained"] and len(sys.argv) == 6:
        trained(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)
