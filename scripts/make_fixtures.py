#!/usr/bin/env python3
"""Golden fixtures for the encoder: tiny random BERT / RoBERTa / ELECTRA checkpoints and, for a fixed padded
batch, the logits, the loss and the gradient of the loss w.r.t. every parameter, computed by a plain-torch
forward that follows Hugging Face transformers' semantics (transformers itself is not needed):

  embeddings: word + position + token type -> LayerNorm (ELECTRA: then embeddings_project when
      embedding_size != hidden_size); word embeddings (and RoBERTa's position embeddings) use padding_idx, so the
      pad row gets no gradient; RoBERTa positions = cumsum(ids != pad) * (ids != pad) + pad.
  layer (post-LN): a = LN(x + Wo softmax(q k^T / sqrt(D) + m) v);  out = LN(a + W2 act(W1 a))
      where m = (1 - attention_mask) * finfo(float32).min; act: gelu = erf, gelu_new = tanh approximation, relu.
  heads: BERT tanh pooler on [CLS] + classifier; RoBERTa classifier.dense -> tanh -> out_proj on <s>;
      ELECTRA classifier.dense -> gelu(erf) -> out_proj; token classification: classifier on every token.
  loss: cross entropy (mean, ignore -100) or MSE (num_labels 1); dropout off.

Computed in float64 from the float32 parameters; outputs stored as float32. Layout of the files: see
tests/fixtures/README.md. Run: /usr/bin/python3 scripts/make_fixtures.py  (needs python3-torch; deterministic).
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
F32_MIN = torch.finfo(torch.float32).min

WORDPIECE_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "'"]
    + "the a an cat dog sat on mat is was not good bad great movie film plot acting boring fun very really i you"
    .split()
    + "he she it they we like love hate this that and but or with runs run play walk jump happy sad paris".split()
    + "london berlin john mary city lives in to of at from my his her new old big small house went home".split()
    + "##ing ##s ##ed ##ly ##er ##ning un ##aff ##able ##ful ##ness ##y ##a ##b ##c ##d ##e ##t ##o ##n".split()
)


def save_safetensors(path, tensors):
    """Writes float32 tensors as safetensors (header padded with spaces to a multiple of 8, offsets contiguous)."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(chunks))


def wordpiece(word, vocab):
    """Greedy longest-match-first WordPiece of one lower-cased word (the reference the TS side is checked with)."""
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


def bpe_vocab():
    """A tiny byte-level BPE vocabulary whose merges spell a few words out left to right."""
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "\u0120"] + list("abcdefghijklmnopqrstuvwxyz"))}
    merges = []
    for word in "the cat sat on mat good bad movie".split():
        for pieces in (["\u0120"] + list(word), list(word)):
            cur = pieces[0]
            for ch in pieces[1:]:
                if f"{cur} {ch}" not in merges:
                    merges.append(f"{cur} {ch}")
                cur += ch
                vocab.setdefault(cur, len(vocab))
    vocab["<mask>"] = len(vocab)
    return vocab, merges


def act(name, x):
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return F.relu(x)


def param_shapes(cfg, head):
    """Hugging Face names and shapes of every parameter, in processing order."""
    C, E, I, V = cfg["hidden_size"], cfg.get("embedding_size", cfg["hidden_size"]), cfg["intermediate_size"], cfg["vocab_size"]
    L, p = len(cfg["id2label"]), cfg["model_type"] + "."
    s = {
        p + "embeddings.word_embeddings.weight": (V, E),
        p + "embeddings.position_embeddings.weight": (cfg["max_position_embeddings"], E),
        p + "embeddings.token_type_embeddings.weight": (cfg["type_vocab_size"], E),
        p + "embeddings.LayerNorm.weight": (E,),
        p + "embeddings.LayerNorm.bias": (E,),
    }
    if E != C:
        s.update({p + "embeddings_project.weight": (C, E), p + "embeddings_project.bias": (C,)})
    for l in range(cfg["num_hidden_layers"]):
        a = f"{p}encoder.layer.{l}."
        for n in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            s.update({a + n + ".weight": (C, C), a + n + ".bias": (C,)})
        s.update({a + "attention.output.LayerNorm.weight": (C,), a + "attention.output.LayerNorm.bias": (C,)})
        s.update({a + "intermediate.dense.weight": (I, C), a + "intermediate.dense.bias": (I,)})
        s.update({a + "output.dense.weight": (C, I), a + "output.dense.bias": (C,)})
        s.update({a + "output.LayerNorm.weight": (C,), a + "output.LayerNorm.bias": (C,)})
    if head == "token":
        s.update({"classifier.weight": (L, C), "classifier.bias": (L,)})
    elif cfg["model_type"] == "bert":
        s.update({"bert.pooler.dense.weight": (C, C), "bert.pooler.dense.bias": (C,)})
        s.update({"classifier.weight": (L, C), "classifier.bias": (L,)})
    else:
        s.update({"classifier.dense.weight": (C, C), "classifier.dense.bias": (C,)})
        s.update({"classifier.out_proj.weight": (L, C), "classifier.out_proj.bias": (L,)})
    return s


