#!/usr/bin/env bash
# Distributed-training benchmark: tokens/s of one process x 2 threads against 2 MPI ranks x 1 thread
# (data parallel) and 2 pipeline stages x 4 micro-batches (1F1B), with the share of step time spent
# waiting on communication and the measured pipeline idle time against (stages-1)/(micro+stages-1).
#
# Expects .build/release/fingpt (swift build -c release --product fingpt) and mpirun on PATH.
# Prepares a token corpus once (bench/.work/dist-data), then runs `fingpt pretrain` on the GPT-2
# `small` preset (6 x 384, vocab 49152 of the SmolLM2 tokenizer) for BENCH_STEPS steps per
# configuration and summarises each run's log.jsonl with bench/summarize_distributed_bench.py.
#
# Environment: BENCH_STEPS=8 BENCH_BATCH=8 BENCH_SEQ=128 BENCH_PRESET=small FINGPT=.build/release/fingpt
#              BENCH_CORPUS=../shared/data/corpus/fin_corpus_train.txt BENCH_MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
set -eu -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FINGPT=${FINGPT:-.build/release/fingpt}
STEPS=${BENCH_STEPS:-8}; BATCH=${BENCH_BATCH:-8}; SEQ=${BENCH_SEQ:-128}; PRESET=${BENCH_PRESET:-small}
CORPUS=${BENCH_CORPUS:-../shared/data/corpus/fin_corpus_train.txt}
MODEL=${BENCH_MODEL:-.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}
WORK=bench/.work/distributed
DATA=bench/.work/dist-data
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ ! -d "$DATA" ]; then
  head -c 3000000 "$CORPUS" > "$WORK/corpus.txt"
  "$FINGPT" prepare --corpus "$WORK/corpus.txt" --tokenizer "$MODEL" --out "$DATA"
fi
common=(pretrain --preset "$PRESET" --data "$DATA" --steps "$STEPS" --batch "$BATCH" --seq "$SEQ" --context "$SEQ"
        --warmup 2 --eval-every 0 --checkpoint-every 0 --quiet)
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  uptime: $(uptime)"
run() { # name, then the command
  local name=$1; shift
  rm -rf "$WORK/$name"
  echo "== $name: $*"
  "$@" --out "$WORK/$name" > "$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out"; exit 1; }
}
run single-2threads env FINGPT_THREADS=2 "$FINGPT" "${common[@]}"
run dp2-1thread mpirun -np 2 --oversubscribe -x FINGPT_THREADS=1 "$FINGPT" "${common[@]}" --data-parallel 2
run pp2-m4-1thread mpirun -np 2 --oversubscribe -x FINGPT_THREADS=1 "$FINGPT" "${common[@]}" --pipeline-stages 2 --micro-batches 4
echo "load after: $(uptime)"
python3 bench/summarize_distributed_bench.py "$WORK" single-2threads dp2-1thread pp2-m4-1thread
