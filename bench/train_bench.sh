#!/usr/bin/env bash
# Training-step benchmark (the train-step part of `make bench`): our fingpt vs PyTorch eager fp32.
#
# Builds nothing: expects `swift build -c release` to have produced .build/release/fingpt.
# For each config it runs
#   1. fingpt bench-train ...                      (ours; prints one JSON line)
#   2. bench/pytorch_train_step.py ...             (PyTorch as installed)
#   3. the same with LD_PRELOAD=bench/.work/libmklshim.so   (MKL told the CPU is Intel)
# appends the JSON lines (annotated with run_id, bench_config, ...) to bench/.work/train_bench.jsonl
# and prints a table with tokens/s, ms/step, peak RSS and ours/pytorch ratios.
#
# Configs:  124m  = 12 layers, 768 wide, 12 heads, vocab 50257, context 1024, batch 4, seq 256
#           small = 6 layers, 384 wide, 6 heads, vocab 50257, context 1024, batch 8, seq 256
#
# Environment (all optional):
#   BENCH_CONFIGS="124m small"         which configs, in order
#   BENCH_IMPLS="fingpt pytorch pytorch_shim"   which implementations
#   BENCH_WARMUP_124M=2 BENCH_STEPS_124M=5      untimed / timed steps for 124m
#   BENCH_WARMUP_SMALL=2 BENCH_STEPS_SMALL=5    the same for small
#   BENCH_THREADS=2                    torch.set_num_threads for PyTorch
#   BENCH_ADAMW=fused                  PyTorch AdamW implementation: fused | foreach | default
#   BENCH_GRAD_CLIP=1.0                PyTorch clip_grad_norm_ max norm (fingpt bench-train clips at 1.0); 0 = off
#   BENCH_UNSET_OPENBLAS_CORETYPE=1    run with OPENBLAS_CORETYPE unset (else: as inherited)
#   BENCH_ALLOW_NO_FINGPT=1            if the fingpt binary is missing, run the PyTorch half only
#   FINGPT=.build/release/fingpt  PYTHON=python3  BENCH_OUT=bench/.work/train_bench.jsonl
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/.work
mkdir -p "$WORK"
FINGPT=${FINGPT:-.build/release/fingpt}
PYTHON=${PYTHON:-python3}
OUT=${BENCH_OUT:-$WORK/train_bench.jsonl}
THREADS=${BENCH_THREADS:-2}
GRAD_CLIP=${BENCH_GRAD_CLIP:-1.0}
ADAMW=${BENCH_ADAMW:-fused}
CONFIGS=${BENCH_CONFIGS:-"124m small"}
IMPLS=${BENCH_IMPLS:-"fingpt pytorch pytorch_shim"}
SUMMARIZE="$PYTHON bench/summarize_train_bench.py"

if [ "${BENCH_UNSET_OPENBLAS_CORETYPE:-0}" = 1 ]; then
    unset OPENBLAS_CORETYPE
fi
echo "train_bench: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}  (set BENCH_UNSET_OPENBLAS_CORETYPE=1 to run with it unset)"
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then avx512=yes; else avx512=no; fi
echo "train_bench: cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus, avx512f: $avx512"

load1=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo "train_bench: 1-min load average at start: $load1"
if awk -v l="$load1" 'BEGIN { exit !(l > 0.7) }'; then
    echo "train_bench: WARNING: the machine is not idle (load $load1); other work on the 2 cores will distort the timings." >&2
fi

want() { case " $IMPLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

status=0
if want fingpt && [ ! -x "$FINGPT" ]; then
    echo "train_bench: ERROR: fingpt binary not found at $FINGPT." >&2
    echo "train_bench:        build it first with 'swift build -c release' (make bench does this), or set FINGPT=path." >&2
    if [ "${BENCH_ALLOW_NO_FINGPT:-0}" = 1 ]; then
        echo "train_bench: BENCH_ALLOW_NO_FINGPT=1: running the PyTorch half only." >&2
        IMPLS=${IMPLS//fingpt/}
        status=2
    else
        exit 2
    fi
fi

have_torch=1
if (want pytorch || want pytorch_shim) && ! $PYTHON -c "import torch" 2>/dev/null; then
    echo "train_bench: WARNING: '$PYTHON -c \"import torch\"' fails; skipping PyTorch (pip install torch numpy)." >&2
    have_torch=0
fi

SHIM=$WORK/libmklshim.so
have_shim=0
if [ "$have_torch" = 1 ] && want pytorch_shim; then
    if gcc -O2 -shared -fPIC -o "$SHIM" bench/mkl_shim.c; then
        have_shim=1
    else
        echo "train_bench: WARNING: could not compile bench/mkl_shim.c; skipping the shim variant." >&2
    fi
fi

RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)-$$
echo "train_bench: run $RUN_ID, results appended to $OUT"

run_one() {  # label impl variant cmd...
    local label=$1 impl=$2 variant=$3; shift 3
    local log=$WORK/last_${label}_${impl}_${variant}.out
    echo "--- $label / $impl / $variant: $*" >&2
    "$@" >"$log"
    local rc=$?
    [ $rc -ne 0 ] && { echo "train_bench: $impl ($variant) failed with exit status $rc" >&2; status=1; }
    tail -n 1 "$log" >&2
    $SUMMARIZE record "$OUT" "$log" "$rc" --run-id "$RUN_ID" --bench-config "$label" \
        --impl "$impl" --variant "$variant" --cmd "$*"
}

for cfg in $CONFIGS; do
    case $cfg in
        124m)  L=12; C=768; H=12; B=4; W=${BENCH_WARMUP_124M:-2}; S=${BENCH_STEPS_124M:-5} ;;
        small) L=6;  C=384; H=6;  B=8; W=${BENCH_WARMUP_SMALL:-2}; S=${BENCH_STEPS_SMALL:-5} ;;
        *) echo "train_bench: unknown config '$cfg' (known: 124m small)" >&2; exit 2 ;;
    esac
    ARGS=(--n-layer "$L" --n-embd "$C" --n-head "$H" --vocab 50257 --block 1024 --batch "$B" --seq 256
          --steps "$S" --warmup "$W")
    if want fingpt; then
        run_one "$cfg" fingpt release "$FINGPT" bench-train "${ARGS[@]}"
    fi
    if [ "$have_torch" = 1 ] && want pytorch; then
        run_one "$cfg" pytorch as_installed $PYTHON bench/pytorch_train_step.py "${ARGS[@]}" --threads "$THREADS" --grad-clip "$GRAD_CLIP" --adamw "$ADAMW"
    fi
    if [ "$have_shim" = 1 ]; then
        run_one "$cfg" pytorch mkl_shim env LD_PRELOAD="$ROOT/$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" \
            $PYTHON bench/pytorch_train_step.py "${ARGS[@]}" --threads "$THREADS" --grad-clip "$GRAD_CLIP" --adamw "$ADAMW"
    fi
done

echo
$SUMMARIZE table "$OUT" --run-id "$RUN_ID"
exit $status
