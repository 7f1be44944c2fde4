#!/usr/bin/env python3
"""Summarises bench/distributed_bench.sh: per configuration the median tokens/s over the steps after
the first (warm-up), the share of step time spent waiting on communication (mean over ranks), and
for pipelines the measured idle share against the theoretical bubble (stages-1)/(micro+stages-1)."""
import json, os, statistics, sys

def load(folder):
    rows = []
    with open(os.path.join(folder, "log.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if "loss" in e:
                rows.append(e)
    return rows[1:] if len(rows) > 1 else rows

def main():
    work, names = sys.argv[1], sys.argv[2:]
    base = None
    print("| configuration | tokens/s (median) | ms/step | vs single | comm wait / step | compute / step | theoretical bubble |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        rows = load(os.path.join(work, name))
        tps = statistics.median(r["tokens_per_s"] for r in rows)
        ms = statistics.median(r["ms_per_step"] for r in rows)
        base = base or tps
        wait = [r["comm_wait_ms"] / r["ms_per_step"] for r in rows if "comm_wait_ms" in r]
        comp = [r["compute_ms"] / r["ms_per_step"] for r in rows if "compute_ms" in r]
        theory = "-"
        if name.startswith("pp"):
            stages, micro = 2, int(name.split("-m")[1].split("-")[0])
            theory = f"{(stages - 1) / (micro + stages - 1):.1%}"
        w = f"{statistics.mean(wait):.1%}" if wait else "-"
        c = f"{statistics.mean(comp):.1%}" if comp else "-"
        print(f"| {name} | {tps:.0f} | {ms:.0f} | {tps / base:.2f}x | {w} | {c} | {theory} |")

if __name__ == "__main__":
    main()
