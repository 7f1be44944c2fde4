#!/usr/bin/env python3
"""PyTorch + PEFT half of the finetuning benchmark (see bench/finetune_bench.sh).

Loads a LLaMA-architecture Hugging Face folder (SmolLM2-135M converted from our GGUF with
`fingpt convert --type f32`), sets it up for one finetuning mode and times training steps on CPU:

  full        every parameter trainable, float32, AdamW
  lora        float32 base frozen, PEFT LoRA adapters trainable
  qlora-int8  base linears loaded as bitsandbytes Linear8bitLt (LLM.int8, threshold 6.0), LoRA on top
  qlora-nf4   base linears loaded as bitsandbytes Linear4bit (NF4, double quantization, float32
              compute), LoRA on top

LoRA: r=8, alpha=16, dropout 0.05 on q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj.
The quantized modes go through peft.prepare_model_for_kbit_training (as the QLoRA recipe does).
--checkpointing turns on transformers' gradient checkpointing (non-reentrant torch.utils.checkpoint
around every decoder layer), i.e. recomputation of the layer activations in the backward pass.

One timed step = forward with labels = input_ids (transformers shifts them, so every position but
the last of each row is scored, like a pretraining step) + backward + clip_grad_norm_(1.0) (the
Hugging Face Trainer's default max_grad_norm; --grad-clip 0 turns it off) + AdamW step +
zero_grad(set_to_none). AdamW(lr, betas (0.9, 0.999), eps 1e-8, weight_decay 0), fused=True by default
(PyTorch's fastest CPU AdamW; --adamw default gives torch's own choice). Data: --batches fixed batches
of random token ids from a fixed seed, pre-generated and cycled, so the loss falls as they are learnt.

    python3 bench/peft_finetune_step.py --model bench/.work/smollm2-hf --mode qlora-nf4 --checkpointing
    LD_PRELOAD=bench/.work/libmklshim.so python3 bench/peft_finetune_step.py ...   # MKL shim variant

Prints ONE JSON line on stdout (progress goes to stderr):
  {"impl":"pytorch_peft","variant":"as_installed"|"mkl_shim","mode":...,"checkpointing":bool,
   "tokens_per_s":...,"peak_rss_mb":...,"steps":...,"loss_first":...,"loss_last":..., ...extra fields}
tokens_per_s = batch*seq / mean timed step time (after --warmup untimed steps).
peak_rss_mb = ru_maxrss of the process (MiB): everything, including `import torch` (several hundred MB
with the CUDA wheel, rss_after_import_mb) and model loading (for the quantized modes transformers reads
the float32 checkpoint before quantizing). train_peak_rss_mb is the peak resident set from the first
training step on only (VmHWM after resetting it through /proc/self/clear_refs; null where that is not
possible), i.e. what the training loop itself needs on top of the loaded model.
"""
import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODES = ["full", "lora", "qlora-int8", "qlora-nf4"]


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


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


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _mkl_auto_branch(torch):
    """MKL's own pick of code path (mkl_cbwr_get_auto_branch via libtorch_cpu's exported service
    symbol): 2 = MKL_CBWR_AUTO (CPU not recognised, generic dispatch), 10 = AVX2, 12/13 = AVX-512
    variants; None when the symbol is not there (torch not built with a static MKL)."""
    import ctypes
    try:
        lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
        fn = lib.mkl_serv_cbwr_get_auto_branch
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_int
    return int(fn())


def _ru_maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _status_kb(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0); returns whether that worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _parse_args():
    ap = argparse.ArgumentParser(description="PyTorch + PEFT finetuning-step benchmark")
    ap.add_argument("--model", required=True, help="Hugging Face folder (config.json + model.safetensors)")
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--checkpointing", action="store_true", help="gradient checkpointing (recomputation)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--batches", type=int, default=4, help="number of fixed random batches, cycled")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--lr", type=float, default=None, help="default: 1e-5 for full, 2e-4 for LoRA modes")
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=float, default=16.0)
    ap.add_argument("--lora-dropout", type=float, default=0.05)
    ap.add_argument("--no-double-quant", action="store_true", help="NF4 without double quantization")
    ap.add_argument("--adamw", choices=["default", "foreach", "fused"], default="fused")
    ap.add_argument("--grad-clip", type=float, default=1.0, help="clip_grad_norm_ max norm; 0 = off")
    ap.add_argument("--attn", default="sdpa", help="transformers attn_implementation (sdpa | eager)")
    ap.add_argument("--variant", default=None, help="label; default: mkl_shim if the shim is loaded")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        ap.error(f"--model {args.model}: no config.json in that folder "
                 f"(make it with: fingpt convert --in MODEL.gguf --out {args.model} --type f32)")
    if args.batch < 1 or args.seq < 2 or args.steps < 1 or args.warmup < 0 or args.batches < 1:
        ap.error("need --batch >= 1, --seq >= 2, --steps >= 1, --warmup >= 0, --batches >= 1")
    return args


