#!/usr/bin/env bash
# A first financial model, reproducible with a fixed seed: SmolLM2-135M-Instruct zero-shot versus the same
# model QLoRA-finetuned (NF4 base, LoRA r=8 on q,k,v,o,gate,up,down, recomputation) on the FinGPT
# sentiment training sets with FinGPT's repeats (FPB x6, FiQA x21, TFNS x2), each scored with FinGPT's
# protocol (prompt, greedy answer, label normalisation) on a dev split held out from the training files.
# Environment: FT_DIR (runs/finetune-sentiment), FT_STEPS (300), FT_EVAL_LIMIT (200 rows per dev file),
#              FT_DEV_FRACTION (0.05), FT_SEED (1337), FT_FROZEN_COMPUTE (fingpt finetune's default; f32 or int16),
#              FINGPT (.build/release/fingpt).
set -euo pipefail
cd "$(dirname "$0")/.."
FINGPT=${FINGPT:-.build/release/fingpt}
MODEL=${MODEL:-.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}
OUT=${FT_DIR:-runs/finetune-sentiment}
STEPS=${FT_STEPS:-300}; LIMIT=${FT_EVAL_LIMIT:-200}; FRACTION=${FT_DEV_FRACTION:-0.05}; SEED=${FT_SEED:-1337}
DATA=${FINGPT_SENTIMENT_DIR:-../shared/data/sentiment}
[ -f "$DATA/fpb_train.jsonl" ] || { echo "finetune_sentiment: $DATA/fpb_train.jsonl not found (set FINGPT_SENTIMENT_DIR)" >&2; exit 2; }
mkdir -p "$OUT/eval"
echo "finetune_sentiment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(uptime)"
"$FINGPT" split --data "$DATA/fpb_train.jsonl" --data "$DATA/fiqa_train.jsonl" --data "$DATA/tfns_train.jsonl" \
  --dev-fraction "$FRACTION" --seed "$SEED" --out "$OUT/split"
score() {
  local label=$1; shift
  for name in fpb_train fiqa_train tfns_train; do
    "$FINGPT" eval --model "$MODEL" "$@" --task sentiment --data "$OUT/split/$name.dev.jsonl" --limit "$LIMIT" --scoring generate \
      --quiet --out "$OUT/eval/$label-$name.json" | sed "s/^/  [$label $name] /"
  done
}
score zero-shot
start=$(date +%s)
compute=(); [ -n "${FT_FROZEN_COMPUTE:-}" ] && compute=(--frozen-compute "$FT_FROZEN_COMPUTE")
"$FINGPT" finetune --model "$MODEL" --out "$OUT/finetune" --quant nf4 "${compute[@]}" --recompute --seed "$SEED" \
  --data "$OUT/split/fpb_train.train.jsonl:6" --data "$OUT/split/fiqa_train.train.jsonl:21" --data "$OUT/split/tfns_train.train.jsonl:2" \
  --steps "$STEPS" --batch 4 --lr 3e-4 --warmup 10 --dev-fraction 0.02 --eval-every 100 --eval-batches 16 --checkpoint-every 100 --quiet \
  | tee "$OUT/finetune.out"
echo "training wall time: $(( $(date +%s) - start )) s"
score finetuned --adapter "$OUT/finetune"
python3 scripts/summarize_finetune_sentiment.py "$OUT"
