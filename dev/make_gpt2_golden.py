#!/usr/bin/env python3
"""Golden fixture for the Swift GPT-2: forward, backward and 10 AdamW steps from PyTorch.

Run (from the repository root; needs `pip install torch numpy`, nothing else):

    python3 dev/make_gpt2_golden.py                 # writes the fixture, then reads it back and checks it
    python3 dev/make_gpt2_golden.py --out X.safetensors
    python3 dev/make_gpt2_golden.py --fp64-check    # also reports how far float32 is from a float64 rerun
                                                    # (a hint for test tolerances; nothing float64 is stored)

Writes Tests/ModelsTests/Fixtures/gpt2_tiny.safetensors (~0.35 MB). The file is a plain
safetensors file written by hand (u64 little-endian header length, JSON header padded with
spaces to a multiple of 8, then the raw little-endian row-major data), so no `safetensors`
package is needed to write or read it. Dtypes are F32 and I32 only.

Model: nanoGPT-style GPT-2 in plain PyTorch, float32, no dropout.
    vocab_size 64, block_size 16, n_layer 2, n_head 4, n_embd 32 (head_dim 8)
    LayerNorm eps 1e-5 with weight and bias; GELU tanh approximation; biases on every Linear
    causal self-attention, scores scaled by 1/sqrt(head_dim), masked with -inf before softmax
    lm_head tied to wte (logits = ln_f(x) @ wte^T, no lm_head bias)
    x = wte[idx] + wpe[0..T); per block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); then ln_f.
    c_attn output is [q | k | v] along the 3C dimension; head h of q is q[:, h*hd:(h+1)*hd]
    (same for k, v); the attention output heads are concatenated back in head order before c_proj.

Tensors in the file (Linear weights are nn.Linear layout [out, in]: y = x @ W^T + b):
    <param>                initial parameters, for the names below
    inputs  I32 [B,T]      random tokens in [0,64)
    targets I32 [B,T]      random tokens in [0,64)
    logits  F32 [B,T,V]    forward output at the initial parameters
    loss    F32 [1]        mean cross-entropy over all B*T positions
    grad.<param>  F32      dloss/dparam at the initial parameters (raw, before clipping).
                           grad.transformer.wte.weight is the sum of the embedding and the
                           tied lm_head contributions.
    losses     F32 [10]    loss at the start of each optimizer step (losses[0] == loss)
    grad_norm  F32 [10]    global L2 norm of all gradients before clipping, each step
    final.<param> F32      parameters after the 10 steps
    params:
      transformer.wte.weight [64,32], transformer.wpe.weight [16,32]
      transformer.h.{0,1}.ln_1.weight/bias [32]
      transformer.h.{0,1}.attn.c_attn.weight [96,32] / bias [96]
      transformer.h.{0,1}.attn.c_proj.weight [32,32] / bias [32]
      transformer.h.{0,1}.ln_2.weight/bias [32]
      transformer.h.{0,1}.mlp.c_fc.weight [128,32] / bias [128]
      transformer.h.{0,1}.mlp.c_proj.weight [32,128] / bias [32]
      transformer.ln_f.weight/bias [32]
__metadata__ (all values strings): config (JSON), B, T, steps, lr, beta1, beta2, eps,
weight_decay, grad_clip, seed, torch (version), generator (this script's path), plus
"optimizer" and "clip" describing the exact semantics below.

Initialisation (torch.manual_seed(SEED)): Linear weights and both embeddings ~ N(0, 0.02);
attn.c_proj and mlp.c_proj weights ~ N(0, 0.02/sqrt(2*n_layer)); then, so that bias and
LayerNorm handling matter, every Linear bias ~ N(0, 0.1), LayerNorm weight = 1 + N(0, 0.1),
LayerNorm bias ~ N(0, 0.1). The Swift side loads the initial parameters from the file, so the
exact random stream does not matter to it.

Each training step i = 0..9, on the same (inputs, targets):
    1. loss_i = forward(inputs, targets)                (stored in losses[i])
    2. backward
    3. total_norm = sqrt(sum over all params of sum(g^2))        (stored in grad_norm[i])
       clip_coef = min(1, grad_clip / (total_norm + 1e-6)); every g *= clip_coef
       (torch.nn.utils.clip_grad_norm_; note the +1e-6; when total_norm < grad_clip
       nothing changes, the multiply by 1.0 is exact). With SEED 5 the pre-clip norm is
       about 1.12, 1.09, 1.05, 1.02 in steps 0-3 (clipped) and 0.99 .. 0.89 in steps 4-9
       (not clipped), so both branches are exercised.
    4. AdamW step, torch semantics, t = i + 1 (decoupled weight decay applied first):
         p   = p * (1 - lr * wd)           wd = weight_decay for params with dim >= 2
                                           (all Linear weights, wte, wpe), 0 for biases and
                                           LayerNorm weights/biases
         m   = beta1 * m + (1 - beta1) * g    (m, v start at zero)
         v   = beta2 * v + (1 - beta2) * g*g
         p   = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    5. zero the gradients
The tied wte is a single parameter (one Adam state, decayed once).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 5  # chosen so that clipping is active in steps 0-3 (norm > 1) and not in steps 4-9
CONFIG = dict(vocab_size=64, block_size=16, n_layer=2, n_head=4, n_embd=32)
B, T = 2, 16
STEPS = 10
LR, BETA1, BETA2, EPS, WEIGHT_DECAY = 1e-3, 0.9, 0.95, 1e-8, 0.1
GRAD_CLIP = 1.0
LN_EPS = 1e-5
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "Tests", "ModelsTests", "Fixtures", "gpt2_tiny.safetensors")


# ----------------------------------------------------------------------------- model

class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=True)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=True)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)),
                             persistent=False)

    def forward(self, x):
        Bx, Tx, C = x.shape
        hd = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(Bx, Tx, self.n_head, hd).transpose(1, 2)  # [B, H, T, hd]
        k = k.view(Bx, Tx, self.n_head, hd).transpose(1, 2)
        v = v.view(Bx, Tx, self.n_head, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~self.mask[:Tx, :Tx], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v  # [B, H, T, hd]
        y = y.transpose(1, 2).contiguous().view(Bx, Tx, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=True)
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=True)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=LN_EPS, bias=True)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd, eps=LN_EPS, bias=True)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.block_size = block_size
        self.n_layer = n_layer
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd, eps=LN_EPS, bias=True),
        ))

    def init_weights(self, perturb=0.1):
        std = 0.02
        proj_std = 0.02 / math.sqrt(2 * self.n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    p.normal_(0.0, proj_std)
                elif p.dim() >= 2:  # Linear weights, wte, wpe
                    p.normal_(0.0, std)
                elif ".ln_" in name or name.startswith("transformer.ln_f"):
                    p.fill_(1.0 if name.endswith(".weight") else 0.0)
                else:  # Linear biases
                    p.zero_()
            if perturb:
                for name, p in self.named_parameters():
                    if p.dim() == 1:  # every Linear bias and every LayerNorm weight/bias
                        p.add_(torch.randn_like(p) * perturb)

    def forward(self, idx, targets=None):
        Bx, Tx = idx.shape
        assert Tx <= self.block_size
        pos = torch.arange(Tx, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = x @ self.transformer.wte.weight.t()  # tied lm_head, no bias
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def make_optimizer(model, lr, betas, eps, weight_decay):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]
    # foreach=False: the documented single-tensor code path (same math as the formula above)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=False)


# ----------------------------------------------------------------------------- safetensors

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
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
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


# ----------------------------------------------------------------------------- run

def run(dtype):
    torch.manual_seed(SEED)
    model = GPT(**CONFIG)
    model.init_weights(perturb=0.1)
    g = torch.Generator().manual_seed(SEED + 1)
    inputs = torch.randint(0, CONFIG["vocab_size"], (B, T), generator=g)
    targets = torch.randint(0, CONFIG["vocab_size"], (B, T), generator=g)
    model = model.to(dtype)

    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    res = {"init": {n: p.detach().clone() for n, p in params.items()}}

    opt = make_optimizer(model, LR, (BETA1, BETA2), EPS, WEIGHT_DECAY)
    losses, norms = [], []
    for step in range(STEPS):
        logits, loss = model(inputs, targets)
        loss.backward()
        if step == 0:
            res["logits"] = logits.detach().clone()
            res["loss"] = loss.detach().reshape(1).clone()
            res["grad"] = {n: p.grad.detach().clone() for n, p in params.items()}
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP, foreach=False)
        losses.append(loss.item())
        norms.append(norm.item())
        opt.step()
        opt.zero_grad(set_to_none=True)
    res["final"] = {n: p.detach().clone() for n, p in params.items()}
    res["losses"], res["grad_norm"] = losses, norms
    res["inputs"], res["targets"], res["names"] = inputs, targets, names
    return res


def to_tensors(res):
    f32 = lambda t: t.detach().to(torch.float32).numpy()
    out = {
        "inputs": res["inputs"].to(torch.int32).numpy(),
        "targets": res["targets"].to(torch.int32).numpy(),
        "logits": f32(res["logits"]),
        "loss": f32(res["loss"]),
        "losses": np.asarray(res["losses"], dtype=np.float32),
        "grad_norm": np.asarray(res["grad_norm"], dtype=np.float32),
    }
    for n in res["names"]:
        out[n] = f32(res["init"][n])
        out["grad." + n] = f32(res["grad"][n])
        out["final." + n] = f32(res["final"][n])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--fp64-check", action="store_true",
                    help="rerun in float64 and print the float32 deviations (tolerance hint)")
    args = ap.parse_args()

    # Determinism: one thread (reduction order fixed), deterministic kernels.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    res = run(torch.float32)
    tensors = to_tensors(res)
    meta = {
        "config": json.dumps(CONFIG, separators=(",", ":")),
        "B": B, "T": T, "steps": STEPS, "lr": LR, "beta1": BETA1, "beta2": BETA2, "eps": EPS,
        "weight_decay": WEIGHT_DECAY, "grad_clip": GRAD_CLIP, "ln_eps": LN_EPS, "seed": SEED,
        "gelu": "tanh", "tied_embeddings": "true",
        "optimizer": "torch.optim.AdamW; weight_decay only for params with dim>=2, 0 for biases and "
                     "LayerNorm; decoupled decay p*=(1-lr*wd) before the Adam update; "
                     "denom=sqrt(v)/sqrt(1-beta2^t)+eps",
        "clip": "clip_grad_norm_(all params, 1.0) after backward, before the optimizer step: "
                "coef=min(1, 1.0/(norm+1e-6)); grad_norm stores the pre-clip norm",
        "torch": torch.__version__,
        "generator": "dev/make_gpt2_golden.py",
    }
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    save_safetensors(out, tensors, meta)

    # Read back and verify bit-exactness.
    back, bmeta = load_safetensors(out)
    assert set(back) == set(tensors), set(back) ^ set(tensors)
    for k, a in tensors.items():
        b = back[k]
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b), k
    assert bmeta == {k: str(v) for k, v in meta.items()}
    assert json.loads(bmeta["config"]) == CONFIG
    assert back["loss"][0] == back["losses"][0]
    # The fixture must exercise both sides of clipping, with margin against float noise.
    gn = back["grad_norm"]
    assert (gn > GRAD_CLIP * 1.01).any() and (gn < GRAD_CLIP * 0.99).any(), gn
    # Sanity: the recorded logits reproduce the recorded loss (float64 recomputation).
    lg = back["logits"].astype(np.float64).reshape(-1, CONFIG["vocab_size"])
    tg = back["targets"].reshape(-1)
    lse = np.log(np.exp(lg - lg.max(1, keepdims=True)).sum(1)) + lg.max(1)
    ce = float(np.mean(lse - lg[np.arange(len(tg)), tg]))
    assert abs(ce - float(back["loss"][0])) < 1e-5, (ce, back["loss"][0])

    nparams = sum(back[n].size for n in res["names"])
    print(f"wrote {out}: {os.path.getsize(out)} bytes, {len(back)} tensors, {nparams} parameters; read back OK")
    print("losses   :", " ".join(f"{x:.6f}" for x in back["losses"]))
    print("grad_norm:", " ".join(f"{x:.6f}" for x in back["grad_norm"]))

    if args.fp64_check:
        r64 = run(torch.float64)
        def rel(a, b):
            a = a.double(); b = b.double()
            return float((a - b).abs().max()), float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))
        print("float32 vs float64 (max abs diff, max abs diff / max |ref|):")
        print("  logits      %.3g  %.3g" % rel(res["logits"], r64["logits"]))
        print("  loss        %.3g  %.3g" % rel(res["loss"], r64["loss"]))
        print("  losses      %.3g  %.3g" % rel(torch.tensor(res["losses"]), torch.tensor(r64["losses"])))
        print("  grad_norm   %.3g  %.3g" % rel(torch.tensor(res["grad_norm"]), torch.tensor(r64["grad_norm"])))
        worst_g = max(res["names"], key=lambda n: rel(res["grad"][n], r64["grad"][n])[1])
        worst_f = max(res["names"], key=lambda n: rel(res["final"][n], r64["final"][n])[0])
        print("  grad  worst %.3g  %.3g  (%s)" % (*rel(res["grad"][worst_g], r64["grad"][worst_g]), worst_g))
        print("  final worst %.3g  %.3g  (%s)" % (*rel(res["final"][worst_f], r64["final"][worst_f]), worst_f))


if __name__ == "__main__":
    main()
