#!/usr/bin/env python3
"""Fixtures for the OPUS-MT tokenizer conversion (src/model/spm.ts, src/model/marian_tokenizer.ts): two tiny
SentencePiece Unigram models trained by the real sentencepiece library, an OPUS-MT style shared vocab.json and
what transformers' MarianTokenizer gives for a set of test sentences, computed here with sentencepiece itself.

Models (deterministic: one thread, no sampling, character_coverage 1.0 so every training character is a piece):
  source.spm  "English": the first 300 Brown paragraphs of data/brown_genre/train.jsonl, vocab 240.
  target.spm  "Romanian-like": the next 300 paragraphs through romanianish() below (th -> ț, sh -> ș, ...; w, y,
      k, q, x never occur), vocab 240. The two alphabets differ both ways, so each side's vocab.json has
      one-character pieces of the other language, which this side must map to <unk>.
  Normalization: the full nmt_nfkc charsmap (OPUS-MT's) is ~237 KB per model, so the models are trained with a
  small rule table instead (normalization_rule_tsv, name "user_defined"): nmt_nfkc's own mapping of every
  character of the corpora and the test sentences (and of the decomposed sequences in them), read off a reference
  model trained with nmt_nfkc. The script checks that the reference model has the same pieces and scores and
  segments every test sentence the same way, so for these sentences the small models behave as nmt_nfkc ones.
  keep_spaces.spm  English, identity normalization, remove_extra_whitespaces false (spaces kept as they are).
  bpe.spm  a BPE model (not convertible: the error test).

vocab.json as OPUS-MT's (one map for both sides, ids unrelated to the SentencePiece ids): </s> 0, <unk> 1, the
source model's normal pieces in its order, the target's not yet present, the language code >>ro<<, <pad> last.

MarianTokenizer semantics (transformers src/transformers/models/marian/tokenization_marian.py): a leading
language code >>xx<< is split off as one token (remove_language_code); the rest is spm.encode(text, out_type=str)
with the side's model; each piece -> vocab.json id, a piece that vocab.json lacks -> <unk>'s id (the classic rule;
recent transformers versions fall back to the SentencePiece id instead, which is not a vocab.json id); then </s>.
decode(ids, skip_special_tokens=True): ids -> vocab.json pieces, </s> <unk> <pad> dropped, spm.decode_pieces,
"▁" -> " ", strip(). Sacremoses punctuation normalization (used by MarianTokenizer when installed) is left out.

expected.json: {"source": [...], "target": [...], "keep_spaces": [...]}, each case {"text", "pieces", "ids",
"decoded"}; keep_spaces ids are that model's own SentencePiece ids + </s> (its vocab is its piece list) and
its decoded text is sentencepiece's decode of them without <unk> (no strip: that model keeps spaces).
Run: /usr/bin/python3 scripts/make_spm_fixtures.py  (needs python3-sentencepiece; rewrites tests/fixtures/marian_spm/).
"""
import io
import json
import os
import re
import tempfile
import unicodedata

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "marian_spm")
SPECIALS = ["</s>", "<unk>", "<pad>"]
LANG_CODE = ">>ro<<"

SUBST = [("th", "ț"), ("Th", "Ț"), ("TH", "Ț"), ("sh", "ș"), ("Sh", "Ș"), ("SH", "Ș"), ("ea", "â"), ("in", "în"),
         ("w", "v"), ("W", "V"), ("y", "i"), ("Y", "I"), ("k", "c"), ("K", "C"), ("q", "c"), ("Q", "C"),
         ("x", "cs"), ("X", "CS")]


def romanianish(text):
    """A deterministic 'translation': letter substitutions, and a word-final a becomes ă."""
    for a, b in SUBST:
        text = text.replace(a, b)
    return re.sub(r"a\b", "ă", text)


