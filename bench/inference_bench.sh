#!/usr/bin/env bash
# Inference benchmark: our fingpt vs llama.cpp on the SmolLM2-135M-Instruct Q4_1 GGUF, 2 threads.
#
#   bash bench/build_llamacpp.sh        # once (about 4-5 min); this script runs it when needed
#   swift build -c release --product fingpt   # for our half (else: llama.cpp's numbers only)
#   bash bench/inference_bench.sh
#
# llama.cpp:
#   1. llama-bench -m MODEL -p 512 -n 128 -t 2 -r REPS -o json   -> pp512 and tg128 tokens/s (mean ± sd)
#      and llama-bench -p 0 -n 128 -d 512 ...  -> tg128 with 512 tokens already in the KV cache (the
#      generation speed after a 512-token prompt; llama-bench's plain tg128 starts from an empty cache)
#   2. peak RSS: /usr/bin/time -v llama-completion -m MODEL -f PROMPT(512 tokens) -n 128 --ignore-eos
#      -c 640 -t 2 -tb 2 -no-cnv --temp 0 --perf (maximum resident set size; the model is mmapped, as llama.cpp
#      does by default, and its pages count once touched). Its own prompt/eval timings are recorded too.
# ours:
#   /usr/bin/time -v .build/release/fingpt bench-generate --model MODEL --prompt-tokens 512
#       --gen-tokens 128 --threads 2      -> one JSON line {"prompt_tokens_per_s", "gen_tokens_per_s",
#       "peak_rss_mb"}; the table's RSS for both sides is /usr/bin/time's (same method), ours
#       self-reported is shown as a note.
#   .build/release/fingpt bench-generate --model MODEL --prompt-tokens 1 --gen-tokens 128 --threads 2
#       -> generation from an (almost) empty cache, to set against llama-bench's plain tg128.
# Appends one JSON line per implementation to bench/.work/inference_bench.jsonl (run_id, numbers,
# OPENBLAS_CORETYPE, cpu, load average) and prints a table with ours/llama.cpp ratios
# (bench/summarize_inference_bench.py table bench/.work/inference_bench.jsonl shows it again).
#
# Environment (all optional):
#   FINGPT_MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
#   BENCH_IMPLS="llamacpp fingpt"   which halves to run
#   BENCH_PP=512 BENCH_TG=128 BENCH_THREADS=2 BENCH_REPS=5 (llama-bench repetitions)
#   FINGPT=.build/release/fingpt  PYTHON=python3  BENCH_OUT=bench/.work/inference_bench.jsonl
#   LLAMACPP_BIN=bench/.work/llama.cpp-build/bin   BENCH_NO_BUILD=1 (never build llama.cpp here)
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/.work
mkdir -p "$WORK"
MODEL=${FINGPT_MODEL:-.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}
FINGPT=${FINGPT:-.build/release/fingpt}
PYTHON=${PYTHON:-python3}
OUT=${BENCH_OUT:-$WORK/inference_bench.jsonl}
PP=${BENCH_PP:-512}
TG=${BENCH_TG:-128}
THREADS=${BENCH_THREADS:-2}
REPS=${BENCH_REPS:-5}
IMPLS=${BENCH_IMPLS:-"llamacpp fingpt"}
LBIN=${LLAMACPP_BIN:-$WORK/llama.cpp-build/bin}
SUMMARIZE="$PYTHON bench/summarize_inference_bench.py"
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)-$$

want() { case " $IMPLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

echo "inference_bench: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then avx512=yes; else avx512=no; fi
echo "inference_bench: cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus, avx512f: $avx512"
echo "inference_bench: uptime:$(uptime)"
load1=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.7) }'; then
    echo "inference_bench: WARNING: the machine is not idle (1-min load $load1); other work on the $(nproc) cores distorts the timings." >&2
fi
if [ ! -f "$MODEL" ]; then
    echo "inference_bench: ERROR: model not found at $MODEL (run 'make setup-model' or set FINGPT_MODEL)" >&2
    exit 1
fi
echo "inference_bench: model $MODEL, pp $PP, tg $TG, threads $THREADS, run $RUN_ID"

if [ ! -x /usr/bin/time ]; then
    echo "inference_bench: installing GNU time (for peak RSS)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time
fi

status=0

