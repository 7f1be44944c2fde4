#!/usr/bin/env python3
"""Goldens for the Swift `.llama3` pre-tokenizer and a small Llama-3-style tokenizer.json.

Run from the repository root (needs `pip install tokenizers`; no model):

    python3 dev/make_llama3_pretokenizer_goldens.py

Writes, into Tests/TokenizersTests/Fixtures/:

  llama3_pretokenizer_goldens.json
      cases[]: text, and pieces = what Hugging Face `tokenizers` produces with Llama 3's
      pre-tokenizer, Sequence[Split(Regex(PATTERN), behavior="isolated", invert=False),
      ByteLevel(add_prefix_space=False, use_regex=False)], mapped back from byte-level text to the
      raw text; plus, for the tokenizer below, ids (special tokens matched, BOS added by the
      template), ids_no_special (encode_special_tokens=True) and decoded (decode(ids)).

  llama3_style_tokenizer.json
      A tokenizer.json with Llama 3's structure, saved by `tokenizers` itself: byte-level BPE trained
      here on a small corpus (vocab 512 + one token that no merge builds, "Ġzqx", to exercise
      ignore_merges), model.ignore_merges = true, the pre-tokenizer above, a ByteLevel decoder,
      special added tokens <|begin_of_text|>, <|end_of_text|>, <|eot_id|>, a non-special added token
      <tag>, and post_processor Sequence[ByteLevel, TemplateProcessing("<|begin_of_text|> $A")] as in
      Meta-Llama-3.1's tokenizer.json.
"""
import json
import os

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures")

PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
           r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXTS = [
    # contractions: case-insensitive, and U+017F (long s) folds to s
    "I'm sure they'll say it's what we'd've done, didn't you?",
    "DON'T SHOUT, I'M HERE, WE'LL SEE, THEY'RE, WE'VE, HE'D",
    "it'ſ 'S 'Ll 'rE x'sup 'quote' rock'n'roll",
    # a letter run takes one leading non-letter, non-digit scalar other than CR/LF
    "Hello world, (yes) [no] {maybe} \"quoted\" $USD #tag @user",
    "\thello\u00a0world\u3000end",
    "a\nb\r\nc",
    # numbers: runs of at most three
    "1234567890 12 3.14159 -42 1,234,567.89",
    "Q3 2024 revenue $1,234.56M (+12%)",
    "\u0661\u0662\u0663\u0664 \u00bd\u00b2 \u0968\u0966\u0968\u096a",
    "x1y22z333w4444",
    # punctuation runs keep the line breaks that follow them
    "end.\n\nNext paragraph...\r\n",
    "Wait... what?!\n--- ### ***\n",
    "a ... b !! c",
    # whitespace runs
    "multiple   spaces    here",
    "trailing spaces   ",
    "   leading spaces",
    "x  \n  y",
    "line one\nline two\n\n\nline four",
    "\n\n\n",
    " \n \n ",
    "tabs\there\t\tand\tthere",
    "mixed \t \n whitespace\r\nCRLF",
    " ",
    "",
    "  ",
    "no\u00a0break\u3000ideographic \u2028 separator",
    # unicode letters, marks, symbols
    "Caf\u00e9 r\u00e9sum\u00e9 na\u00efve fa\u00e7ade Z\u00fcrich",
    "e\u0301 combining acute, n\u0303 tilde",
    "\u4e2d\u56fd\u4eba\u6c11\u94f6\u884c raised rates",
    "Stocks \U0001F4C8 up, bonds \U0001F4C9 down \U0001F680\U0001F680",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac and \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442",
    "don\u2019t use curly apostrophes\u2026",
    "prices in \u20ac100, \u00a52000 and \u00a350.",
    # special and added tokens (matched before pre-tokenization by the tokenizer)
    "<|begin_of_text|>Hello<|eot_id|>",
    "first doc<|end_of_text|>second doc",
    "a <tag>b</tag> c",
    # ignore_merges: "Ġzqx" is a vocabulary entry that no merge builds
    "zqx zqx zqxzqx",
]

CORPUS = [
    "The company reported revenue of $1,234.56 million in Q3 2024, up 12% year-over-year.",
    "Net income fell 3.5% to $987.6 million; earnings per share were $0.42 versus consensus of $0.45.",
    "The Federal Open Market Committee decided to maintain the target range for the federal funds rate.",
    "Operating margin expanded 150 basis points to 23.4% as the company reduced costs.",
    "I'm sure they'll say it's what we'd have done. Don't you think we've seen this before?",
    "Stocks rallied while bonds fell, and the dollar weakened against the euro and the yen.",
]


def unbyte_table():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


U2B = unbyte_table()


def unbyte(piece):
    return bytes(U2B[c] for c in piece).decode("utf-8")


def llama3_pre_tokenizer():
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def build_tokenizer():
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.pre_tokenizer = llama3_pre_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=512, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[], show_progress=False)
    trainer_tok.train_from_iterator(CORPUS * 20 + TEXTS, trainer)
    trained = json.loads(trainer_tok.to_str())["model"]
    vocab = dict(trained["vocab"])
    assert "Ġzqx" not in vocab
    vocab["Ġzqx"] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    tok.pre_tokenizer = llama3_pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ("<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>")])
    tok.add_tokens([AddedToken("<tag>", special=False, normalized=False)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    return tok


def main():
    pre = llama3_pre_tokenizer()
    tok = build_tokenizer()
    tok_path = os.path.join(FIXTURES, "llama3_style_tokenizer.json")
    tok.save(tok_path)
    tok = Tokenizer.from_file(tok_path)

    # The ignore_merges entry must matter: without the flag " zqx" would not be one token.
    zqx = tok.token_to_id("Ġzqx")
    assert tok.encode(" zqx", add_special_tokens=False).ids == [zqx]
    plain = json.loads(tok.to_str())
    plain["model"]["ignore_merges"] = False
    assert Tokenizer.from_str(json.dumps(plain)).encode(" zqx", add_special_tokens=False).ids != [zqx]

    cases = []
    for text in TEXTS:
        pieces = [unbyte(p) for p, _ in pre.pre_tokenize_str(text)] if text else []
        assert "".join(pieces) == text, text
        ids = tok.encode(text).ids
        tok.encode_special_tokens = True
        ids_plain = tok.encode(text).ids
        tok.encode_special_tokens = False
        decoded = tok.decode(ids, skip_special_tokens=False)
        cases.append({"text": text, "pieces": pieces, "ids": ids, "ids_no_special": ids_plain, "decoded": decoded})

    fixture = {
        "reference": f"tokenizers {tokenizers.__version__}: Sequence[Split(Regex(pattern), isolated), "
                     "ByteLevel(add_prefix_space=False, use_regex=False)]; ids from llama3_style_tokenizer.json",
        "pattern": PATTERN,
        "vocab_size": tok.get_vocab_size(),
        "cases": cases,
    }
    out = os.path.join(FIXTURES, "llama3_pretokenizer_goldens.json")
    lines = []
    for k, v in fixture.items():
        if isinstance(v, list):
            body = ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in v)
            lines.append(f" {json.dumps(k)}: [\n{body}\n ]")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}")
    with open(out, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    with open(out, encoding="utf-8") as f:
        assert json.load(f) == fixture
    print(f"wrote {out} ({len(cases)} cases) and {tok_path} (vocab {tok.get_vocab_size()})")


if __name__ == "__main__":
    main()