def random_params(shapes, gen):
    out = {}
    for name, shape in shapes.items():
        if "LayerNorm.weight" in name:
            t = 1 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith("bias"):
            t = 0.1 * torch.randn(shape, generator=gen)
        elif "embeddings." in name:
            t = 0.5 * torch.randn(shape, generator=gen)
        else:
            t = 0.2 * torch.randn(shape, generator=gen)
        out[name] = t.to(torch.float32)
    return out


def forward(cfg, head, P, ids, mask, types, alpha=None, trace=None):
    """Logits and per-layer hidden states of the model (P: float64 leaves keyed by HF name). AD-DROP's
    attribution (make_training_fixtures.py): `alpha` = (layer, scale) multiplies that layer's probabilities (all
    heads); `trace`, a list, receives per layer (A, the tensor that multiplies V)."""
    p, pad = cfg["model_type"] + ".", cfg["pad_token_id"]
    B, T = ids.shape
    C, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    D, E, eps = C // NH, cfg.get("embedding_size", C), cfg["layer_norm_eps"]
    if cfg["model_type"] == "roberta":
        keep = ids.ne(pad).long()
        pos = torch.cumsum(keep, 1) * keep + pad
        pos_pad = pad
    else:
        pos, pos_pad = torch.arange(T).expand(B, T), None
    e = p + "embeddings."
    x = F.embedding(ids, P[e + "word_embeddings.weight"], padding_idx=pad)
    x = x + F.embedding(pos, P[e + "position_embeddings.weight"], padding_idx=pos_pad)
    x = x + F.embedding(types, P[e + "token_type_embeddings.weight"])
    x = F.layer_norm(x, (E,), P[e + "LayerNorm.weight"], P[e + "LayerNorm.bias"], eps)
    if E != C:
        x = F.linear(x, P[p + "embeddings_project.weight"], P[p + "embeddings_project.bias"])
    hidden = [x]
    m = (1.0 - mask[:, None, None, :].double()) * F32_MIN
    lin = lambda name, v: F.linear(v, P[name + ".weight"], P[name + ".bias"])
    ln = lambda name, v: F.layer_norm(v, (C,), P[name + ".weight"], P[name + ".bias"], eps)
    for l in range(cfg["num_hidden_layers"]):
        a = f"{p}encoder.layer.{l}."
        q, k, v = (lin(a + "attention.self." + n, x).view(B, T, NH, D).transpose(1, 2) for n in ["query", "key", "value"])
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + m, dim=-1)
        used = probs * alpha[1] if alpha is not None and alpha[0] == l else probs
        if trace is not None:
            trace.append((probs, used))
        ctx = (used @ v).transpose(1, 2).reshape(B, T, C)
        att = ln(a + "attention.output.LayerNorm", lin(a + "attention.output.dense", ctx) + x)
        h = act(cfg["hidden_act"], lin(a + "intermediate.dense", att))
        x = ln(a + "output.LayerNorm", lin(a + "output.dense", h) + att)
        hidden.append(x)
    if head == "token":
        logits = lin("classifier", x)
    elif cfg["model_type"] == "bert":
        logits = lin("classifier", torch.tanh(lin("bert.pooler.dense", x[:, 0])))
    elif cfg["model_type"] == "roberta":
        logits = lin("classifier.out_proj", torch.tanh(lin("classifier.dense", x[:, 0])))
    else:
        logits = lin("classifier.out_proj", F.gelu(lin("classifier.dense", x[:, 0])))
    return logits, hidden