SOURCE_TESTS = [
    "The cat sat on the mat.",
    "It urged that the next Legislature provide enabling funds.",
    "In 1913, they had 2 sons and 3 daughters; 42% said 3.14 is pi.",
    "Hello,  world!  Two  spaces.",
    "   leading and trailing spaces   ",
    "tab\tseparated\twords",
    "Mr. J. M. Cheshire of Griffin (Ga.) said: \"No!\"",
    "Romanian letters: ă ș ț î â",
    "Țară și apă",
    "runs: ășțîâ, ăж and жă; alone: ă.",
    "Unknown: ж and 漢字 here",
    "жж starts with unknown characters",
    "ends with unknown ж",
    "",
    "   ",
    "ﬁne ligature and ＦＵＬＬ width １２３",
    "nbsp\u00a0here and ideographic\u3000space",
    "zero\u200bwidth and a\u2581block",
    "cafe\u0301 and naïve",
    "line\nbreak and carriage\r\nreturn",
    "ALL CAPS SENTENCE WITH QUIZ",
    "antidisestablishmentarianism",
    "The quick brown fox jumps over the lazy dog.",
    "what's the answer?! (yes) [no] {maybe} <tag> #1 @home & 50$",
    LANG_CODE + " The cat sat.",
    "a",
]
TARGET_TESTS = [
    romanianish("The cat sat on the mat."),
    romanianish("It urged that the next Legislature provide enabling funds."),
    "Țara și apa sunt în câmp.",
    "ĂȘȚÎÂ și ășțîâ",
    "Anul 1913, ziua 2; 42% din 3.14.",
    "Două  spații  aici.",
    "  spații la început și la sfârșit  ",
    "tab\tîntre\tcuvinte",
    "Washington, York, quiz and xylophone",
    "wy",
    "Ea a spus: „Da!” — apoi a plecat…",
    "ş ţ with cedillas",
    "a\u0306 compus și i\u0302",
    "ﬁ ligatură și ＬＡＴ",
    "nbsp\u00a0aici",
    "",
    "\t",
    "ж",
    romanianish("Mr. J. M. Cheshire of Griffin (Ga.) said: \"No!\""),
    romanianish("The quick brown fox jumps over the lazy dog."),
    "Pisica stă.",
    "ALL CAPS ȘI MAJUSCULE",
    "123 456 7890",
    "zero\u200bwidth",
    "line\nbreak",
]
KEEP_SPACES_TESTS = ["  two leading", "trailing  ", "in  the   middle", " ", "plain text", "", "tab\there"]


def brown_paragraphs():
    with open(os.path.join(ROOT, "data", "brown_genre", "train.jsonl"), encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f][:600]


def train(lines, vocab_size, **kwargs):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, vocab_size=vocab_size,
                                   character_coverage=1.0, num_threads=1, hard_vocab_limit=False,
                                   minloglevel=2, **kwargs)
    return buf.getvalue()


def processor(proto):
    return spm.SentencePieceProcessor(model_proto=proto)


def rule_table(ref, texts):
    """nmt_nfkc's mapping (as `ref` applies it) of each character of `texts` and each base + combining mark."""
    keys = set()
    for t in texts:
        for i, c in enumerate(t):
            keys.add(c)
            if unicodedata.combining(c) and i > 0:
                keys.add(t[i - 1:i + 1])
    rules = []
    for k in sorted(keys):
        if unicodedata.combining(k[0]):
            continue  # a lone mark would join the neighbour used below
        # "a" + k + "b" keeps k inside the text, so whitespace survives as the ▁ between a and b.
        norm = "".join(ref.encode("a" + k + "b", out_type=str))[2:-1].replace("\u2581", " ")
        if norm != k:
            rules.append(" ".join(f"{ord(c):X}" for c in k) + "\t" + " ".join(f"{ord(c):X}" for c in norm))
    return "\n".join(rules) + "\n"


