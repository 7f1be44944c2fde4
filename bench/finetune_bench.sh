#!/usr/bin/env bash
# Finetuning benchmark (issue 5): our fingpt against PyTorch + PEFT on SmolLM2-135M, batch 4 x 256 tokens.
#
# For every mode in {full, lora, qlora-int8, qlora-nf4}, without and with recomputation
# (gradient checkpointing), each in its own process:
#   1. fingpt bench-finetune --model M --mode MODE [--recompute] --batch 4 --seq 256 --steps N   (ours)
#   2. bench/peft_finetune_step.py --model M --mode MODE [--checkpointing] ...     (PyTorch + PEFT as installed)
#   3. the same with LD_PRELOAD=bench/.work/libmklshim.so   (MKL told the CPU is Intel, see bench/mkl_shim.c;
#      on an AMD CPU with AVX-512 this is PyTorch's fastest configuration; on one without it the shim
#      moves MKL's auto branch from 2 (unrecognised CPU) to 10 (AVX2), reported as mkl_cbwr_auto_branch,
#      but sgemm already runs at the AVX2+FMA rate either way)
# The JSON lines (annotated with run_id, `uptime` before/after, ...) are appended to
# bench/.work/finetune_bench.jsonl and bench/summarize_finetune_bench.py prints the table and the
# ratios the issue's targets name.
#
# The model: a Hugging Face float32 folder converted from our GGUF, made here if missing:
#   fingpt convert --in .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --out bench/.work/smollm2-hf --type f32
# Both sides get the same folder (BENCH_OURS_MODEL overrides ours, e.g. with the GGUF).
# If the fingpt binary has no bench-finetune command yet, the script prints "ours: not available" and
# runs the PyTorch side only. The QLoRA rows need bitsandbytes (pip install bitsandbytes; its CPU
# backend runs Linear4bit / Linear8bitLt); without it they are skipped with a message.
#
# Environment (all optional):
#   BENCH_MODES="full lora qlora-int8 qlora-nf4"   which modes, in order
#   BENCH_CKPT="off on"                 without / with recomputation
#   BENCH_IMPLS="fingpt pytorch pytorch_shim"      which implementations
#   BENCH_FROZEN_COMPUTE="f32 int16"    ours: arithmetic of the frozen products in the QLoRA modes
#                                       (variant "release" = f32, "int16" = block-scaled int16)
#   BENCH_WARMUP=2 BENCH_STEPS=5        untimed / timed steps (fingpt bench-finetune chooses its own warmup)
#   BENCH_THREADS=2                     torch.set_num_threads for PyTorch (ours: its own default)
#   BENCH_RUN_ID=...                    append to an existing run (to add rows in a second invocation)
#   FINGPT=.build/release/fingpt  PYTHON=python3  BENCH_OUT=bench/.work/finetune_bench.jsonl
#   BENCH_MODEL=bench/.work/smollm2-hf  BENCH_GGUF=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/.work
mkdir -p "$WORK"
FINGPT=${FINGPT:-.build/release/fingpt}
PYTHON=${PYTHON:-python3}
OUT=${BENCH_OUT:-$WORK/finetune_bench.jsonl}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2}
STEPS=${BENCH_STEPS:-5}
MODES=${BENCH_MODES:-"full lora qlora-int8 qlora-nf4"}
CKPTS=${BENCH_CKPT:-"off on"}
COMPUTES=${BENCH_FROZEN_COMPUTE:-"f32 int16"}
IMPLS=${BENCH_IMPLS:-"fingpt pytorch pytorch_shim"}
GGUF=${BENCH_GGUF:-.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}
MODEL=${BENCH_MODEL:-$WORK/smollm2-hf}
OURS_MODEL=${BENCH_OURS_MODEL:-$MODEL}
SUMMARIZE="$PYTHON bench/summarize_finetune_bench.py"

want() { case " $IMPLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then avx512=yes; else avx512=no; fi
echo "finetune_bench: cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus, avx512f: $avx512"
echo "finetune_bench: uptime at start: $(uptime)"
load1=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.7) }'; then
    echo "finetune_bench: WARNING: the machine is not idle (load $load1); other work on the cores distorts the timings." >&2
fi

for m in $MODES; do
    case $m in full|lora|qlora-int8|qlora-nf4) ;; *)
        echo "finetune_bench: unknown mode '$m' (known: full lora qlora-int8 qlora-nf4)" >&2; exit 2 ;;
    esac
done
for c in $CKPTS; do
    case $c in on|off) ;; *) echo "finetune_bench: BENCH_CKPT entries must be 'on' or 'off', got '$c'" >&2; exit 2 ;; esac
done

status=0
have_fingpt=0
have_ours=0
if [ -x "$FINGPT" ]; then
    have_fingpt=1
    if "$FINGPT" --help 2>&1 | grep -qw bench-finetune || "$FINGPT" bench-finetune --help >/dev/null 2>&1; then
        have_ours=1
    fi