def base_config(model_type, **kw):
    cfg = {
        "model_type": model_type, "vocab_size": len(WORDPIECE_VOCAB), "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 37, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute",
        "classifier_dropout": None, "transformers_version": "4.46.0",
    }
    cfg.update(kw)
    return cfg


def encode_bert(vocab, texts, pairs):
    rows = []
    for a, b in zip(texts, pairs):
        ta = [t for w in a.split() for t in wordpiece(w, vocab)]
        ids, types = ["[CLS]"] + ta + ["[SEP]"], [0] * (len(ta) + 2)
        if b is not None:
            tb = [t for w in b.split() for t in wordpiece(w, vocab)]
            ids, types = ids + tb + ["[SEP]"], types + [1] * (len(tb) + 1)
        rows.append(([vocab[t] for t in ids], types))
    return rows


def encode_words(vocab, sentences, word_labels):
    rows = []
    for words, labels in zip(sentences, word_labels):
        ids, lab = [vocab["[CLS]"]], [-100]
        for w, y in zip(words, labels):
            pieces = wordpiece(w, vocab)
            ids += [vocab[t] for t in pieces]
            lab += [y] + [-100] * (len(pieces) - 1)
        rows.append((ids + [vocab["[SEP]"]], [0] * (len(ids) + 1), lab + [-100]))
    return rows


def pad_rows(rows, pad):
    T = max(len(r[0]) for r in rows)
    ids = torch.tensor([r[0] + [pad] * (T - len(r[0])) for r in rows])
    mask = torch.tensor([[1] * len(r[0]) + [0] * (T - len(r[0])) for r in rows])
    types = torch.tensor([r[1] + [0] * (T - len(r[1])) for r in rows])
    return ids, mask, types