# ---------------------------------------------------------------- llama.cpp
if want llamacpp; then
    if [ ! -x "$LBIN/llama-bench" ] && [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
        bash bench/build_llamacpp.sh || { echo "inference_bench: llama.cpp build failed" >&2; exit 1; }
    fi
    if [ ! -x "$LBIN/llama-bench" ]; then
        echo "inference_bench: ERROR: $LBIN/llama-bench missing (run bash bench/build_llamacpp.sh)" >&2
        status=1
    else
        info=$(head -1 "$WORK/llama.cpp-build/BUILD_INFO" 2>/dev/null || echo unknown)
        echo "== llama.cpp ($info): llama-bench -p $PP -n $TG -t $THREADS -r $REPS"
        "$LBIN/llama-bench" -m "$MODEL" -p "$PP" -n "$TG" -t "$THREADS" -r "$REPS" -o json \
            >"$WORK/last_llamabench.json" 2>"$WORK/last_llamabench.err"
        rc_bench=$?
        [ $rc_bench = 0 ] || { echo "inference_bench: llama-bench failed ($rc_bench):" >&2; tail -n 5 "$WORK/last_llamabench.err" >&2; status=1; }
        echo "== llama.cpp: llama-bench -p 0 -n $TG -d $PP -t $THREADS -r $REPS  (generation after a $PP-token prompt)"
        "$LBIN/llama-bench" -m "$MODEL" -p 0 -n "$TG" -d "$PP" -t "$THREADS" -r "$REPS" -o json \
            >"$WORK/last_llamabench_depth.json" 2>"$WORK/last_llamabench_depth.err" \
            || echo "inference_bench: llama-bench -d $PP failed (not fatal):" "$(tail -n 2 "$WORK/last_llamabench_depth.err")" >&2

        prompt=$WORK/prompt_${PP}.txt
        $SUMMARIZE make-prompt --gguf "$MODEL" --tokens "$PP" --out "$prompt" | sed 's/^/inference_bench: prompt: /'
        GEN=$LBIN/llama-completion
        [ -x "$GEN" ] || GEN=$LBIN/llama-cli
        echo "== llama.cpp peak RSS: /usr/bin/time -v $(basename "$GEN") (prompt $PP tokens, generate $TG)"
        gen_cmd=("$GEN" -m "$MODEL" -f "$prompt" -n "$TG" --ignore-eos -c $((PP + TG)) -t "$THREADS" -tb "$THREADS"
                 -no-cnv --temp 0 --perf)
        /usr/bin/time -v -o "$WORK/last_llamagen.time" "${gen_cmd[@]}" </dev/null \
            >"$WORK/last_llamagen.out" 2>"$WORK/last_llamagen.log"
        rc_gen=$?
        [ $rc_gen = 0 ] || { echo "inference_bench: $(basename "$GEN") failed ($rc_gen):" >&2; tail -n 5 "$WORK/last_llamagen.log" >&2; status=1; }
        $SUMMARIZE record "$OUT" --run-id "$RUN_ID" --impl llamacpp --model "$MODEL" --pp "$PP" --tg "$TG" \
            --threads "$THREADS" --llamabench-json "$WORK/last_llamabench.json" \
            --llamabench-depth-json "$WORK/last_llamabench_depth.json" --time-file "$WORK/last_llamagen.time" \
            --gen-log "$WORK/last_llamagen.log" --rc "$rc_gen" --llamacpp-info "$info" \
            --cmd "llama-bench -m MODEL -p $PP -n $TG -t $THREADS -r $REPS; ${gen_cmd[*]}"
    fi
fi

# ---------------------------------------------------------------- ours
if want fingpt; then
    if [ ! -x "$FINGPT" ]; then
        echo "inference_bench: NOTE: fingpt binary not found at $FINGPT: build it with 'swift build -c release --product fingpt'" \
             "(or set FINGPT=path); reporting llama.cpp's numbers only." >&2
    else
        fcmd=("$FINGPT" bench-generate --model "$MODEL" --prompt-tokens "$PP" --gen-tokens "$TG" --threads "$THREADS")
        echo "== fingpt: ${fcmd[*]}"
        /usr/bin/time -v -o "$WORK/last_fingpt_gen.time" "${fcmd[@]}" </dev/null \
            >"$WORK/last_fingpt_gen.out" 2>"$WORK/last_fingpt_gen.err"
        rc=$?
        ecmd=("$FINGPT" bench-generate --model "$MODEL" --prompt-tokens 1 --gen-tokens "$TG" --threads "$THREADS")
        echo "== fingpt: ${ecmd[*]}  (generation from an empty cache)"
        "${ecmd[@]}" </dev/null >"$WORK/last_fingpt_gen_empty.out" 2>"$WORK/last_fingpt_gen_empty.err" \
            || echo "inference_bench: empty-cache generation run failed (not fatal):" "$(tail -n 2 "$WORK/last_fingpt_gen_empty.err")" >&2
        if [ $rc != 0 ] || ! grep -q '^{' "$WORK/last_fingpt_gen.out"; then
            echo "inference_bench: NOTE: '$FINGPT bench-generate' failed (exit $rc) or printed no JSON line;" \
                 "the command may not exist in this build yet. Its output:" >&2
            tail -n 5 "$WORK/last_fingpt_gen.err" "$WORK/last_fingpt_gen.out" >&2
            echo "inference_bench: reporting llama.cpp's numbers only." >&2
        else
            $SUMMARIZE record "$OUT" --run-id "$RUN_ID" --impl fingpt --model "$MODEL" --pp "$PP" --tg "$TG" \
                --threads "$THREADS" --stdout-file "$WORK/last_fingpt_gen.out" --time-file "$WORK/last_fingpt_gen.time" \
                --empty-stdout-file "$WORK/last_fingpt_gen_empty.out" --rc "$rc" --cmd "${fcmd[*]}; ${ecmd[*]}"
        fi
    fi
fi

echo
if grep -q "\"run_id\": \"$RUN_ID\"" "$OUT" 2>/dev/null; then
    $SUMMARIZE table "$OUT" --run-id "$RUN_ID"
else
    echo "inference_bench: nothing recorded"
    status=1
fi
echo "inference_bench: results appended to $OUT; uptime:$(uptime)"
exit $status
