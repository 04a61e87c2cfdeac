#!/usr/bin/env python3
"""Golden fixtures for Marian / OPUS-MT (`MarianMTModel`): a tiny random checkpoint, a SentencePiece-like Unigram
tokenizer.json and, for a fixed padded batch of translation pairs, the logits, the loss, the hidden states, the
gradient of the loss w.r.t. every trainable tensor and HF `generate()`'s greedy output, computed by a plain-torch
re-implementation of transformers' models/marian/modeling_marian.py (transformers itself is not needed).

Semantics, checked against huggingface/transformers src/transformers/models/marian/modeling_marian.py (MarianModel,
MarianEncoder/Decoder(+Layer), MarianAttention/eager_attention_forward, MarianSinusoidalPositionalEmbedding,
MarianMTModel, shift_tokens_right), activations.py (ACT2FN) and generation/{utils,logits_process}.py:

  embeddings: `model.shared` = nn.Embedding(V, d_model, padding_idx=pad_token_id) is THE token embedding of the
      encoder and the decoder (share_encoder_decoder_embeddings) and the lm_head weight (tie_word_embeddings);
      x = shared[ids] * sqrt(d_model) (scale_embedding) + embed_positions(arange(T)), no embedding LayerNorm.
      Positions are 0..T-1 whatever the padding (MarianSinusoidalPositionalEmbedding ignores its padding_idx
      argument). The sinusoidal table (_init_weight): angle[p, j] = p / 10000^(2 (j // 2) / dim); columns [0, dim/2)
      = sin(angle[:, 0::2]), columns [dim/2, dim) = cos(angle[:, 1::2]), i.e. column i and i + dim/2 both use the
      frequency 10000^(-2i/dim) (not interleaved); computed in float64 by numpy, stored float32, not trainable.
  attention (eager): softmax(q k^T * head_dim^-0.5 + mask) v, q/k/v/out_proj with bias; HF multiplies the scores
      (older versions: q_proj(x)) by the scaling, the same thing. Masks are additive finfo(float32).min:
      encoder self-attention and decoder cross-attention (`encoder_attn`, keys/values = encoder output) on the
      source attention_mask's zeros; decoder self-attention causal (key j > query i). No decoder padding mask is
      given in training (decoder_attention_mask None); padded target positions come after the real ones, so the
      causal mask already keeps them out of every real position.
  layers (post-LN, normalize_before false, nn.LayerNorm eps 1e-5):
      encoder: h = LN(x + out_proj(attn(x))); out = LN(h + fc2(act(fc1(h))));
      decoder: h = LN(x + self_attn(x, causal)); h = LN(h + encoder_attn(h, enc_out)); out = LN(h + fc2(act(fc1(h)))),
      act = ACT2FN["swish"] = SiLU (x * sigmoid(x)). Dropout off (eval / dropout-free reference).
  head: logits = dec_out @ shared^T + final_logits_bias (a (1, V) buffer, in the state dict, not trainable).
  loss: CrossEntropyLoss (mean over labels != -100); decoder_input_ids = shift_tokens_right(labels, pad,
      decoder_start_token_id): [start] + labels[:-1], -100 -> pad. The decoder start token IS the pad token (V-1).
  gradients: the shared embedding's is the sum of the encoder lookup, the decoder lookup and the lm_head paths;
      nn.Embedding's padding_idx gives the pad row no gradient from the two lookups (the decoder start token and
      source padding are pad), but it gets the lm_head's. No gradient for final_logits_bias and the position tables.
  generate(num_beams=1, do_sample=False, max_new_tokens=8): decoder ids start as [[decoder_start_token_id]];
      max_length = 8 + 1 = 9 (max_new_tokens + decoder input length); per step, the last position's logits go
      through NoBadWordsLogitsProcessor (bad_words_ids [[pad]]: pad's score -inf) and, because the config has
      forced_eos_token_id 0, ForcedEOSTokenLogitsProcessor: when cur_len == max_length - 1 (the 8th new token)
      every score but eos's is -inf; next = argmax; rows already finished get pad instead; a row finishes when it
      emits eos_token_id; the loop stops when every row finished or the length reaches max_length.

The parameters are random (seeded; std 0.3 weights and embeddings, 0.1 biases and final_logits_bias, LayerNorm
weights 1 + 0.1 N, biases 0.1 N), the pad row included (a converted OPUS-MT checkpoint has a zero pad row; a
random one checks that the decoder start token's embedding is really used). The seed is the first from SEED on
for which greedy generation has no near-tie (top-2 processed scores >= GEN_MARGIN apart at every unforced step of
every unfinished row) and one row stops at its own eos before the forced last step while another is forced.

Not reproduced on purpose: save_pretrained leaves the position tables out (MarianMTModel._keys_to_ignore_on_save);
they are stored here so the tables can be compared, and a loader must also accept checkpoints without them.

AD-DROP attribution (attribution.safetensors), same batch, dropout off: pseudo-labels = argmax of the logits at every
position with labels != -100; F = -(mean cross entropy of the logits against them); dprobs.<l> = dF/dA_l for every
encoder layer l, A_l the self-attention probabilities after softmax (the tensor multiplied by V), all query rows
and key columns (padded keys have A = 0 but a gradient; padded query rows get autograd's, here 0).
Integrated gradients (same file, Hao et al.'s self-attention attribution, zero baseline), per encoder layer l
separately: ig.<l> = A_l * (1/m) sum_{k=1..m} dF(alpha A_l)/d(alpha A_l) at alpha = k/m, m = IG_STEPS (right
Riemann sum), where the scaled pass multiplies layer l's A_l (all heads) by alpha before it multiplies V, the other
layer runs unscaled, the pseudo-labels stay the clean pass's and the gradient is w.r.t. the scaled tensor. m = 1
gives A_l * dprobs.<l>; sum(ig.<l>) ~ F(alpha = 1) - F(alpha = 0) (completeness; at alpha = 0 layer l's attention
context is 0, its output out_proj's bias).

Outputs: tests/fixtures/marian/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json, pairs.jsonl,
expected.safetensors, attribution.safetensors}. Tokenizer ids are this script's Unigram Viterbi; they were checked
against npm:@huggingface/tokenizers@0.2.0 (src/model/tokenizer.ts's loadTokenizer) for every pair.
Computed in float64 from the float32 parameters; outputs stored as float32 (integer tensors exactly).
Files and layout: tests/fixtures/README.md ("Marian / OPUS-MT fixtures").
Run: /usr/bin/python3 scripts/make_marian_fixtures.py  (needs python3-torch and numpy; deterministic).
     /usr/bin/python3 scripts/make_marian_fixtures.py --check  also runs finite differences on a few gradient
     entries, a few SGD steps, finite differences on two dprobs.0 entries and the ig checks (m = 1 equals
     A * dprobs exactly; completeness at m = IG_STEPS and 200) (prints only; the files are the same).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import F32_MIN, ROOT, save_safetensors  # noqa: E402

OUT = os.path.join(ROOT, "marian")
META = "\u2581"
SEED = 20
GEN_MARGIN = 1e-2  # float32 GPU logits are within ~1e-5 of these; 1e-2 leaves a wide margin
MAX_NEW_TOKENS = 8

# English -> "pseudo-Romanian" pairs; the batch is BATCH_PAIRS of them (source lengths 7, 4, 3 with </s>, target
# lengths 5, 4, 3).
PAIRS = [
    ("the cat sits", "pisica sta"),
    ("the dog runs", "cainele alearga"),
    ("the cats sleep", "pisicile dorm"),
    ("a small house", "o casa mica"),
    ("i see the dog", "eu vad cainele"),
    ("the dogs eat the fish", "cainii mananca peste"),
    ("we like the small cat", "noi iubim pisica mica"),
    ("we sleep", "dormim"),
    ("the house is big", "casa este mare"),
]
BATCH_PAIRS = [5, 0, 7]

# SentencePiece-like Unigram vocabulary: id 0 </s>, 1 <unk>, whole words with the "▁" prefix, sub-word pieces, the
# bare "▁" and a few letters; <pad> last (as the OPUS-MT converter appends it). Log-probabilities chosen so that
# the intended segmentation is the unique best one (e.g. ▁pisic+ile -19.5 beats ▁pisici+le -21.5, ▁cain+ele -18
# beats ▁cain+e+le -30).
VOCAB = [("</s>", 0.0), ("<unk>", 0.0)]
VOCAB += [(META + w, s) for w, s in [
    ("the", -6.0), ("cat", -8.5), ("sits", -9.5), ("dog", -8.5), ("runs", -9.5), ("sleep", -9.5), ("a", -7.0),
    ("small", -9.0), ("house", -9.0), ("i", -7.5), ("see", -9.0), ("eat", -9.0), ("fish", -9.5), ("we", -8.0),
    ("like", -8.5), ("is", -7.5), ("big", -9.0),
    ("pisic", -9.5), ("pisici", -11.0), ("sta", -9.0), ("cain", -9.0), ("alearga", -10.0), ("dorm", -9.5),
    ("o", -7.5), ("casa", -9.0), ("mica", -9.5), ("eu", -8.0), ("vad", -9.5), ("mananca", -10.0), ("peste", -9.5),
    ("noi", -8.5), ("iubim", -10.0), ("este", -8.0), ("mare", -9.0),
]]
VOCAB += [("s", -6.5), ("a", -6.5), ("ile", -10.0), ("le", -10.5), ("ele", -9.0), ("ii", -9.5), ("im", -9.5),
          (META, -5.0), ("e", -10.0), ("i", -10.0), ("o", -10.5)]
VOCAB += [("<pad>", 0.0)]
V = len(VOCAB)
EOS, UNK, PAD = 0, 1, V - 1


def config():
    return {
        "_name_or_path": "tiny-random-opus-mt-en-ro", "activation_dropout": 0.0, "activation_function": "swish",
        "architectures": ["MarianMTModel"], "attention_dropout": 0.0, "bad_words_ids": [[PAD]], "bos_token_id": 0,
        "classifier_dropout": 0.0, "d_model": 16, "decoder_attention_heads": 4, "decoder_ffn_dim": 24,
        "decoder_layerdrop": 0.0, "decoder_layers": 2, "decoder_start_token_id": PAD, "decoder_vocab_size": V,
        "dropout": 0.1, "encoder_attention_heads": 4, "encoder_ffn_dim": 24, "encoder_layerdrop": 0.0,
        "encoder_layers": 2, "eos_token_id": EOS, "forced_eos_token_id": EOS, "init_std": 0.02,
        "is_encoder_decoder": True, "max_length": 64, "max_position_embeddings": 64, "model_type": "marian",
        "normalize_before": False, "normalize_embedding": False, "num_beams": 1, "num_hidden_layers": 2,
        "pad_token_id": PAD, "scale_embedding": True, "share_encoder_decoder_embeddings": True,
        "static_position_embeddings": True, "tie_word_embeddings": True, "torch_dtype": "float32",
        "transformers_version": "4.46.0", "use_cache": True, "vocab_size": V,
    }


# --- tokenizer -------------------------------------------------------------------------------------------------

def tokenizer_json():
    """The tokenizer.json of a SentencePiece Unigram model as tokenizers' converters write it (one model for both
    languages: real OPUS-MT checkpoints ship source.spm / target.spm and the slow MarianTokenizer instead)."""
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, t in [(EOS, "</s>"), (UNK, "<unk>"), (PAD, "<pad>")]]
    seq = lambda s: {"Sequence": {"id": s, "type_id": 0}}
    eos = {"SpecialToken": {"id": "</s>", "type_id": 0}}
    meta = {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": meta,
        "post_processor": {"type": "TemplateProcessing", "single": [seq("A"), eos], "pair": [seq("A"), seq("B"), eos],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [EOS], "tokens": ["</s>"]}}},
        "decoder": meta,
        "model": {"type": "Unigram", "unk_id": UNK, "vocab": [[p, s] for p, s in VOCAB], "byte_fallback": False},
    }


def tokenizer_config():
    """The special tokens as an OPUS-MT tokenizer_config.json names them (src/model/tokenizer.ts reads pad_token)."""
    return {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "model_max_length": 64,
            "source_lang": "en", "target_lang": "ro", "separate_vocabs": False, "tokenizer_class": "MarianTokenizer"}


def unigram(word):
    """Viterbi segmentation (max summed log-probability) of one "▁word" over VOCAB's non-special pieces; an
    uncovered character becomes <unk> (sentencepiece's rule; not needed by PAIRS)."""
    score = {p: s for p, s in VOCAB[2:-1]}
    unk = min(s for _, s in VOCAB) - 10
    best = [(0.0, [])] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            if best[start] is None:
                continue
            piece = word[start:end]
            s = score.get(piece, unk if end - start == 1 else None)
            if s is None:
                continue
            cand = (best[start][0] + s, best[start][1] + [piece if piece in score else "<unk>"])
            if best[end] is None or cand[0] > best[end][0]:
                best[end] = cand
    return best[-1][1]


def encode(text):
    """Ids of `text` + </s> (Metaspace: spaces -> ▁, ▁ prepended; Unigram per word; TemplateProcessing)."""
    ids = {p: i for i, (p, _) in enumerate(VOCAB)}
    pieces = [p for w in text.split(" ") for p in unigram(META + w)]
    return [ids[p] for p in pieces] + [EOS], pieces


# --- model -----------------------------------------------------------------------------------------------------

def sinusoidal(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding._init_weight, to float32."""
    enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.empty(n_pos, dim, dtype=torch.float32)
    half = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, 0:half] = torch.FloatTensor(np.sin(enc[:, 0::2]))
    out[:, half:] = torch.FloatTensor(np.cos(enc[:, 1::2]))
    return out


def param_shapes(cfg):
    """HF state-dict names and shapes, as save_pretrained writes them (tied copies under
    model.{encoder,decoder}.embed_tokens and lm_head dropped; model.shared.weight kept)."""
    C, Vv, P = cfg["d_model"], cfg["vocab_size"], cfg["max_position_embeddings"]
    s = {"model.shared.weight": (Vv, C)}

    def attn(prefix):
        for n in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            s.update({f"{prefix}.{n}.weight": (C, C), f"{prefix}.{n}.bias": (C,)})

    def ln(name):
        s.update({name + ".weight": (C,), name + ".bias": (C,)})

    def ffn(a, inner):
        s.update({a + "fc1.weight": (inner, C), a + "fc1.bias": (inner,)})
        s.update({a + "fc2.weight": (C, inner), a + "fc2.bias": (C,)})

    s["model.encoder.embed_positions.weight"] = (P, C)
    for l in range(cfg["encoder_layers"]):
        a = f"model.encoder.layers.{l}."
        attn(a + "self_attn")
        ln(a + "self_attn_layer_norm")
        ffn(a, cfg["encoder_ffn_dim"])
        ln(a + "final_layer_norm")
    s["model.decoder.embed_positions.weight"] = (P, C)
    for l in range(cfg["decoder_layers"]):
        a = f"model.decoder.layers.{l}."
        attn(a + "self_attn")
        ln(a + "self_attn_layer_norm")
        attn(a + "encoder_attn")
        ln(a + "encoder_attn_layer_norm")
        ffn(a, cfg["decoder_ffn_dim"])
        ln(a + "final_layer_norm")
    s["final_logits_bias"] = (1, Vv)
    return s


FROZEN = ("model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight", "final_logits_bias")
IG_STEPS = 20  # integrated gradients: Riemann steps alpha = k / IG_STEPS, k = 1..IG_STEPS


def random_params(cfg, gen):
    out = {}
    for name, shape in param_shapes(cfg).items():
        if name.endswith("embed_positions.weight"):
            t = sinusoidal(*shape)
        elif "layer_norm.weight" in name:
            t = 1 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith("bias"):  # final_logits_bias included
            t = 0.1 * torch.randn(shape, generator=gen)
        else:
            t = 0.3 * torch.randn(shape, generator=gen)
        out[name] = t.to(torch.float32)
    return out


def attention(P, name, x, kv, mask, nh, probe=None):
    """MarianAttention (eager): mask is additive, broadcast to (B, nh, Tq, Tk). `probe(probs)`, if given, sees the
    post-softmax probabilities (the tensor multiplied by V) and returns the tensor used in their place."""
    B, Tq, C = x.shape
    Tk, D = kv.shape[1], C // nh
    lin = lambda n, v: F.linear(v, P[f"{name}.{n}.weight"], P[f"{name}.{n}.bias"])
    q = lin("q_proj", x).view(B, Tq, nh, D).transpose(1, 2)
    k = lin("k_proj", kv).view(B, Tk, nh, D).transpose(1, 2)
    v = lin("v_proj", kv).view(B, Tk, nh, D).transpose(1, 2)
    probs = torch.softmax(q @ k.transpose(-1, -2) * D**-0.5 + mask, dim=-1)
    if probe is not None:
        probs = probe(probs)
    return lin("out_proj", (probs @ v).transpose(1, 2).reshape(B, Tq, C))


def encode_source(cfg, P, ids, mask, probe=None):
    """Encoder hidden states: [embedding output, layer 1, ..., layer L]. `probe(l, probs)`, if given, is layer l's
    self-attention probe (see attention)."""
    C, eps, nh = cfg["d_model"], 1e-5, cfg["encoder_attention_heads"]
    T = ids.shape[1]
    x = F.embedding(ids, P["model.shared.weight"], padding_idx=cfg["pad_token_id"]) * math.sqrt(C)
    x = x + P["model.encoder.embed_positions.weight"][:T]
    m = (1.0 - mask[:, None, None, :].double()) * F32_MIN
    ln = lambda n, v: F.layer_norm(v, (C,), P[n + ".weight"], P[n + ".bias"], eps)
    lin = lambda n, v: F.linear(v, P[n + ".weight"], P[n + ".bias"])
    hidden = [x]
    for l in range(cfg["encoder_layers"]):
        a = f"model.encoder.layers.{l}."
        pr = None if probe is None else (lambda probs, l=l: probe(l, probs))
        x = ln(a + "self_attn_layer_norm", x + attention(P, a + "self_attn", x, x, m, nh, pr))
        x = ln(a + "final_layer_norm", x + lin(a + "fc2", F.silu(lin(a + "fc1", x))))
        hidden.append(x)
    return hidden


def decode(cfg, P, dec_ids, enc_out, mask):
    """Logits (B, T, V) and decoder hidden states [embedding output, layer 1, ..., layer L]."""
    C, eps, nh = cfg["d_model"], 1e-5, cfg["decoder_attention_heads"]
    T = dec_ids.shape[1]
    W = P["model.shared.weight"]
    x = F.embedding(dec_ids, W, padding_idx=cfg["pad_token_id"]) * math.sqrt(C)
    x = x + P["model.decoder.embed_positions.weight"][:T]
    causal = torch.triu(torch.full((T, T), F32_MIN, dtype=x.dtype), diagonal=1)[None, None]
    cross = (1.0 - mask[:, None, None, :].double()) * F32_MIN
    ln = lambda n, v: F.layer_norm(v, (C,), P[n + ".weight"], P[n + ".bias"], eps)
    lin = lambda n, v: F.linear(v, P[n + ".weight"], P[n + ".bias"])
    hidden = [x]
    for l in range(cfg["decoder_layers"]):
        a = f"model.decoder.layers.{l}."
        x = ln(a + "self_attn_layer_norm", x + attention(P, a + "self_attn", x, x, causal, nh))
        x = ln(a + "encoder_attn_layer_norm", x + attention(P, a + "encoder_attn", x, enc_out, cross, nh))
        x = ln(a + "final_layer_norm", x + lin(a + "fc2", F.silu(lin(a + "fc1", x))))
        hidden.append(x)
    return F.linear(x, W) + P["final_logits_bias"], hidden


def shift_tokens_right(labels, pad, start):
    out = torch.zeros_like(labels)
    out[:, 1:] = labels[:, :-1]
    out[:, 0] = start
    return out.masked_fill(out == -100, pad)


def forward_loss(cfg, P, ids, mask, labels):
    dec_ids = shift_tokens_right(labels, cfg["pad_token_id"], cfg["decoder_start_token_id"])
    enc = encode_source(cfg, P, ids, mask)
    logits, dec = decode(cfg, P, dec_ids, enc[-1], mask)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    return loss, logits, enc, dec, dec_ids


def attribution_objective(cfg, P, ids, mask, labels, probe, pseudo=None):
    """AD-DROP's objective for translation: F = -(mean cross entropy of the logits against the pseudo-labels), the
    pseudo-labels being the argmax of the logits at every position with labels != -100 (-100 elsewhere), taken from
    this pass unless given. `probe(l, probs)` sees encoder layer l's self-attention probabilities (encode_source).
    Returns F, the logits and the pseudo-labels."""
    dec_ids = shift_tokens_right(labels, cfg["pad_token_id"], cfg["decoder_start_token_id"])
    enc = encode_source(cfg, P, ids, mask, probe)
    logits = decode(cfg, P, dec_ids, enc[-1], mask)[0]
    if pseudo is None:
        pseudo = torch.where(labels != -100, logits.detach().argmax(-1), torch.full_like(labels, -100))
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), pseudo.reshape(-1), ignore_index=-100)
    return -ce, logits, pseudo


def attribution(cfg, params32, ids, mask, labels):
    """F, the logits, the pseudo-labels and, per encoder layer l, dF/dA_l (B, nh, Ts, Ts), A_l the post-softmax
    self-attention probabilities (retain_grad on the softmax output: every query row and key column, padded ones
    included), plus the smallest top-2 logit gap over the pseudo-labelled positions."""
    P = {k: v.double().requires_grad_(k not in FROZEN) for k, v in params32.items()}
    probs = []

    def keep(l, p):
        p.retain_grad()
        probs.append(p)
        return p

    obj, logits, pseudo = attribution_objective(cfg, P, ids, mask, labels, keep)
    obj.backward()
    top2 = logits.detach().topk(2, dim=-1).values
    gap = (top2[..., 0] - top2[..., 1])[labels != -100].min().item()
    return obj, logits, pseudo, [p.grad for p in probs], gap


def scaled_objective(cfg, P, ids, mask, labels, pseudo, layer, alpha, grad=True):
    """F with encoder layer `layer`'s self-attention probabilities A (all heads) replaced by alpha * A (a leaf, so
    dF/d(alpha A) is what autograd returns for it), the other layers unscaled, the pseudo-labels fixed. Returns F,
    A and dF/d(alpha A) (None unless grad)."""
    seen = {}

    def scale(l, p):
        if l != layer:
            return p
        seen["A"] = p.detach()
        seen["S"] = (alpha * p.detach()).requires_grad_(grad)
        return seen["S"]

    with torch.set_grad_enabled(grad):
        obj = attribution_objective(cfg, P, ids, mask, labels, scale, pseudo)[0]
    g = torch.autograd.grad(obj, seen["S"])[0] if grad else None
    return obj.detach(), seen["A"], g


def integrated_gradients(cfg, params32, ids, mask, labels, pseudo, layer, m):
    """Hao et al.'s self-attention attribution for encoder layer `layer` (zero baseline, right Riemann sum):
    A * (1/m) sum_{k=1..m} dF(k/m A)/d(k/m A), (B, nh, Ts, Ts), float64."""
    P = {k: v.double() for k, v in params32.items()}
    total, A = 0, None
    for k in range(1, m + 1):
        _, A, g = scaled_objective(cfg, P, ids, mask, labels, pseudo, layer, k / m)
        total = total + g
    return A * total / m


def generate(cfg, P, ids, mask, max_new_tokens):
    """HF greedy generate (see the module docstring). Returns the ids, the smallest top-2 gap of the processed
    scores over the unforced steps of unfinished rows, and whether each row ended on its own eos."""
    pad, eos = cfg["pad_token_id"], cfg["eos_token_id"]
    with torch.no_grad():
        enc_out = encode_source(cfg, P, ids, mask)[-1]
        B = ids.shape[0]
        out = torch.full((B, 1), cfg["decoder_start_token_id"], dtype=torch.long)
        max_length = max_new_tokens + 1
        unfinished = torch.ones(B, dtype=torch.bool)
        natural = [False] * B
        min_gap = math.inf
        while out.shape[1] < max_length:
            scores = decode(cfg, P, out, enc_out, mask)[0][:, -1].clone()
            for bad in cfg["bad_words_ids"]:
                scores[:, bad[0]] = -math.inf
            forced = out.shape[1] == max_length - 1
            if forced:
                scores[:] = -math.inf
                scores[:, cfg["forced_eos_token_id"]] = 0
            else:
                top2 = scores.topk(2, dim=-1).values
                gaps = (top2[:, 0] - top2[:, 1])[unfinished]
                if gaps.numel():
                    min_gap = min(min_gap, gaps.min().item())
            nxt = scores.argmax(-1)
            nxt = torch.where(unfinished, nxt, torch.full_like(nxt, pad))
            for b in range(B):
                if unfinished[b] and nxt[b] == eos and not forced:
                    natural[b] = True
            out = torch.cat([out, nxt[:, None]], 1)
            unfinished &= nxt != eos
            if not unfinished.any():
                break
    return out, min_gap, natural


# --- batch and files -------------------------------------------------------------------------------------------

def batch():
    src = [encode(PAIRS[i][0])[0] for i in BATCH_PAIRS]
    tgt = [encode(PAIRS[i][1])[0] for i in BATCH_PAIRS]
    Ts, Tt = max(map(len, src)), max(map(len, tgt))
    ids = torch.tensor([r + [PAD] * (Ts - len(r)) for r in src])
    mask = torch.tensor([[1] * len(r) + [0] * (Ts - len(r)) for r in src])
    labels = torch.tensor([r + [-100] * (Tt - len(r)) for r in tgt])
    return ids, mask, labels


def pick_seed(cfg, ids, mask):
    for seed in range(SEED, SEED + 200):
        params32 = random_params(cfg, torch.Generator().manual_seed(seed))
        P = {k: v.double() for k, v in params32.items()}
        gen, gap, natural = generate(cfg, P, ids, mask, MAX_NEW_TOKENS)
        forced = [not n for n in natural]
        if gap >= GEN_MARGIN and any(natural) and any(forced):
            return seed, params32, gen, gap
    raise SystemExit("no seed without near-ties found")


def checks(cfg, params32, ids, mask, labels):
    """Finite differences (float64) on a few gradient entries and a few SGD steps; prints only."""
    P = {k: v.double().requires_grad_(k not in FROZEN) for k, v in params32.items()}
    loss = forward_loss(cfg, P, ids, mask, labels)[0]
    loss.backward()
    for name, idx in [("model.shared.weight", (7, 3)), ("model.shared.weight", (PAD, 5)),
                      ("model.encoder.layers.0.self_attn.q_proj.weight", (2, 9)),
                      ("model.decoder.layers.1.encoder_attn.k_proj.weight", (4, 1)),
                      ("model.decoder.layers.0.fc1.bias", (11,))]:
        h, vals = 1e-6, []
        for sgn in (1, -1):
            Q = {k: v.detach().clone() for k, v in P.items()}
            Q[name][idx] += sgn * h
            vals.append(forward_loss(cfg, Q, ids, mask, labels)[0].item())
        fd = (vals[0] - vals[1]) / (2 * h)
        note = "  (pad row: padding_idx drops the lookups' share from autograd, fd has it)" if idx[0] == PAD else ""
        print(f"  fd {name}{list(idx)}: autograd {P[name].grad[idx].item():.9f}  fd {fd:.9f}{note}")
    Q = {k: v.detach().clone().requires_grad_(k not in FROZEN) for k, v in P.items()}
    losses = []
    for _ in range(6):
        loss = forward_loss(cfg, Q, ids, mask, labels)[0]
        losses.append(round(loss.item(), 4))
        for v in Q.values():
            v.grad = None
        loss.backward()
        with torch.no_grad():
            for k, v in Q.items():
                if v.requires_grad:
                    v -= 0.1 * v.grad
    print(f"  SGD lr 0.1 losses: {losses}")


def attribution_checks(cfg, params32, ids, mask, labels, pseudo, dprobs):
    """Finite differences (float64) of F on two entries of dprobs.0 (one real key, one padded key, whose A is 0):
    the entry of the softmax output is moved by +-h inside the forward, the pseudo-labels stay fixed; prints only."""
    P = {k: v.double() for k, v in params32.items()}
    for l, idx in [(0, (0, 1, 3, 2)), (0, (2, 3, 1, 5))]:
        h, vals = 1e-6, []
        for sgn in (1, -1):
            def bump(layer, p, sgn=sgn):
                if layer != l:
                    return p
                d = torch.zeros_like(p)
                d[idx] = sgn * h
                return p + d
            with torch.no_grad():
                vals.append(attribution_objective(cfg, P, ids, mask, labels, bump, pseudo)[0].item())
        fd = (vals[0] - vals[1]) / (2 * h)
        pad = "  (padded key)" if mask[idx[0], idx[3]] == 0 else ""
        ag = dprobs[l][idx].item()
        print(f"  fd dprobs.{l}{list(idx)}: autograd {ag:.12f}  fd {fd:.12f}  diff {abs(ag - fd):.1e}{pad}")
    for l, g in enumerate(dprobs):
        q_pad = max(g[b, :, n:].abs().max().item() if n < g.shape[2] else 0.0
                    for b, n in enumerate(mask.sum(1).tolist()))
        k_pad = max(g[b, :, :, n:].abs().max().item() if n < g.shape[3] else 0.0
                    for b, n in enumerate(mask.sum(1).tolist()))
        print(f"  dprobs.{l}: max |.| {g.abs().max().item():.6f}, padded query rows {q_pad:.3g}, "
              f"padded key columns {k_pad:.6f}")


def ig_checks(cfg, params32, ids, mask, labels, pseudo, dprobs, ig):
    """Integrated gradients, per layer: m = 1 must equal A * dprobs exactly (float64; a single pass at alpha = 1);
    completeness: sum(ig) vs F(alpha = 1) - F(alpha = 0) at m = IG_STEPS (the stored ig) and m = 200 (right Riemann
    sum, error O(1/m)); entries at padded keys (A = 0) and padded query rows (zero gradient) are 0. Prints only."""
    P = {k: v.double() for k, v in params32.items()}
    for l, g in enumerate(dprobs):
        F1, A, _ = scaled_objective(cfg, P, ids, mask, labels, pseudo, l, 1.0, grad=False)
        F0 = scaled_objective(cfg, P, ids, mask, labels, pseudo, l, 0.0, grad=False)[0].item()
        one = integrated_gradients(cfg, params32, ids, mask, labels, pseudo, l, 1)
        print(f"  ig.{l} m 1 == A * dprobs.{l}: {torch.equal(one, A * g)} (max |diff| {(one - A * g).abs().max():.1e})")
        delta = F1.item() - F0
        for m, t in [(IG_STEPS, ig[l]), (200, integrated_gradients(cfg, params32, ids, mask, labels, pseudo, l, 200))]:
            tot = t.sum().item()
            print(f"  ig.{l} m {m}: sum {tot:.6f}  F(1) - F(0) = {F1.item():.6f} - ({F0:.6f}) = {delta:.6f}  "
                  f"rel. error {abs(tot - delta) / abs(delta):.2%}")
        zero = all(ig[l][b, :, n:].abs().max().item() == 0 and ig[l][b, :, :, n:].abs().max().item() == 0
                   for b, n in enumerate(mask.sum(1).tolist()) if n < ig[l].shape[2])
        print(f"  ig.{l}: max |.| {ig[l].abs().max().item():.6f}, padded rows/columns all 0: {zero}")


def main():
    cfg = config()
    ids, mask, labels = batch()
    seed, params32, gen, gap = pick_seed(cfg, ids, mask)
    P = {k: v.double().requires_grad_(k not in FROZEN) for k, v in params32.items()}
    loss, logits, enc, dec, dec_ids = forward_loss(cfg, P, ids, mask, labels)
    loss.backward()

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(), f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(), f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "pairs.jsonl"), "w", encoding="utf-8") as f:
        for s, t in PAIRS:
            f.write(json.dumps({"source": s, "target": t}) + "\n")
    save_safetensors(os.path.join(OUT, "model.safetensors"), params32)

    expected = {"input_ids": ids, "attention_mask": mask, "labels": labels, "decoder_input_ids": dec_ids,
                "logits": logits, "loss": loss.reshape(())}
    expected.update({f"enc_hidden.{i}": h for i, h in enumerate(enc)})
    expected.update({f"dec_hidden.{i}": h for i, h in enumerate(dec)})
    expected.update({f"grad.{k}": v.grad for k, v in P.items() if k not in FROZEN})
    expected["generated"] = gen
    save_safetensors(os.path.join(OUT, "expected.safetensors"), {k: v.double() for k, v in expected.items()})

    obj, att_logits, pseudo, dprobs, att_gap = attribution(cfg, params32, ids, mask, labels)
    assert torch.equal(att_logits.detach(), logits.detach())  # the probe does not change the forward
    attrib = {"pseudo_labels": pseudo.double(), "F": obj.detach().reshape(())}
    attrib.update({f"dprobs.{l}": g for l, g in enumerate(dprobs)})
    ig = [integrated_gradients(cfg, params32, ids, mask, labels, pseudo, l, IG_STEPS) for l in range(len(dprobs))]
    attrib.update({f"ig.{l}": t for l, t in enumerate(ig)})
    attrib["ig_steps"] = torch.tensor(float(IG_STEPS), dtype=torch.float64)
    save_safetensors(os.path.join(OUT, "attribution.safetensors"), attrib)

    print(f"marian: V {V}, seed {seed}, loss {loss.item():.6f}, logits {tuple(logits.shape)}, "
          f"{len(params32)} tensors, generated {gen.tolist()} (min top-2 gap {gap:.4f})")
    print(f"  attribution: F {obj.item():.6f}, pseudo_labels {pseudo.tolist()} (min top-2 logit gap {att_gap:.4f}), "
          f"dprobs.0..{len(dprobs) - 1} {tuple(dprobs[0].shape)}, ig.0..{len(ig) - 1} (m {IG_STEPS}) sums "
          f"{[round(t.sum().item(), 6) for t in ig]}")
    for i in BATCH_PAIRS:
        print(f"  {PAIRS[i][0]!r}: {encode(PAIRS[i][0])[1]} -> {PAIRS[i][1]!r}: {encode(PAIRS[i][1])[1]}")
    if "--check" in sys.argv:
        checks(cfg, params32, ids, mask, labels)
        attribution_checks(cfg, params32, ids, mask, labels, pseudo, dprobs)
        ig_checks(cfg, params32, ids, mask, labels, pseudo, dprobs, ig)


if __name__ == "__main__":
    main()