def build(name, cfg, head, ids, mask, types, labels, seed, extra_inputs):
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    params32 = random_params(param_shapes(cfg, head), gen)
    P = {k: v.double().requires_grad_(True) for k, v in params32.items()}
    logits, hidden = forward(cfg, head, P, ids, mask, types)
    L = len(cfg["id2label"])
    if cfg.get("problem_type") == "regression":
        loss = F.mse_loss(logits.squeeze(-1), labels.double())
    else:
        loss = F.cross_entropy(logits.reshape(-1, L), labels.reshape(-1), ignore_index=-100)
    loss.backward()
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    save_safetensors(os.path.join(out, "model.safetensors"), params32)
    expected = {"logits": logits, "loss": loss.reshape(())}
    expected.update({f"hidden.{i}": h for i, h in enumerate(hidden)})
    expected.update({f"grad.{k}": v.grad for k, v in P.items()})
    expected.update({"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels})
    save_safetensors(os.path.join(out, "expected.safetensors"), {k: v.double() for k, v in expected.items()})
    with open(os.path.join(out, "inputs.json"), "w") as f:
        json.dump(extra_inputs, f, indent=2)
    print(f"{name}: loss {loss.item():.6f}, logits {tuple(logits.shape)}, {len(P)} parameters")
    return out


def main():
    torch.manual_seed(0)
    vocab = {t: i for i, t in enumerate(WORDPIECE_VOCAB)}
    labels3 = {"0": "negative", "1": "neutral", "2": "positive"}

    # 1. BERT sequence classification, 3 labels, text pairs (token types 0/1), vocab.txt.
    texts = ["the movie was good", "the plot was boring .", "a cat sat on the mat"]
    pairs = ["i like it", "i hate this film", None]
    ids, mask, types = pad_rows(encode_bert(vocab, texts, pairs), 0)
    cfg = base_config("bert", architectures=["BertForSequenceClassification"], id2label=labels3,
                      label2id={v: int(k) for k, v in labels3.items()}, problem_type="single_label_classification")
    d = build("bert_seq_cls", cfg, "seq", ids, mask, types, torch.tensor([2, 0, 1]), 1, {"texts": texts, "pairs": pairs})
    open(os.path.join(d, "vocab.txt"), "w").write("\n".join(WORDPIECE_VOCAB) + "\n")
    json.dump({"do_lower_case": True, "model_max_length": 64}, open(os.path.join(d, "tokenizer_config.json"), "w"))

    # 2. BERT regression (num_labels 1), relu, tokenizer.json only.
    texts = ["The acting was GREAT !", "very boring film", "it was fun and really good ."]
    ids, mask, types = pad_rows(encode_bert(vocab, [t.lower() for t in texts], [None] * 3), 0)
    cfg = base_config("bert", architectures=["BertForSequenceClassification"], id2label={"0": "LABEL_0"},
                      label2id={"LABEL_0": 0}, problem_type="regression", hidden_act="relu")
    d = build("bert_regression", cfg, "seq", ids, mask, types, torch.tensor([4.5, 1.0, 3.75]), 2, {"texts": texts})
    json.dump(bert_tokenizer_json(vocab), open(os.path.join(d, "tokenizer.json"), "w"))

    # 3. RoBERTa sequence classification, 2 labels, gelu_new (tanh GELU), pad 1, positions from pad + 1,
    #    vocab.json + merges.txt. Inputs: <s> a </s></s> b </s> with random ids.
    bv, merges = bpe_vocab()
    gen = torch.Generator().manual_seed(3)
    rnd = lambda n: torch.randint(4, len(bv) - 1, (n,), generator=gen).tolist()
    rows = [[0] + rnd(5) + [2, 2] + rnd(3) + [2], [0] + rnd(4) + [2], [0] + rnd(8) + [2]]
    ids, mask, types = pad_rows([(r, [0] * len(r)) for r in rows], 1)
    cfg = base_config("roberta", architectures=["RobertaForSequenceClassification"], vocab_size=len(bv),
                      max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                      hidden_act="gelu_new", id2label={"0": "neg", "1": "pos"}, label2id={"neg": 0, "pos": 1})
    d = build("roberta_seq_cls", cfg, "seq", ids, mask, types, torch.tensor([1, 0, 1]), 3, {})
    json.dump(bv, open(os.path.join(d, "vocab.json"), "w"), ensure_ascii=False)
    open(os.path.join(d, "merges.txt"), "w").write("#version: 0.2\n" + "\n".join(merges) + "\n")

    # 4. ELECTRA token classification, embedding_size 16 != hidden 32 (embeddings_project), 5 labels, vocab.txt.
    tags = {"0": "O", "1": "B-PER", "2": "I-PER", "3": "B-LOC", "4": "I-LOC"}
    words = [["john", "lives", "in", "paris"], ["mary", "was", "walking", "in", "new", "london"],
             ["the", "unaffable", "player", "runs", "home"]]
    word_labels = [[1, 0, 0, 3], [1, 0, 0, 0, 3, 4], [0, 0, 0, 0, 0]]
    rows = encode_words(vocab, words, word_labels)
    ids, mask, types = pad_rows(rows, 0)
    T = ids.shape[1]
    labels = torch.tensor([r[2] + [-100] * (T - len(r[2])) for r in rows])
    cfg = base_config("electra", architectures=["ElectraForTokenClassification"], embedding_size=16,
                      id2label=tags, label2id={v: int(k) for k, v in tags.items()})
    d = build("electra_tok_cls", cfg, "token", ids, mask, types, labels, 4, {"words": words, "word_labels": word_labels})
    open(os.path.join(d, "vocab.txt"), "w").write("\n".join(WORDPIECE_VOCAB) + "\n")


def bert_tokenizer_json(vocab):
    """The tokenizer.json transformers writes for a lower-casing BertTokenizerFast."""
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]]
    sp = lambda t, i: {"SpecialToken": {"id": t, "type_id": i}}
    sq = lambda t, i: {"Sequence": {"id": t, "type_id": i}}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing", "single": [sp("[CLS]", 0), sq("A", 0), sp("[SEP]", 0)],
            "pair": [sp("[CLS]", 0), sq("A", 0), sp("[SEP]", 0), sq("B", 1), sp("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


if __name__ == "__main__":
    main()
