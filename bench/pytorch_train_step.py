#!/usr/bin/env python3
"""PyTorch half of the training-step benchmark (see bench/train_bench.sh).

Same GPT-2 as dev/make_gpt2_golden.py (nanoGPT-style: LayerNorm with bias, GELU tanh, biases on
every Linear, tied lm_head, no dropout) but configurable; float32, eager mode, CPU.
One timed step = forward + cross-entropy loss + backward + clip_grad_norm_(1.0) + AdamW step +
zero_grad(set_to_none), like `fingpt bench-train` (which also clips at 1.0; --grad-clip 0 turns it off).
AdamW(lr 3e-4, betas (0.9, 0.95), eps 1e-8) with two groups: weight_decay 0.1 for params with
dim >= 2, 0 for biases and LayerNorm params; fused=True by default (--adamw fused), PyTorch's fastest
CPU AdamW: on GPT-2 124M here its step takes ~75 ms against ~490 ms for the default for-loop
implementation that torch picks for CPU tensors when nothing is specified (--adamw default).
Data: random tokens from a fixed seed, a fresh batch per step (pre-generated).

    python3 bench/pytorch_train_step.py --n-layer 12 --n-embd 768 --n-head 12 \\
        --vocab 50257 --block 1024 --batch 4 --seq 256 --steps 5 --warmup 2
    LD_PRELOAD=bench/.work/libmklshim.so python3 bench/pytorch_train_step.py ...   # MKL shim variant

Prints ONE JSON line on stdout (everything else goes to stderr):
  {"impl":"pytorch","variant":"as_installed"|"mkl_shim","config":{...},"tokens_per_s":...,
   "ms_per_step":...,"peak_rss_mb":...,"torch":"2.x","mkl_avx512_shim":bool, ...extra fields}
ms_per_step is the mean over the --steps timed steps after --warmup untimed ones;
tokens_per_s = batch*seq / mean step time; peak_rss_mb = ru_maxrss of this process (MiB), which
includes what `import torch` itself maps (rss_after_import_mb, several hundred MB with the CUDA wheel).
model_flops_per_s uses the nanoGPT/PaLM estimate: per token 6*N + 12*n_layer*n_embd*seq, with
N = all parameters except wpe (the tied wte counted once, as the lm_head matmul).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def _shim_loaded():
    try:
        with open("/proc/self/maps") as f:
            return any("libmklshim" in line for line in f)
    except OSError:
        return False


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _loadavg1():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main():
    load_start = _loadavg1()
    ap = argparse.ArgumentParser(description="PyTorch GPT-2 training-step benchmark")
    ap.add_argument("--n-layer", type=int, default=12)
    ap.add_argument("--n-embd", type=int, default=768)
    ap.add_argument("--n-head", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--block", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--attn", choices=["sdpa", "manual"], default="sdpa",
                    help="sdpa = F.scaled_dot_product_attention(is_causal=True) as nanoGPT; "
                         "manual = explicit masked softmax as in the golden fixture")
    ap.add_argument("--adamw", choices=["default", "foreach", "fused"], default="fused",
                    help="AdamW implementation: fused (fastest on CPU), foreach, or default "
                         "(torch's choice when unspecified: the single-tensor for-loop on CPU)")
    ap.add_argument("--grad-clip", type=float, default=1.0, help="clip_grad_norm_ max norm; 0 = off")
    ap.add_argument("--variant", default=None, help="label; default: mkl_shim if the shim is loaded")
    args = ap.parse_args()
    assert args.seq <= args.block and args.n_embd % args.n_head == 0

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    rss_after_import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    class Attn(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.H = H
            self.c_attn = nn.Linear(C, 3 * C)
            self.c_proj = nn.Linear(C, C)

        def forward(self, x):
            Bx, Tx, C = x.shape
            hd = C // self.H
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(Bx, Tx, self.H, hd).transpose(1, 2)
            k = k.view(Bx, Tx, self.H, hd).transpose(1, 2)
            v = v.view(Bx, Tx, self.H, hd).transpose(1, 2)
            if args.attn == "sdpa":
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
                mask = torch.ones(Tx, Tx, dtype=torch.bool).tril()
                att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
                y = att @ v
            return self.c_proj(y.transpose(1, 2).contiguous().view(Bx, Tx, C))

    class Block(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C, eps=1e-5)
            self.attn = Attn(C, H)
            self.ln_2 = nn.LayerNorm(C, eps=1e-5)
            self.c_fc = nn.Linear(C, 4 * C)
            self.c_proj = nn.Linear(4 * C, C)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            C = args.n_embd
            self.wte = nn.Embedding(args.vocab, C)
            self.wpe = nn.Embedding(args.block, C)
            self.h = nn.ModuleList([Block(C, args.n_head) for _ in range(args.n_layer)])
            self.ln_f = nn.LayerNorm(C, eps=1e-5)
            with torch.no_grad():
                for name, p in self.named_parameters():
                    if p.dim() >= 2:
                        std = 0.02 / math.sqrt(2 * args.n_layer) if name.endswith("c_proj.weight") else 0.02
                        p.normal_(0.0, std)
                    elif ".ln_" in name or name.startswith("ln_f"):
                        p.fill_(1.0 if name.endswith("weight") else 0.0)
                    else:
                        p.zero_()

        def forward(self, idx, targets):
            Tx = idx.shape[1]
            x = self.wte(idx) + self.wpe(torch.arange(Tx))
            for blk in self.h:
                x = blk(x)
            logits = self.ln_f(x) @ self.wte.weight.t()
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    model = GPT()
    n_params = sum(p.numel() for p in model.parameters())
    n_flop_params = n_params - model.wpe.weight.numel()
    flops_per_token = 6 * n_flop_params + 12 * args.n_layer * args.n_embd * args.seq

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    kw = {}
    if args.adamw == "foreach":
        kw["foreach"] = True
    elif args.adamw == "fused":
        kw["fused"] = True
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.1), dict(params=no_decay, weight_decay=0.0)],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, **kw)

    gen = torch.Generator().manual_seed(args.seed + 1)
    total = args.warmup + args.steps
    n_batches = min(total, 8)
    data = [(torch.randint(0, args.vocab, (args.batch, args.seq), generator=gen),
             torch.randint(0, args.vocab, (args.batch, args.seq), generator=gen)) for _ in range(n_batches)]

    times, losses = [], []
    for i in range(total):
        x, y = data[i % n_batches]
        t0 = time.perf_counter()
        loss = model(x, y)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        lv = loss.item()
        losses.append(lv)
        print(f"step {i:3d}{' (warmup)' if i < args.warmup else '         '} loss {lv:.4f}  {dt * 1e3:9.1f} ms",
              file=sys.stderr, flush=True)
        if i >= args.warmup:
            times.append(dt)

    mean = statistics.fmean(times) if times else float("nan")
    tokens = args.batch * args.seq
    shim = _shim_loaded()
    flags = _cpu_flags()
    try:
        cpu_cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # older torch
        cpu_cap = None
    result = {
        "impl": "pytorch",
        "variant": args.variant or ("mkl_shim" if shim else "as_installed"),
        "config": {"n_layer": args.n_layer, "n_embd": args.n_embd, "n_head": args.n_head, "vocab": args.vocab,
                   "block": args.block, "batch": args.batch, "seq": args.seq, "steps": args.steps,
                   "warmup": args.warmup, "threads": args.threads, "attn": args.attn, "adamw": args.adamw,
                   "grad_clip": args.grad_clip, "params": n_params, "dtype": "float32"},
        "tokens_per_s": tokens / mean,
        "ms_per_step": mean * 1e3,
        "ms_per_step_min": min(times) * 1e3 if times else None,
        "ms_per_step_median": statistics.median(times) * 1e3 if times else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "rss_after_import_mb": rss_after_import_mb,
        "model_flops_per_s": flops_per_token * tokens / mean,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "torch": torch.__version__,
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "mkl_avx512_shim": shim,
        "cpu_capability": cpu_cap,
        "cpu_avx512f": "avx512f" in flags,
        "cpu_avx2": "avx2" in flags,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
        "loadavg1_start": load_start,
        "loadavg1_end": _loadavg1(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
