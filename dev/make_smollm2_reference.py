#!/usr/bin/env python3
"""Reference logits of the real SmolLM2-135M-Instruct (Q4_1 GGUF) on a fixed financial text.

Run from the repository root:

    pip install transformers gguf tokenizers          # torch and numpy are assumed installed
    python3 dev/make_smollm2_reference.py             # HF reference only; writes and re-reads the fixture
    bash bench/build_llamacpp.sh && pip install diskcache
    python3 dev/make_smollm2_reference.py --llama-cpp # + llama.cpp cross-check (stored as metadata)
    python3 dev/make_smollm2_reference.py --llama-cpp --numpy-check   # how the committed fixture was made
    python3 dev/make_smollm2_reference.py --check     # only re-read and check the existing fixture

Options: --gguf PATH (default $FINGPT_MODEL or .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf, from
`make setup-model`), --out PATH, --llama-cpp-dir DIR (unpacked llama-cpp-python sdist; default the
newest bench/.work/llama-cpp-python-*), --llama-cpp-lib DIR (libllama.so; default
bench/.work/llama.cpp-build/bin), --numpy-check (also an independent float64 numpy forward straight
from the GGUF, in llama.cpp's q/k layout with adjacent-pair RoPE; asserts max |logit diff| < 1e-3
against HF and stores it as metadata). Needs `pip install accelerate` too: transformers refuses to load
a GGUF without it. About 25 s on 2 cores, +20 s for --numpy-check.

Writes Tests/InferenceTests/Fixtures/smollm2_reference.safetensors (about 1.6 MB: the 8 full float32
logit rows alone are 8 x 49152 x 4 bytes = 1.57 MB). Plain safetensors written by hand (u64 LE header
length, JSON header space-padded to a multiple of 8, raw little-endian row-major data; tensors in
sorted name order), dtypes F32 and I32 only.

Tokens: TEXT below, encoded with the Hugging Face `tokenizers` BPE rebuilt from the GGUF exactly as
dev/make_tokenizer_goldens.py does (SmolLM2 pre-tokenizer: Digits(individual_digits) then
ByteLevel(add_prefix_space=False)), add_special_tokens=False. NO BOS token is prepended (the GGUF
says tokenizer.ggml.add_bos_token = false, and SmolLM2's HF tokenizer adds none either): position 0
is the first token of the text.

Reference forward: transformers' AutoModelForCausalLM.from_pretrained(dir, gguf_file=name,
dtype=float32, attn_implementation="eager"). transformers dequantizes every GGUF tensor (Q4_1, Q8_0
token embedding, F32 norms) to float32 with gguf-py and un-permutes llama.cpp's q/k rows back to
HF's rotate-half RoPE layout; lm_head is tied to embed_tokens (the GGUF has no output.weight). The
script asserts that tie. One forward pass over all T tokens, float32, no KV cache.

Tensors:
    tokens            I32 [T]          token ids of TEXT (no BOS)
    top1              I32 [T]          argmax of the logits at each position (prediction of token t+1)
    nll               F32 [T-1]        nll[t] = -log softmax(logits[t])[tokens[t+1]], computed in float64
                                       from the float32 logits, stored as float32
    logits_rows       F32 [8, 49152]   full float32 logits at the positions below
    logits_positions  I32 [8]          0, 1, 2, 10, 50, 100, 200, T-1
__metadata__ (all values strings):
    text, bos ("none"), n_tokens, perplexity (exp(mean nll), "%.6f"), mean_nll, model (file name),
    model_sha256_first_mib, tokenizer (description), reference (description of the forward),
    transformers, torch, gguf, tokenizers (versions), generator (this script's path), and, when the
    llama.cpp cross-check ran: perplexity_llamacpp, llamacpp_top1_agreement (fraction of the T
    positions where llama.cpp's argmax equals top1), llamacpp_logits_max_abs_diff (over logits_rows'
    positions), llamacpp_version, llamacpp_settings.

llama.cpp cross-check (--llama-cpp): llama-cpp-python's Python bindings from the unpacked sdist of
bench/build_llamacpp.sh, loading the libllama.so built there (LLAMA_CPP_LIB_PATH), so no second
build is needed: Llama(model, logits_all=True, n_ctx=512, n_batch=512, n_threads=2), tokens fed
without BOS via Llama.eval. llama.cpp computes with the quantized weights directly (activations
quantized to Q8_1 for the Q4_1 dot products), so it is not bit-identical to the dequantized float32
reference. Measured (llama-cpp-python 0.3.36, transformers 5.23.0, torch 2.15.0): perplexity 15.9648
(HF) vs 15.9212 (llama.cpp, -0.27%), same argmax at 287/296 positions (the 9 others are near-ties,
top-two gap < 0.15), logits differ by 0.23 rms / 2.1 max (largest at position 0); the float64 numpy
forward matches HF to 8.7e-5 max. So a float32 forward on dequantized weights should match this
fixture to ~1e-4 (use ~1e-3 tolerances); one that quantizes activations like llama.cpp will not.
It also checks that llama.cpp's own tokenizer gives the same ids for TEXT.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "dev"))
DEFAULT_GGUF = os.environ.get("FINGPT_MODEL", os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
OUT = os.path.join(ROOT, "Tests/InferenceTests/Fixtures/smollm2_reference.safetensors")
GENERATOR = "dev/make_smollm2_reference.py"

# Original prose written for this fixture (fictional company and figures).
TEXT = (
    "Good morning, and thank you for joining our third-quarter 2024 earnings call. Revenue for the "
    "quarter was $4.82 billion, up 11.3% from a year ago, driven by 17% growth in cloud services "
    "and a modest 2.1% increase in hardware sales. Gross margin expanded 140 basis points to "
    "62.4%, while operating expenses rose only 6%, reflecting the cost discipline we introduced last "
    "spring. Diluted earnings per share came in at $1.37, compared with $1.12 in the prior-year period "
    "and ahead of our guidance range of $1.25 to $1.30. We generated $1.9 billion in free cash flow and "
    "returned $750 million to shareholders.\n\n"
    "Turning to the economic backdrop, the central bank kept its policy rate unchanged at 5.25% at its "
    "most recent meeting. Headline inflation slowed to 2.5% in August from a peak of 9.1% two years "
    "earlier, while core inflation remained stickier at 3.2%. Policymakers signaled that they could begin "
    "cutting rates before the end of the year if the labor market continues to cool; unemployment has "
    "risen to 4.2%, and wage growth has eased to about 3.8%. Bond markets now expect roughly 100 basis "
    "points of easing within a year."
)

_DT = {np.dtype("<f4"): "F32", np.dtype("<i4"): "I32"}
_NP = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4")}


def save_safetensors(path, tensors, metadata):
    """tensors: dict name -> np.ndarray (float32 or int32). Written in sorted name order."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        if a.dtype not in _DT:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        raw = a.tobytes(order="C")
        header[name] = {"dtype": _DT[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)  # pad so the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def load_safetensors(path):
    """Returns (dict name -> np.ndarray, metadata dict). Checks offsets are contiguous."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        dt = _NP[info["dtype"]]
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64)) if info["shape"] else 1
        assert e - b == count * dt.itemsize, name
        out[name] = np.frombuffer(body[b:e], dtype=dt).reshape(info["shape"]).copy()
        spans.append((b, e))
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "gap or overlap in data_offsets"
        pos = e
    assert pos == len(body), "trailing bytes after the last tensor"
    return out, meta


def positions_for(T):
    return [0, 1, 2, 10, 50, 100, 200, T - 1]


def nll_from_logits(logits, ids):
    """logits float32 [T, V] -> float64 [T-1] NLL of ids[t+1] given positions <= t."""
    x = logits[:-1].astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(x - m).sum(axis=1)))
    return lse - x[np.arange(len(ids) - 1), ids[1:]]


def tokenize(gguf_path):
    from make_tokenizer_goldens import build_reference
    tok, _, _ = build_reference(gguf_path)
    ids = tok.encode(TEXT, add_special_tokens=False).ids
    assert tok.decode(ids, skip_special_tokens=False) == TEXT
    return np.array(ids, dtype=np.int64)


def hf_forward(gguf_path, ids):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(2)
    d, name = os.path.split(os.path.abspath(gguf_path))
    try:
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32,
                                                     attn_implementation="eager")
    except TypeError:  # transformers < 4.56 knows only torch_dtype
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32,
                                                     attn_implementation="eager")
    model.eval()
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads,
            cfg.vocab_size) == (30, 576, 9, 3, 49152), cfg
    emb, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert torch.equal(emb, head), "lm_head is not tied to embed_tokens"
    with torch.no_grad():
        out = model(torch.tensor(ids, dtype=torch.long)[None], use_cache=False)
    logits = out.logits[0].float().numpy()
    info = {"transformers": transformers.__version__, "torch": torch.__version__,
            "rope_theta": str(getattr(cfg, "rope_theta", None) or getattr(cfg, "rope_parameters", None)),
            "rms_norm_eps": cfg.rms_norm_eps, "tie_word_embeddings": cfg.tie_word_embeddings,
            "attn_implementation": cfg._attn_implementation}
    return logits, info


def numpy_forward(gguf_path, ids):
    """Independent float64 forward straight from the GGUF in llama.cpp's layout: q/k rows as stored
    (permuted) with adjacent-pair RoPE (GGML's "norm" mode), which is equivalent to HF's un-permuted
    rows with rotate-half RoPE. Checks transformers' GGUF conversion, not just its arithmetic."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(gguf_path)
    W = {t.name: dequantize(t.data, t.tensor_type).astype(np.float64).reshape([int(x) for x in reversed(t.shape)])
         for t in r.tensors}
    assert "output.weight" not in W  # tied: logits use token_embd.weight
    f = lambda k: r.fields[k].contents()
    L, H, KV = f("llama.block_count"), f("llama.attention.head_count"), f("llama.attention.head_count_kv")
    C, eps, base = f("llama.embedding_length"), f("llama.attention.layer_norm_rms_epsilon"), f("llama.rope.freq_base")
    D, T = C // H, len(ids)
    ang = np.arange(T)[:, None] * base ** (-np.arange(0, D, 2) / D)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rope(x):
        y = np.empty_like(x)
        y[..., 0::2] = x[..., 0::2] * cos - x[..., 1::2] * sin
        y[..., 1::2] = x[..., 0::2] * sin + x[..., 1::2] * cos
        return y
    mask = np.triu(np.full((T, T), -np.inf), 1)
    x = W["token_embd.weight"][ids]
    for l in range(L):
        g = lambda n: W[f"blk.{l}.{n}.weight"]
        h = rms(x, g("attn_norm"))
        q = rope((h @ g("attn_q").T).reshape(T, H, D))
        k = rope((h @ g("attn_k").T).reshape(T, KV, D))
        v = (h @ g("attn_v").T).reshape(T, KV, D)
        o = np.empty((T, H, D))
        for j in range(H):
            s = q[:, j] @ k[:, j // (H // KV)].T / math.sqrt(D) + mask
            s = np.exp(s - s.max(1, keepdims=True))
            o[:, j] = (s / s.sum(1, keepdims=True)) @ v[:, j // (H // KV)]
        x = x + o.reshape(T, C) @ g("attn_output").T
        h = rms(x, g("ffn_norm"))
        a = h @ g("ffn_gate").T
        x = x + (a / (1 + np.exp(-a)) * (h @ g("ffn_up").T)) @ g("ffn_down").T
    return rms(x, W["output_norm.weight"]) @ W["token_embd.weight"].T


def llama_cpp_forward(gguf_path, ids, sdist_dir, lib_dir):
    sys.path.insert(0, sdist_dir)
    os.environ["LLAMA_CPP_LIB_PATH"] = os.path.abspath(lib_dir)
    import llama_cpp
    llm = llama_cpp.Llama(model_path=gguf_path, logits_all=True, n_ctx=512, n_batch=512, n_ubatch=512,
                          n_threads=2, n_threads_batch=2, verbose=False)
    ll_ids = llm.tokenize(TEXT.encode("utf-8"), add_bos=False, special=False)
    tok_ok = list(ll_ids) == [int(i) for i in ids]
    llm.reset()
    llm.eval([int(i) for i in ids])
    logits = np.array(llm.scores[:len(ids)], dtype=np.float32)
    return logits, tok_ok, llama_cpp.__version__


def check_fixture(path):
    t, meta = load_safetensors(path)
    ids, top1, nll, rows, pos = t["tokens"], t["top1"], t["nll"], t["logits_rows"], t["logits_positions"]
    T = len(ids)
    assert set(t) == {"tokens", "top1", "nll", "logits_rows", "logits_positions"}, sorted(t)
    assert ids.dtype == np.int32 and top1.shape == (T,) and nll.shape == (T - 1,)
    assert rows.shape == (8, 49152) and rows.dtype == np.float32 and list(pos) == positions_for(T)
    assert meta["bos"] == "none" and int(meta["n_tokens"]) == T
    assert np.array_equal(rows.argmax(axis=1), top1[pos])
    for k, p in enumerate(pos):
        if p < T - 1:
            x = rows[k].astype(np.float64)
            ref = np.log(np.exp(x - x.max()).sum()) + x.max() - x[ids[p + 1]]
            assert abs(ref - nll[p]) < 1e-4, (p, ref, nll[p])
    ppl = math.exp(float(np.mean(nll.astype(np.float64))))
    assert abs(ppl - float(meta["perplexity"])) < 1e-3 * ppl, (ppl, meta["perplexity"])
    assert 3.0 < ppl < 40.0, f"implausible perplexity {ppl}"
    print(f"check: {path}: {os.path.getsize(path)} bytes, T={T}, tensors "
          + ", ".join(f"{k} {t[k].dtype} {list(t[k].shape)}" for k in sorted(t)))
    print(f"check: perplexity {meta['perplexity']}"
          + (f", llama.cpp {meta['perplexity_llamacpp']}" if "perplexity_llamacpp" in meta else "")
          + "; metadata keys: " + ", ".join(sorted(meta)))
    return t, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--llama-cpp", action="store_true", help="cross-check with llama.cpp (bench/build_llamacpp.sh)")
    sdists = sorted(glob.glob(os.path.join(ROOT, "bench/.work/llama-cpp-python-*")))
    ap.add_argument("--llama-cpp-dir", default=sdists[-1] if sdists else None)
    ap.add_argument("--llama-cpp-lib", default=os.path.join(ROOT, "bench/.work/llama.cpp-build/bin"))
    ap.add_argument("--numpy-check", action="store_true",
                    help="also run an independent float64 numpy forward from the GGUF and compare (~20 s)")
    ap.add_argument("--check", action="store_true", help="only re-read and check the existing fixture")
    args = ap.parse_args()
    if args.check:
        check_fixture(args.out)
        return
    if not os.path.exists(args.gguf):
        sys.exit(f"model not found: {args.gguf} (run `make setup-model` or set FINGPT_MODEL)")

    import gguf
    import tokenizers
    ids = tokenize(args.gguf)
    T = len(ids)
    print(f"text: {len(TEXT)} chars, {T} tokens (no BOS)")
    assert 200 <= T <= 512, T

    logits, info = hf_forward(args.gguf, ids)
    assert logits.shape == (T, 49152) and np.isfinite(logits).all()
    nll = nll_from_logits(logits, ids)
    ppl = math.exp(nll.mean())
    top1 = logits.argmax(axis=1)
    pos = positions_for(T)
    print(f"HF transformers {info['transformers']} (torch {info['torch']}): perplexity {ppl:.4f}, "
          f"mean nll {nll.mean():.4f}, top-1 accuracy on next token {np.mean(top1[:-1] == ids[1:]):.3f}")

    with open(args.gguf, "rb") as f:
        head = hashlib.sha256(f.read(1 << 20)).hexdigest()
    meta = {
        "text": TEXT,
        "bos": "none",
        "n_tokens": T,
        "perplexity": f"{ppl:.6f}",
        "mean_nll": f"{nll.mean():.6f}",
        "model": os.path.basename(args.gguf),
        "model_sha256_first_mib": head,
        "tokenizer": f"tokenizers {tokenizers.__version__}: BPE from GGUF vocab/merges, pre-tokenizer "
                     "Sequence[Digits(individual_digits), ByteLevel(add_prefix_space=False)], "
                     "add_special_tokens=False",
        "reference": "transformers AutoModelForCausalLM.from_pretrained(gguf_file=...), GGUF dequantized "
                     f"to float32, attn_implementation={info['attn_implementation']}, float32 forward, "
                     f"no cache; rope {info['rope_theta']}, rms_norm_eps {info['rms_norm_eps']}, "
                     f"tie_word_embeddings {info['tie_word_embeddings']}",
        "nll": "nll[t] = -log_softmax(logits[t])[tokens[t+1]], float64 from float32 logits",
        "transformers": info["transformers"],
        "torch": info["torch"],
        "gguf": getattr(gguf, "__version__", None) or _dist_version("gguf"),
        "tokenizers": tokenizers.__version__,
        "generator": GENERATOR,
    }

    if args.numpy_check:
        ref64 = numpy_forward(args.gguf, ids)
        d = float(np.abs(ref64 - logits).max())
        ppl64 = math.exp(nll_from_logits(ref64, ids).mean())
        print(f"numpy float64 forward: max |logit diff| vs HF float32 {d:.2e}, perplexity {ppl64:.6f}, "
              f"same argmax at {int((ref64.argmax(1) == top1).sum())}/{T} positions")
        assert d < 1e-3, "HF and the independent forward disagree"
        meta["numpy_float64_max_abs_diff"] = f"{d:.3e}"

    if args.llama_cpp:
        if not args.llama_cpp_dir or not os.path.isdir(args.llama_cpp_lib):
            sys.exit("llama.cpp not built: run bash bench/build_llamacpp.sh (or drop --llama-cpp)")
        ll, tok_ok, ll_ver = llama_cpp_forward(args.gguf, ids, args.llama_cpp_dir, args.llama_cpp_lib)
        ll_nll = nll_from_logits(ll, ids)
        ll_ppl = math.exp(ll_nll.mean())
        ll_top1 = ll.argmax(axis=1)
        agree = float(np.mean(ll_top1 == top1))
        diff = float(np.abs(ll[pos] - logits[pos]).max())
        print(f"llama.cpp (llama-cpp-python {ll_ver}): perplexity {ll_ppl:.4f} "
              f"(HF {ppl:.4f}, diff {ll_ppl - ppl:+.4f} = {100 * (ll_ppl / ppl - 1):+.2f}%), "
              f"top-1 agreement {agree:.4f} ({int(round(agree * T))}/{T}), "
              f"max |logit diff| at the stored rows {diff:.4f}, "
              f"mean |nll diff| {np.abs(ll_nll - nll).mean():.4f}, same tokenization: {tok_ok}")
        disagree = np.nonzero(ll_top1 != top1)[0]
        if len(disagree):
            print("  positions where the argmax differs: " + ", ".join(
                f"{p} (HF {top1[p]} {logits[p, top1[p]]:.3f}/{logits[p, ll_top1[p]]:.3f}, "
                f"llama.cpp {ll_top1[p]})" for p in disagree[:20]))
        assert tok_ok, "llama.cpp tokenizes TEXT differently"
        meta.update({
            "perplexity_llamacpp": f"{ll_ppl:.6f}",
            "llamacpp_top1_agreement": f"{agree:.6f}",
            "llamacpp_logits_max_abs_diff": f"{diff:.6f}",
            "llamacpp_version": f"llama-cpp-python {ll_ver} (vendored llama.cpp), built by bench/build_llamacpp.sh",
            "llamacpp_settings": "logits_all=True, n_ctx=512, n_batch=512, n_threads=2, no BOS, CPU, GGML_NATIVE",
        })

    tensors = {
        "tokens": ids.astype(np.int32),
        "top1": top1.astype(np.int32),
        "nll": nll.astype(np.float32),
        "logits_rows": logits[pos].astype(np.float32),
        "logits_positions": np.array(pos, dtype=np.int32),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_safetensors(args.out, tensors, meta)
    t, m = check_fixture(args.out)
    for k, v in tensors.items():
        assert np.array_equal(t[k], v), k
    assert m["text"] == TEXT
    try:  # independent reader, when the package is installed
        from safetensors.numpy import load_file
        st = load_file(args.out)
        assert all(np.array_equal(st[k], v) for k, v in tensors.items())
        print("check: the `safetensors` package reads the file identically")
    except ImportError:
        pass
    print(f"wrote {args.out}")


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