fi

if [ ! -d "$MODEL" ] || [ ! -f "$MODEL/config.json" ]; then
    if [ "$have_fingpt" = 1 ] && [ -f "$GGUF" ]; then
        echo "finetune_bench: converting $GGUF to $MODEL (float32 Hugging Face folder)"
        "$FINGPT" convert --in "$GGUF" --out "$MODEL" --type f32 || { echo "finetune_bench: conversion failed" >&2; exit 2; }
    else
        echo "finetune_bench: ERROR: no model folder at $MODEL and cannot make it (needs $FINGPT and $GGUF)." >&2
        exit 2
    fi
fi

if want fingpt && [ "$have_ours" = 0 ]; then
    echo "ours: not available ($FINGPT $( [ "$have_fingpt" = 1 ] && echo 'has no bench-finetune command' || echo 'not found'); build with 'swift build -c release')"
    IMPLS=${IMPLS//fingpt/}
fi

have_torch=1
if (want pytorch || want pytorch_shim) && ! $PYTHON -c "import torch, transformers, peft" 2>/dev/null; then
    echo "finetune_bench: WARNING: '$PYTHON -c \"import torch, transformers, peft\"' fails; skipping PyTorch (pip install torch transformers peft)." >&2
    have_torch=0
fi
have_bnb=0
if [ "$have_torch" = 1 ]; then
    if $PYTHON -c "import bitsandbytes" 2>/dev/null; then
        have_bnb=1
    else
        echo "finetune_bench: WARNING: bitsandbytes does not import; skipping the PyTorch QLoRA rows (pip install bitsandbytes)." >&2
    fi
fi

SHIM=$WORK/libmklshim.so
have_shim=0
if [ "$have_torch" = 1 ] && want pytorch_shim; then
    if gcc -O2 -shared -fPIC -o "$SHIM" bench/mkl_shim.c; then
        have_shim=1
    else
        echo "finetune_bench: WARNING: could not compile bench/mkl_shim.c; skipping the shim variant." >&2
    fi
fi

RUN_ID=${BENCH_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}
echo "finetune_bench: run $RUN_ID, results appended to $OUT"

run_one() {  # impl variant mode ckpt(on|off) cmd...
    local impl=$1 variant=$2 mode=$3 ckpt=$4; shift 4
    local log=$WORK/last_finetune_${impl}_${variant}_${mode}_${ckpt}.out
    local up
    up=$(uptime)
    echo "--- $impl / $variant / $mode / recompute $ckpt   [$up]" >&2
    echo "    $*" >&2
    "$@" >"$log"
    local rc=$?
    [ $rc -ne 0 ] && { echo "finetune_bench: $impl ($variant, $mode, recompute $ckpt) failed with exit status $rc" >&2; status=1; }
    tail -n 1 "$log" | cut -c1-400 >&2
    local flag=()
    [ "$ckpt" = on ] && flag=(--checkpointing)
    $SUMMARIZE record "$OUT" "$log" "$rc" --run-id "$RUN_ID" --impl "$impl" --variant "$variant" \
        --mode "$mode" "${flag[@]}" --cmd "$*" --uptime-before "$up"
}

for mode in $MODES; do
    for ckpt in $CKPTS; do
        if want fingpt; then
            ours_flag=()
            [ "$ckpt" = on ] && ours_flag=(--recompute)
            for compute in $COMPUTES; do
                case $mode in qlora-*) ;; *) [ "$compute" = f32 ] || continue ;; esac
                variant=release; [ "$compute" = f32 ] || variant=$compute
                run_one fingpt "$variant" "$mode" "$ckpt" "$FINGPT" bench-finetune --model "$OURS_MODEL" --mode "$mode" \
                    "${ours_flag[@]}" --frozen-compute "$compute" --batch 4 --seq 256 --steps "$STEPS"
            done
        fi
        [ "$have_torch" = 1 ] || continue
        if [ "${mode#qlora}" != "$mode" ] && [ "$have_bnb" = 0 ]; then
            echo "finetune_bench: skipping PyTorch $mode (no bitsandbytes)" >&2
            continue
        fi
        ARGS=(--model "$MODEL" --mode "$mode" --batch 4 --seq 256 --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS")
        [ "$ckpt" = on ] && ARGS+=(--checkpointing)
        if want pytorch; then
            run_one pytorch_peft as_installed "$mode" "$ckpt" $PYTHON bench/peft_finetune_step.py "${ARGS[@]}"
        fi
        if [ "$have_shim" = 1 ]; then
            run_one pytorch_peft mkl_shim "$mode" "$ckpt" env LD_PRELOAD="$ROOT/$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" \
                $PYTHON bench/peft_finetune_step.py "${ARGS[@]}"
        fi
    done
done

echo
echo "finetune_bench: uptime at end: $(uptime)"
$SUMMARIZE table "$OUT" --run-id "$RUN_ID"
exit $status