def train_side(lines, tests, tmp, name):
    ref_proto = train(lines, 240, model_type="unigram", normalization_rule_name="nmt_nfkc")
    ref = processor(ref_proto)
    # The model stores the rule file's name: a relative one keeps the output the same from run to run.
    with open(os.path.join(tmp, name + ".tsv"), "w", encoding="utf-8") as f:
        f.write(rule_table(ref, lines + tests))
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        proto = train(lines, 240, model_type="unigram", normalization_rule_tsv=name + ".tsv")
    finally:
        os.chdir(cwd)
    sp = processor(proto)
    table = lambda p: [(p.id_to_piece(i), p.get_score(i)) for i in range(p.get_piece_size())]
    assert table(sp) == table(ref), f"{name}: the rule table changes the trained model"
    for t in tests:
        assert sp.encode(t, out_type=str) == ref.encode(t, out_type=str), f"{name}: {t!r} differs from nmt_nfkc"
    return proto, sp


def marian_cases(sp, tests, vocab):
    inverse = {i: p for p, i in vocab.items()}
    cases = []
    for text in tests:
        code, rest = [], text
        if text.startswith(">>") and "<<" in text:
            end = text.index("<<") + 2
            code, rest = [text[:end]], text[end:]
        pieces = code + sp.encode(rest, out_type=str)
        ids = [vocab.get(p, vocab["<unk>"]) for p in pieces] + [vocab["</s>"]]
        kept = [inverse[i] for i in ids if inverse[i] not in SPECIALS]
        decoded = sp.decode_pieces(kept).replace("\u2581", " ").strip()
        cases.append({"text": text, "pieces": pieces, "ids": ids, "decoded": decoded})
    return cases


def main():
    paragraphs = brown_paragraphs()
    english = paragraphs[:300]
    romanian = [romanianish(p) for p in paragraphs[300:600]]
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src_proto, src = train_side(english, SOURCE_TESTS, tmp, "source")
        tgt_proto, tgt = train_side(romanian, TARGET_TESTS, tmp, "target")
    keep_proto = train(english, 150, model_type="unigram", normalization_rule_name="identity",
                       remove_extra_whitespaces=False)
    bpe_proto = train(english[:100], 100, model_type="bpe", normalization_rule_name="identity")

    vocab = {"</s>": 0, "<unk>": 1}
    for sp in (src, tgt):
        for i in range(sp.get_piece_size()):
            if not (sp.is_control(i) or sp.is_unknown(i)):
                vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab[LANG_CODE] = len(vocab)
    vocab["<pad>"] = len(vocab)
    src_chars = {p for p in vocab if len(p) == 1 and src.piece_to_id(p) != src.unk_id()}
    tgt_chars = {p for p in vocab if len(p) == 1 and tgt.piece_to_id(p) != tgt.unk_id()}
    assert tgt_chars - src_chars and src_chars - tgt_chars, "the alphabets must differ both ways"

    keep = processor(keep_proto)
    expected = {
        "source": marian_cases(src, SOURCE_TESTS, vocab),
        "target": marian_cases(tgt, TARGET_TESTS, vocab),
        "keep_spaces": [{"text": t, "pieces": keep.encode(t, out_type=str), "ids": keep.encode(t) + [keep.eos_id()],
                         "decoded": keep.decode([i for i in keep.encode(t) if i != keep.unk_id()])}
                        for t in KEEP_SPACES_TESTS],
    }
    config = {"source_lang": "en", "target_lang": "ro", "eos_token": "</s>", "unk_token": "<unk>",
              "pad_token": "<pad>", "model_max_length": 512, "separate_vocabs": False}
    files = {"source.spm": src_proto, "target.spm": tgt_proto, "keep_spaces.spm": keep_proto, "bpe.spm": bpe_proto}
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    for name, obj in {"vocab.json": vocab, "tokenizer_config.json": config}.items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:  # one case per line
        sides = [json.dumps(side) + ": [\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]"
                 for side, cases in expected.items()]
        f.write("{\n" + ",\n".join(sides) + "\n}\n")
    sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT))}
    print(f"wrote {OUT}: {sizes}; vocab {len(vocab)}; source-only chars {sorted(src_chars - tgt_chars)}, "
          f"target-only chars {sorted(tgt_chars - src_chars)}")


if __name__ == "__main__":
    main()
