#!/usr/bin/env bash
# The paper's pretraining table on this machine: a dense GPT-2 and low-rank variants trained on the
# same tokens of ../shared/data/corpus, with validation on a split carved from the corpus.
# Prints parameters, compression (linear layers and whole model), tokens/s and its ratio to dense,
# validation loss after the same tokens and after the same wall-clock time.
# Environment: LR_STEPS (150), LR_LAYERS (6), LR_WIDTH (512), LR_HEADS (8), LR_BATCH (8), LR_SEQ (128),
#              LR_RANKS ("0.5 0.25"), LR_EVAL_EVERY (25), FINGPT (.build/release/fingpt).
set -euo pipefail
cd "$(dirname "$0")/.."
FINGPT=${FINGPT:-.build/release/fingpt}
CORPUS=${FINGPT_CORPUS:-../shared/data/corpus/fin_corpus_train.txt}
MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
WORK=bench/.work/lowrank
STEPS=${LR_STEPS:-150}; LAYERS=${LR_LAYERS:-6}; WIDTH=${LR_WIDTH:-512}; HEADS=${LR_HEADS:-8}
BATCH=${LR_BATCH:-8}; SEQ=${LR_SEQ:-128}; RANKS=${LR_RANKS:-"0.5 0.25"}; EVAL=${LR_EVAL_EVERY:-25}
[ -x "$FINGPT" ] || { echo "lowrank_bench: $FINGPT missing; run make build" >&2; exit 2; }
[ -f "$CORPUS" ] || { echo "lowrank_bench: corpus $CORPUS missing (set FINGPT_CORPUS)" >&2; exit 2; }
mkdir -p "$WORK"
echo "lowrank_bench: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(uptime)"
[ -f "$WORK/data/corpus_manifest.json" ] || "$FINGPT" prepare --corpus "$CORPUS" --tokenizer "$MODEL" --out "$WORK/data"
printf '{"n_layer": %d, "n_head": %d, "n_embd": %d, "n_positions": %d, "vocab_size": 49152}\n' "$LAYERS" "$HEADS" "$WIDTH" "$SEQ" > "$WORK/config.json"
common=(--data "$WORK/data" --config "$WORK/config.json" --steps "$STEPS" --batch "$BATCH" --seq "$SEQ" --lr 1e-3 --warmup 10
        --eval-every "$EVAL" --eval-batches 8 --checkpoint-every 0 --seed 7 --quiet)
runs=(dense)
"$FINGPT" pretrain "${common[@]}" --out "$WORK/dense"
for r in $RANKS; do
  "$FINGPT" pretrain "${common[@]}" --low-rank "$r" --out "$WORK/rank-$r"
  runs+=("rank-$r")
done
python3 bench/summarize_lowrank_bench.py "$WORK" "${runs[@]}"
