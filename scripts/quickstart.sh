#!/usr/bin/env bash
# The whole story on built-in defaults: SmolLM2-135M-Instruct (4-bit GGUF) scored zero-shot on held-out
# financial sentences, QLoRA-finetuned (NF4 base, LoRA adapters, recomputation) on the rest, scored
# again, saved as a PEFT adapter and merged 4-bit and 8-bit GGUFs, and the 8-bit one asked a financial question.
# Data: files named by FINGPT_DATA (FinGPT JSONL, "a.jsonl:REPEAT b.jsonl"), else the FinGPT sentiment
# training sets in ../shared/data/sentiment, else data/sample/fin_sentiment_demo.jsonl (a demo sample
# written for this project). Environment: QUICKSTART_DIR (runs/quickstart), QUICKSTART_STEPS (120),
# QUICKSTART_EVAL_LIMIT (60 rows per dev file), FINGPT (.build/release/fingpt), MODEL.
set -euo pipefail
cd "$(dirname "$0")/.."
FINGPT=${FINGPT:-.build/release/fingpt}
MODEL=${MODEL:-.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}
OUT=${QUICKSTART_DIR:-runs/quickstart}
STEPS=${QUICKSTART_STEPS:-120}
LIMIT=${QUICKSTART_EVAL_LIMIT:-60}
SHARED=../shared/data/sentiment
mkdir -p "$OUT"

if [ -n "${FINGPT_DATA:-}" ]; then
  specs=($FINGPT_DATA); fraction=0.1; source="FINGPT_DATA"
elif [ -f "$SHARED/fpb_train.jsonl" ]; then
  specs=("$SHARED/fpb_train.jsonl:6" "$SHARED/fiqa_train.jsonl:21" "$SHARED/tfns_train.jsonl:2"); fraction=0.05
  source="the FinGPT sentiment training sets in $SHARED (FinGPT's repeats: FPB x6, FiQA x21, TFNS x2)"
else
  specs=("data/sample/fin_sentiment_demo.jsonl:4"); fraction=0.25
  source="data/sample/fin_sentiment_demo.jsonl (a demo sample written for this project, not real data)"
fi

echo "== 1/6 model: $MODEL (SmolLM2-135M-Instruct, Q4_1); data: $source"
files=(); train=(); dev=()
for s in "${specs[@]}"; do
  f=${s%%:*}; w=1; [ "$f" != "$s" ] && w=${s##*:}
  files+=("$f")
  name=$(basename "${f%.*}")
  train+=("--data" "$OUT/split/$name.train.jsonl:$w"); dev+=("$OUT/split/$name.dev.jsonl")
done
"$FINGPT" split $(printf -- '--data %s ' "${files[@]}") --dev-fraction "$fraction" --seed 1337 --out "$OUT/split"

score() { # $1 = label, remaining = extra model args
  local label=$1; shift
  for d in "${dev[@]}"; do
    local name; name=$(basename "${d%.dev.jsonl}")
    "$FINGPT" eval --model "$MODEL" "$@" --task sentiment --data "$d" --limit "$LIMIT" --scoring generate --quiet \
      --out "$OUT/eval/$label-$name.json" | sed "s/^/  [$label $name] /"
  done
}
mkdir -p "$OUT/eval"
echo "== 2/6 zero-shot: SmolLM2 on up to $LIMIT held-out rows per file, FinGPT prompt, greedy answer (results in $OUT/eval/zero-shot-*.json)"
score zero-shot

echo "== 3/6 QLoRA finetune: NF4 base, LoRA r=8 on q,k,v,o,gate,up,down, recomputation, $STEPS steps of 4 (checkpoint, log.jsonl, loss.svg in $OUT/finetune)"
"$FINGPT" finetune --model "$MODEL" "${train[@]}" --out "$OUT/finetune" --quant nf4 --recompute \
  --steps "$STEPS" --batch 4 --lr 3e-4 --warmup 5 --eval-every 20 --eval-batches 8 --checkpoint-every 20 --dev-fraction 0.02 --seed 7 --quiet

echo "== 4/6 finetuned: the same rows with the adapter on top of the 4-bit weights (results in $OUT/eval/finetuned-*.json)"
score finetuned --adapter "$OUT/finetune"

echo "== 5/6 export: PEFT adapter in $OUT/finetune/adapter, llama.cpp LoRA $OUT/finetune/adapter.gguf, merged models:"
"$FINGPT" merge --model "$MODEL" --adapter "$OUT/finetune" --out "$OUT/fingpt-sentiment-q4_1.gguf" --type q4_1
"$FINGPT" merge --model "$MODEL" --adapter "$OUT/finetune" --out "$OUT/fingpt-sentiment-q8_0.gguf" --type q8_0
echo "   note: the Q4_1 merge keeps every block's 4-bit grid from the base and rounds the small update"
echo "   stochastically (merge --requantize), which keeps most but not all of a short finetune (bench/RESULTS.md);"
echo "   the Q8_0 merge keeps nearly all of it, and the original GGUF with the adapter"
echo "   (llama.cpp: --lora $OUT/finetune/adapter.gguf) is exact."

echo "== 6/6 the finetuned model (merged Q8_0 GGUF) answers a financial question"
"$FINGPT" generate --model "$OUT/fingpt-sentiment-q8_0.gguf" --max-tokens 6 \
  --prompt $'Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nInput: The lender raised its full-year profit forecast after loan growth beat expectations.\nAnswer: '
