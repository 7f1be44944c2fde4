#!/usr/bin/env python3
"""Zero-shot vs finetuned table for scripts/finetune_sentiment.sh (reads OUT/eval/*.json and OUT/finetune.out)."""
import json
import os
import re
import sys


def main(out):
    rows = []
    for name in ("fpb_train", "fiqa_train", "tfns_train"):
        r = {}
        for label in ("zero-shot", "finetuned"):
            d = json.load(open(os.path.join(out, "eval", f"{label}-{name}.json")))
            o = d["sentiment"][0]["overall"]
            r[label] = (o["accuracy"], o["f1Macro"], o["f1Weighted"], o["count"])
        rows.append((name.replace("_train", ""), r))
    print(f"{'dev split':10} {'n':>4}  {'zero-shot acc':>13} {'F1 macro':>8} {'F1 w':>6}   {'finetuned acc':>13} {'F1 macro':>8} {'F1 w':>6}   {'gain':>6}")
    for name, r in rows:
        z, f = r["zero-shot"], r["finetuned"]
        print(f"{name:10} {z[3]:>4}  {z[0]:13.3f} {z[1]:8.3f} {z[2]:6.3f}   {f[0]:13.3f} {f[1]:8.3f} {f[2]:6.3f}   {100 * (f[0] - z[0]):+5.1f}pt")
    path = os.path.join(out, "finetune.out")
    text = open(path).read() if os.path.exists(path) else ""
    m = re.search(r"finetuned (\d+) steps in ([0-9.]+) s \(([0-9]+) tokens/s, peak RSS ([0-9]+) MB\)", text)
    if m:
        print(f"training: {m.group(1)} steps in {float(m.group(2)):.0f} s ({m.group(3)} tokens/s), peak RSS {m.group(4)} MB")


if __name__ == "__main__":
    main(sys.argv[1])