def _load_model(args, torch):
    """Loads the model for args.mode; returns (model, info dict)."""
    import transformers
    from transformers import AutoModelForCausalLM

    kw = dict(dtype=torch.float32, attn_implementation=args.attn)
    info = {}
    if args.mode.startswith("qlora"):
        import bitsandbytes as bnb
        from transformers import BitsAndBytesConfig
        info["bitsandbytes"] = bnb.__version__
        if args.mode == "qlora-nf4":
            qc = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                    bnb_4bit_use_double_quant=not args.no_double_quant,
                                    bnb_4bit_compute_dtype=torch.float32)
        else:
            qc = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=6.0)
        kw.update(quantization_config=qc, device_map="cpu")
    model = AutoModelForCausalLM.from_pretrained(args.model, **kw)
    model.config.use_cache = False
    info["transformers"] = transformers.__version__
    info["quantized_linears"] = sum(1 for m in model.modules()
                                    if type(m).__name__ in ("Linear4bit", "Linear8bitLt"))
    if args.mode == "qlora-nf4" and info["quantized_linears"] == 0:
        raise SystemExit(f"{args.model}: bitsandbytes did not quantize any Linear to NF4")
    if args.mode == "qlora-int8" and info["quantized_linears"] == 0:
        raise SystemExit(f"{args.model}: bitsandbytes did not quantize any Linear to int8")

    ckpt_kwargs = {"use_reentrant": False}
    if args.mode == "full":
        if args.checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
        return model, info

    import peft
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    info["peft"] = peft.__version__
    if args.mode.startswith("qlora"):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=args.checkpointing,
                                                gradient_checkpointing_kwargs=ckpt_kwargs)
    elif args.checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
    lc = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                    target_modules=LORA_TARGETS, bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lc)
    return model, info


def _make_optimizer(args, torch, params):
    kw = {}
    if args.adamw == "foreach":
        kw["foreach"] = True
    elif args.adamw == "fused":
        kw["fused"] = True
    lr = args.lr if args.lr is not None else (1e-5 if args.mode == "full" else 2e-4)
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, **kw), lr


def _train(args, torch, model, opt, data, params):
    """Runs warmup + timed steps; returns (timed step seconds, losses)."""
    times, losses = [], []
    total = args.warmup + args.steps
    for i in range(total):
        x = data[i % len(data)]
        t0 = time.perf_counter()
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        lv = loss.item()
        losses.append(lv)
        _log(f"step {i:3d}{' (warmup)' if i < args.warmup else '         '} loss {lv:.4f}  {dt * 1e3:9.1f} ms"
             f"  rss {(_status_kb('VmRSS') or 0) / 1024:.0f} MB")
        if i >= args.warmup:
            times.append(dt)
    return times, losses


def main():
    load_start = _loadavg1()
    uptime_start = _uptime()
    args = _parse_args()

    import torch

    rss_after_import_mb = _ru_maxrss_mb()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t_load = time.perf_counter()
    model, info = _load_model(args, torch)
    load_s = time.perf_counter() - t_load
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in params)
    n_total = sum(p.numel() for p in model.parameters())
    opt, lr = _make_optimizer(args, torch, params)
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(args.seed + 1)
    data = [torch.randint(0, vocab, (args.batch, args.seq), generator=gen) for _ in range(args.batches)]
    _log(f"{args.mode}{' +checkpointing' if args.checkpointing else ''}: loaded in {load_s:.1f} s, "
         f"{n_trainable:,} trainable of {n_total:,} parameters, rss {(_status_kb('VmRSS') or 0) / 1024:.0f} MB")

    gc.collect()
    rss_after_load_mb = (_status_kb("VmRSS") or 0) / 1024.0
    peak_before_train_mb = _ru_maxrss_mb()
    can_reset = _reset_peak_rss()
    times, losses = _train(args, torch, model, opt, data, params)
    hwm_kb = _status_kb("VmHWM")

    mean = statistics.fmean(times)
    tokens = args.batch * args.seq
    shim = _shim_loaded()
    flags = _cpu_flags()
    try:
        cpu_cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # older torch
        cpu_cap = None
    result = {
        "impl": "pytorch_peft",
        "variant": args.variant or ("mkl_shim" if shim else "as_installed"),
        "mode": args.mode,
        "checkpointing": args.checkpointing,
        "tokens_per_s": tokens / mean,
        "peak_rss_mb": _ru_maxrss_mb(),
        "steps": args.steps,
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "train_peak_rss_mb": hwm_kb / 1024.0 if (can_reset and hwm_kb is not None) else None,
        "peak_rss_before_train_mb": peak_before_train_mb,
        "rss_after_import_mb": rss_after_import_mb,
        "rss_after_load_mb": rss_after_load_mb,
        "ms_per_step": mean * 1e3,
        "ms_per_step_min": min(times) * 1e3,
        "ms_per_step_median": statistics.median(times) * 1e3,
        "load_s": load_s,
        "losses": losses,
        "config": {"model": os.path.abspath(args.model), "batch": args.batch, "seq": args.seq,
                   "warmup": args.warmup, "steps": args.steps, "batches": args.batches,
                   "threads": args.threads, "lr": lr, "adamw": args.adamw, "grad_clip": args.grad_clip,
                   "attn": args.attn, "lora_r": args.lora_r, "lora_alpha": args.lora_alpha,
                   "lora_dropout": args.lora_dropout, "lora_targets": LORA_TARGETS if args.mode != "full" else [],
                   "double_quant": args.mode == "qlora-nf4" and not args.no_double_quant,
                   "trainable_params": n_trainable, "total_params": n_total, "dtype": "float32"},
        "torch": torch.__version__,
        **info,
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "mkl_avx512_shim": shim,
        "mkl_cbwr_auto_branch": _mkl_auto_branch(torch),
        "cpu_capability": cpu_cap,
        "cpu_avx512f": "avx512f" in flags,
        "cpu_avx2": "avx2" in flags,
        "loadavg1_start": load_start,
        "loadavg1_end": _loadavg1(),
        "uptime_start": uptime_start,
        "uptime_end": _uptime(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
