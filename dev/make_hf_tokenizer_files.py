#!/usr/bin/env python3
"""Hugging Face tokenizer files for the SmolLM2 vocabulary, written by Hugging Face itself.

Run from the repository root (needs `pip install gguf tokenizers`; the model comes from
`make setup`):

    python3 dev/make_hf_tokenizer_files.py                    # files into /tmp/fingpt-hf-tokenizer
    python3 dev/make_hf_tokenizer_files.py --out-dir DIR
    python3 dev/make_hf_tokenizer_files.py --write-goldens    # also rewrite the committed fixture

1. Builds the reference `tokenizers.Tokenizer` from the GGUF exactly as dev/make_tokenizer_goldens.py
   does (it imports its build_reference) and saves, into --out-dir:
     tokenizer.json          Tokenizer.save (merges as ["a", "b"] pairs in tokenizers >= 0.20)
     vocab.json, merges.txt  the BPE model's own save (merges.txt starts with "#version: 0.2")
   These files are several MB and are NOT committed. The Swift tests (HFTokenizerFilesTests) write
   equivalent files themselves from the GGUF, and, when this folder exists (or FINGPT_HF_TOKENIZER_DIR
   names another), also load these Hugging Face-written ones and compare both the JSON structure and
   the token ids.

2. Checks that the saved files reload in `tokenizers` and give the same ids as the reference on every
   case of Tests/TokenizersTests/Fixtures/smollm2_tokenizer_goldens.json (tokenizer.json with the
   SmolLM2 pre-tokenizer), and, when `transformers` is installed, that GPT2TokenizerFast(vocab.json,
   merges.txt) agrees with the GPT-2-style reference below.

3. With --write-goldens, writes Tests/TokenizersTests/Fixtures/smollm2_vocab_merges_goldens.json: the ids
   that vocab.json + merges.txt give when loaded the way GPT-2's files are (BPE.from_file, GPT-2's
   ByteLevel pre-tokenizer, <|endoftext|> the only special token), for every golden text, with and
   without special-token matching. That is what the Swift `BPETokenizer(vocabJSONPath:mergesPath:)`
   must reproduce with its default (GPT-2) pre-tokenizer.
"""
import argparse
import json
import os
import sys

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizer_goldens import DEFAULT_GGUF, ROOT, build_reference  # noqa: E402

GOLDENS = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/smollm2_tokenizer_goldens.json")
OUT = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/smollm2_vocab_merges_goldens.json")


def gpt2_style(vocab_path, merges_path):
    """vocab.json + merges.txt loaded as GPT-2's files are: only <|endoftext|> is special."""
    tok = Tokenizer(models.BPE.from_file(vocab_path, merges_path))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return tok


def encode_both(tok, text):
    tok.encode_special_tokens = False
    ids = tok.encode(text, add_special_tokens=False).ids
    tok.encode_special_tokens = True
    plain = tok.encode(text, add_special_tokens=False).ids
    tok.encode_special_tokens = False
    return ids, plain


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--out-dir", default=os.environ.get("FINGPT_HF_TOKENIZER_DIR", "/tmp/fingpt-hf-tokenizer"))
    ap.add_argument("--write-goldens", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.gguf):
        sys.exit(f"model not found: {args.gguf} (run `make setup` or set FINGPT_MODEL)")

    ref, _, _ = build_reference(args.gguf)
    os.makedirs(args.out_dir, exist_ok=True)
    tj = os.path.join(args.out_dir, "tokenizer.json")
    ref.save(tj)
    ref.model.save(args.out_dir)
    vocab_path, merges_path = os.path.join(args.out_dir, "vocab.json"), os.path.join(args.out_dir, "merges.txt")
    print(f"wrote {tj}, {vocab_path}, {merges_path} (tokenizers {tokenizers.__version__})")

    with open(GOLDENS, encoding="utf-8") as f:
        goldens = json.load(f)
    reloaded = Tokenizer.from_file(tj)
    for case in goldens["cases"]:
        ids, plain = encode_both(reloaded, case["text"])
        assert ids == case["ids"] and plain == case["ids_no_special"], case["text"]
    print(f"reloaded tokenizer.json reproduces all {len(goldens['cases'])} golden cases")

    g2 = gpt2_style(vocab_path, merges_path)
    try:
        import inspect
        from transformers import GPT2TokenizerFast
        # transformers 5 takes vocab=/merges= (and silently ignores vocab_file=); 4.x takes vocab_file=/merges_file=.
        if "vocab" in inspect.signature(GPT2TokenizerFast.__init__).parameters:
            fast = GPT2TokenizerFast(vocab=vocab_path, merges=merges_path)
        else:
            fast = GPT2TokenizerFast(vocab_file=vocab_path, merges_file=merges_path)
        assert fast.eos_token_id == 0 and fast.bos_token_id == 0 and fast.unk_token_id == 0
    except Exception as e:  # transformers is optional
        fast = None
        print(f"note: transformers cross-check skipped ({type(e).__name__}: {e})", file=sys.stderr)
    cases = []
    for case in goldens["cases"]:
        text = case["text"]
        ids, plain = encode_both(g2, text)
        if fast is not None:
            got = fast(text, add_special_tokens=False)["input_ids"]
            assert got == ids, f"transformers GPT2TokenizerFast disagrees on {text!r}: {got} vs {ids}"
        cases.append({"text": text, "ids": ids, "ids_no_special": plain})
    print(f"GPT-2-style vocab.json + merges.txt encoded {len(cases)} cases"
          f"{', confirmed by transformers GPT2TokenizerFast' if fast is not None else ''}")

    if args.write_goldens:
        fixture = {
            "reference": f"tokenizers {tokenizers.__version__}: BPE.from_file(vocab.json, merges.txt) saved from the "
                         "SmolLM2 GGUF reference, pre-tokenizer ByteLevel(add_prefix_space=False), "
                         "special token <|endoftext|> only",
            "transformers_cross_check": fast is not None,
            "cases": cases,
        }
        body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
        with open(OUT, "w", encoding="utf-8") as f:
            f.write("{\n" + f' "reference": {json.dumps(fixture["reference"])},\n'
                    + f' "transformers_cross_check": {json.dumps(fixture["transformers_cross_check"])},\n'
                    + f' "cases": [\n{body}\n ]\n' + "}\n")
        with open(OUT, encoding="utf-8") as f:
            assert json.load(f) == fixture
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
