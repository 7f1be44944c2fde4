#!/usr/bin/env python3
"""Table for bench/lowrank_smollm2.sh: one row per variant from its log.jsonl, config.json and console output."""
import json
import math
import os
import re
import sys


def shapes(cfg):
    c, q = cfg["hidden_size"], cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    qd, kd, im = cfg["num_attention_heads"] * q, cfg["num_key_value_heads"] * q, cfg["intermediate_size"]
    per = {"self_attn.q_proj": (c, qd), "self_attn.k_proj": (c, kd), "self_attn.v_proj": (c, kd), "self_attn.o_proj": (qd, c),
           "mlp.gate_proj": (c, im), "mlp.up_proj": (c, im), "mlp.down_proj": (im, c)}
    return {f"model.layers.{l}.{k}": v for l in range(cfg["num_hidden_layers"]) for k, v in per.items()}


def main(work, runs):
    rows = []
    for run in runs:
        d = os.path.join(work, run)
        cfg = json.load(open(os.path.join(d, "config.json")))
        ranks = cfg.get("low_rank_ranks", {})
        mods = shapes(cfg)
        dense = sum(i * o for i, o in mods.values())
        actual = sum(ranks[m] * (i + o) if m in ranks else i * o for m, (i, o) in mods.items())
        other = cfg["vocab_size"] * cfg["hidden_size"] * (1 if cfg.get("tie_word_embeddings", True) else 2) \
            + cfg["num_hidden_layers"] * 2 * cfg["hidden_size"] + cfg["hidden_size"]
        log = [json.loads(x) for x in open(os.path.join(d, "log.jsonl")) if x.strip()]
        val = [(e["step"], e["val_loss"]) for e in log if "val_loss" in e]
        tps = [e["tokens_per_s"] for e in log if "tokens_per_s" in e]
        steady = tps[1:] if len(tps) > 1 else tps
        text = open(os.path.join(work, run + ".txt")).read()
        m = re.search(r"mean energy kept ([0-9.]+)", text)
        rows.append(dict(run=run, factorised=len(ranks), linear=actual, dense_linear=dense, total=other + actual,
                         dense_total=other + dense, before=math.exp(val[0][1]), after=math.exp(val[-1][1]),
                         tps=sum(steady) / len(steady), energy=float(m.group(1)) if m else 1.0,
                         rank_range=(min(ranks.values()), max(ranks.values())) if ranks else None))
    base = rows[0]
    print(f"{'variant':8} {'layers':>7} {'ranks':>9} {'energy':>6} {'linear M':>9} {'lin x':>6} {'model M':>8} {'model x':>7} "
          f"{'ppl before':>10} {'ppl after':>9} {'tok/s':>6} {'vs dense':>8}")
    for r in rows:
        rr = f"{r['rank_range'][0]}-{r['rank_range'][1]}" if r["rank_range"] else "-"
        print(f"{r['run']:8} {r['factorised']:>7} {rr:>9} {r['energy']:6.3f} {r['linear'] / 1e6:9.2f} {r['dense_linear'] / r['linear']:6.2f} "
              f"{r['total'] / 1e6:8.2f} {r['dense_total'] / r['total']:7.2f} {r['before']:10.2f} {r['after']:9.2f} {r['tps']:6.0f} "
              f"{r['tps'] / base['tps']:7.2f}x")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
