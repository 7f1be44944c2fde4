"""Table for bench/lowrank_bench.sh: reads each run's log.jsonl and checkpoint header."""
import json
import os
import struct
import sys

work, runs = sys.argv[1], sys.argv[2:]


def header(path):
    with open(path, "rb") as f:
        f.read(16)
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def counts(cfg):
    c, layers, v, t = cfg["n_embd"], cfg["n_layer"], cfg["vocab_size"], cfg["n_positions"]
    ranks = cfg.get("low_rank_ranks", {})
    mods = []
    for l in range(layers):
        p = f"transformer.h.{l}."
        mods += [(p + "attn.c_attn", c, 3 * c), (p + "attn.c_proj", c, c), (p + "mlp.c_fc", c, 4 * c), (p + "mlp.c_proj", 4 * c, c)]
    dense_lin = sum(i * o + o for _, i, o in mods)
    lin = sum((ranks[m] * (i + o) if m in ranks else i * o) + o for m, i, o in mods)
    rest = v * c + t * c + layers * 4 * c + 2 * c
    return lin, dense_lin, lin + rest, dense_lin + rest


rows = []
for r in runs:
    d = os.path.join(work, r)
    log = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
    train = [e for e in log if "loss" in e]
    val = {e["step"]: e["val_loss"] for e in log if "val_loss" in e}
    elapsed = {e["step"]: e["elapsed_s"] for e in train}
    elapsed[0] = 0.0
    cfg = header(os.path.join(d, "checkpoint.bin"))["model"]
    lin, dense_lin, total, dense_total = counts(cfg)
    tps = sum(e["tokens_per_s"] for e in train[len(train) // 5:]) / max(1, len(train) - len(train) // 5)
    rows.append(dict(run=r, params=total, lin=lin, lin_ratio=dense_lin / lin, model_ratio=dense_total / total, tps=tps,
                     val=val, elapsed=elapsed, seconds=train[-1]["elapsed_s"], final=val[max(val)]))

budget = min(r["seconds"] for r in rows)


def val_at(row, t):
    pts = sorted((row["elapsed"][s], v) for s, v in row["val"].items() if s in row["elapsed"])
    best = None
    for e, v in pts:
        if e <= t + 1e-9:
            best = v
    return best


dense = rows[0]
print(f"\nlow-rank pretraining table (same tokens; wall-clock budget = fastest run's {budget:.0f} s)")
print(f"{'run':10} {'params':>9} {'linear':>9} {'lin x':>6} {'model x':>7} {'tok/s':>8} {'speedup':>7} {'val@tokens':>10} {'val@time':>9}")
for r in rows:
    vt = val_at(r, budget)
    print(f"{r['run']:10} {r['params']/1e6:8.2f}M {r['lin']/1e6:8.2f}M {r['lin_ratio']:6.2f} {r['model_ratio']:7.2f} "
          f"{r['tps']:8.0f} {r['tps']/dense['tps']:7.2f} {r['final']:10.4f} {vt if vt is not None else float('nan'):9.4f}")
