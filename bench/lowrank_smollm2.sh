#!/usr/bin/env bash
# FinGPT-HPC method 2 on the real model: SmolLM2-135M (Q4_1 GGUF, dequantized to float32) decomposed by
# truncated SVD at several spectral-energy thresholds, then a short continued pretraining of each on
# ../shared/data/corpus (the same tokens for every variant, the dense model included). Prints per
# variant: ranks, parameters and compression, validation perplexity on the corpus's held-out
# documents before and after the continued pretraining, tokens/s and its ratio to dense.
# Environment: LRS_ENERGIES ("0.95 0.9 0.8"), LRS_STEPS (30), LRS_BATCH (4), LRS_SEQ (256),
#              LRS_LR (2e-4), LRS_EVAL_BATCHES (16), FINGPT (.build/release/fingpt).
set -euo pipefail
cd "$(dirname "$0")/.."
FINGPT=${FINGPT:-.build/release/fingpt}
CORPUS=${FINGPT_CORPUS:-../shared/data/corpus/fin_corpus_train.txt}
MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
WORK=bench/.work/lowrank-smollm2
ENERGIES=${LRS_ENERGIES:-"0.95 0.9 0.8"}; STEPS=${LRS_STEPS:-30}; BATCH=${LRS_BATCH:-4}; SEQ=${LRS_SEQ:-256}
LR=${LRS_LR:-2e-4}; EVALB=${LRS_EVAL_BATCHES:-16}
[ -x "$FINGPT" ] || { echo "lowrank_smollm2: $FINGPT missing; run make build" >&2; exit 2; }
[ -f "$CORPUS" ] || { echo "lowrank_smollm2: corpus $CORPUS missing (set FINGPT_CORPUS)" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "lowrank_smollm2: $MODEL missing; run make setup" >&2; exit 2; }
mkdir -p "$WORK"
echo "lowrank_smollm2: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(uptime)"
[ -f "$WORK/data/corpus_manifest.json" ] || "$FINGPT" prepare --corpus "$CORPUS" --tokenizer "$MODEL" --out "$WORK/data"
common=(--init "$MODEL" --data "$WORK/data" --steps "$STEPS" --batch "$BATCH" --seq "$SEQ" --lr "$LR" --warmup 3
        --eval-every "$STEPS" --eval-batches "$EVALB" --checkpoint-every "$STEPS" --seed 11 --quiet)
runs=(dense)
rm -rf "$WORK/dense"
"$FINGPT" pretrain "${common[@]}" --out "$WORK/dense" 2>&1 | tee "$WORK/dense.txt"
for e in $ENERGIES; do
  rm -rf "$WORK/e$e"
  "$FINGPT" pretrain "${common[@]}" --low-rank "e$e" --out "$WORK/e$e" 2>&1 | tee "$WORK/e$e.txt"
  runs+=("e$e")
done
python3 bench/summarize_lowrank_smollm2.py "$WORK" "${runs[@]}"
