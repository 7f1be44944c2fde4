#!/usr/bin/env python3
"""Golden fixtures for the Swift LoRA adapters (Sources/Models/LoRA*.swift), made with Hugging Face
transformers + PEFT, and a checker that loads an adapter written by the Swift code into PEFT.

Needs `pip install torch transformers peft safetensors` (PEFT from PyPI). Run from the repository root:

    python3 dev/make_peft_golden.py
        Writes Tests/ModelsTests/Fixtures/lora/ (~0.3 MB):
          llama_base/     config.json + model.safetensors   tiny random LlamaForCausalLM (float32)
          llama_adapter/  adapter_config.json + adapter_model.safetensors   PEFT LoRA on it
          gpt2_base/      config.json + model.safetensors   tiny random GPT2LMHeadModel (Conv1D layers)
          gpt2_adapter/   adapter_config.json + adapter_model.safetensors   PEFT LoRA (fan_in_fan_out)
          expected.safetensors   tokens I32 [B,T] and, per model (prefix "llama." or "gpt2."),
                                 base_logits F32 [B,T,V] (base model alone) and
                                 peft_logits F32 [B,T,V] (PeftModel = base + adapter, unmerged)
        then reads the files back and checks that merging the adapter (merge_and_unload) gives the
        same logits as the unmerged PEFT model.

    python3 dev/make_peft_golden.py --check-adapter DIR --base-model BASE_DIR --expected FILE [--atol 1e-4]
        (the three options may be repeated to check several adapters in one run.) Loads the Hugging Face model in BASE_DIR, applies the PEFT adapter folder DIR with
        PeftModel.from_pretrained, runs FILE's `tokens` (I32 [B,T]) and compares the logits with
        FILE's `logits` (F32 [B,T,V]). Prints the largest absolute difference; exit status 1 when it
        exceeds --atol (used by Tests/ModelsTests/LoRAPEFTInteropTests.swift).

Models (seeded, float32, eval mode so dropout is off):
    LLaMA: vocab 64, hidden 32, intermediate 48, 2 layers, 4 heads, 2 KV heads (head_dim 8),
           rope_theta 10000, RMSNorm eps 1e-5, untied output head, weights N(0, 0.1).
           LoRA r 4, lora_alpha 8, use_rslora True (scaling 8/sqrt(4) = 4), lora_dropout 0.05,
           target_modules q_proj k_proj v_proj o_proj gate_proj up_proj down_proj.
    GPT-2: vocab 64, n_positions 32, n_embd 32, 2 layers, 4 heads, gelu_new, weights N(0, 0.1).
           LoRA r 3, lora_alpha 6 (scaling 2), fan_in_fan_out True,
           target_modules c_attn attn.c_proj c_fc mlp.c_proj.
    PEFT initialises B to zero (the adapted model equals the base); the script then sets every
    lora_B to N(0, 0.2) so the adapters change the logits. A keeps PEFT's Kaiming-uniform values.
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the fixtures' base_model_name_or_path names no real Hub model

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures", "lora")
SEED = 1234
B, T = 2, 8


def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                      initializer_range=0.1, attention_bias=False, mlp_bias=False)
    return LlamaForCausalLM(cfg).eval()


def tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config(vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=4,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5, initializer_range=0.1,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(cfg).eval()


def randomize_lora_b(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.2)


def save_clean(model, folder):
    """save_pretrained, keeping only the files the Swift side reads."""
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    keep = {"config.json", "model.safetensors", "adapter_config.json", "adapter_model.safetensors"}
    for f in os.listdir(folder):
        if f not in keep:
            os.remove(os.path.join(folder, f))


def logits(model, tokens):
    with torch.no_grad():
        return model(input_ids=tokens.long()).logits.float().contiguous()


def make(name, build, lora_config, generator, tokens, expected):
    from peft import get_peft_model
    base = build()
    with torch.no_grad():
        for p in base.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    base_folder = os.path.join(OUT, f"{name}_base")
    save_clean(base, base_folder)
    expected[f"{name}.base_logits"] = logits(base, tokens)
    base.name_or_path = f"tiny-{name}"  # PEFT records it as base_model_name_or_path
    peft_model = get_peft_model(base, lora_config).eval()
    randomize_lora_b(peft_model, generator)
    adapter_folder = os.path.join(OUT, f"{name}_adapter")
    save_clean(peft_model, adapter_folder)
    expected[f"{name}.peft_logits"] = logits(peft_model, tokens)
    return base_folder, adapter_folder


def load_base(folder):
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()


def verify(expected_path):
    from peft import PeftModel
    exp = load_file(expected_path)
    tokens = exp["tokens"]
    for name in ["llama", "gpt2"]:
        base = load_base(os.path.join(OUT, f"{name}_base"))
        d0 = (logits(base, tokens) - exp[f"{name}.base_logits"]).abs().max().item()
        model = PeftModel.from_pretrained(base, os.path.join(OUT, f"{name}_adapter")).eval()
        unmerged = logits(model, tokens)
        merged = logits(model.merge_and_unload(), tokens)
        d1 = (unmerged - exp[f"{name}.peft_logits"]).abs().max().item()
        d2 = (merged - exp[f"{name}.peft_logits"]).abs().max().item()
        effect = (exp[f"{name}.peft_logits"] - exp[f"{name}.base_logits"]).abs().max().item()
        print(f"{name}: reload base {d0:.2e}, reload adapter {d1:.2e}, merged vs unmerged {d2:.2e}, "
              f"adapter effect (max |peft - base|) {effect:.3f}")
        assert d0 < 1e-5 and d1 < 1e-5 and d2 < 1e-4 and effect > 0.1


def generate():
    from peft import LoraConfig
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    os.makedirs(OUT, exist_ok=True)
    tokens = torch.randint(0, 64, (B, T), generator=generator, dtype=torch.int32)
    expected = {"tokens": tokens}
    llama_lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05, use_rslora=True, task_type="CAUSAL_LM",
                            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    make("llama", tiny_llama, llama_lora, generator, tokens, expected)
    gpt2_lora = LoraConfig(r=3, lora_alpha=6, lora_dropout=0.0, fan_in_fan_out=True, task_type="CAUSAL_LM",
                           target_modules=["c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"])
    make("gpt2", tiny_gpt2, gpt2_lora, generator, tokens, expected)
    import peft
    import transformers
    meta = {"generator": "dev/make_peft_golden.py", "seed": str(SEED), "torch": torch.__version__,
            "transformers": transformers.__version__, "peft": peft.__version__}
    path = os.path.join(OUT, "expected.safetensors")
    save_file({k: v.contiguous() for k, v in expected.items()}, path, metadata=meta)
    verify(path)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


def check_adapter(adapter, base_folder, expected_path, atol):
    from peft import PeftModel
    exp = load_file(expected_path)
    base = load_base(base_folder)
    model = PeftModel.from_pretrained(base, adapter).eval()
    got = logits(model, exp["tokens"])
    want = exp["logits"].float()
    if got.shape != want.shape:
        print(f"shape mismatch: PEFT {tuple(got.shape)}, expected {tuple(want.shape)}")
        return 1
    diff = (got - want).abs().max().item()
    print(f"max |PEFT - expected| = {diff:.3e} (atol {atol:g})")
    return 0 if diff <= atol else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-adapter", action="append", default=[])
    ap.add_argument("--base-model", action="append", default=[])
    ap.add_argument("--expected", action="append", default=[])
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    if args.check_adapter:
        if not (len(args.check_adapter) == len(args.base_model) == len(args.expected)):
            ap.error("each --check-adapter needs its own --base-model and --expected")
        failures = 0
        for adapter, base, expected in zip(args.check_adapter, args.base_model, args.expected):
            print(f"{adapter}: ", end="")
            failures += check_adapter(adapter, base, expected, args.atol)
        sys.exit(1 if failures else 0)
    generate()


if __name__ == "__main__":
    main()
