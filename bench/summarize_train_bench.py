#!/usr/bin/env python3
"""Helper for bench/train_bench.sh (standard library only).

  summarize_train_bench.py record OUT.jsonl STDOUT_FILE RC --run-id ID --bench-config LABEL --impl IMPL \\
        --variant VARIANT [--cmd "..."]
      Takes the last line of STDOUT_FILE that parses as a JSON object, adds run_id, bench_config,
      impl/variant (unless the line already has them), openblas_coretype, cpu and timestamp, and
      appends it to OUT.jsonl. A failed run (RC != 0 or no JSON line) is recorded with "error".

  summarize_train_bench.py table OUT.jsonl [--run-id ID]
      Prints, per benchmark config, tokens/s, ms/step and peak RSS of every implementation of that
      run (default: the last run in the file), and the ratios ours/pytorch(as installed) and
      ours/pytorch(best of the PyTorch variants), where ratio = ours tokens/s / their tokens/s
      (> 1 means ours is faster). "median ms" is shown when the line has ms_per_step_median
      (the PyTorch script reports it; on a shared 2-core VM single steps can spike).
"""
import argparse
import datetime
import json
import os
import sys


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cmd_record(a):
    rec = None
    try:
        with open(a.stdout_file, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                rec = obj
                break
    if rec is None:
        rec = {"error": "no JSON line in output"}
    if a.rc != 0:
        rec["error"] = f"exit status {a.rc}"
    rec.setdefault("impl", a.impl)
    rec.setdefault("variant", a.variant)
    rec["run_id"] = a.run_id
    rec["bench_config"] = a.bench_config
    rec.setdefault("openblas_coretype", os.environ.get("OPENBLAS_CORETYPE", "unset"))
    rec["cpu"] = _cpu_model()
    rec["nproc"] = os.cpu_count()
    rec["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    if a.cmd:
        rec["cmd"] = a.cmd
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


def _fmt(x, spec):
    if isinstance(x, (int, float)):
        return format(x, spec)
    return "n/a".rjust(int(spec.split(".")[0] or 0))


def cmd_table(a):
    recs = []
    with open(a.out) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    pass
    if not recs:
        print("no results in", a.out)
        return 1
    run_id = a.run_id or recs[-1].get("run_id")
    recs = [r for r in recs if r.get("run_id") == run_id]
    print(f"run {run_id}  (OPENBLAS_CORETYPE={recs[0].get('openblas_coretype', 'unset')}, cpu: {recs[0].get('cpu')})")
    order = []
    for r in recs:
        if r.get("bench_config") not in order:
            order.append(r.get("bench_config"))
    for cfg in order:
        rows = [r for r in recs if r.get("bench_config") == cfg]
        # the PyTorch lines carry a flat config with these keys; fingpt's may name them differently
        c = next((r["config"] for r in rows if r.get("impl") == "pytorch" and isinstance(r.get("config"), dict)),
                 next((r["config"] for r in rows if isinstance(r.get("config"), dict)), {}))
        desc = ", ".join(f"{k}={c[k]}" for k in ("n_layer", "n_embd", "n_head", "vocab", "batch", "seq") if k in c)
        print(f"\n== {cfg}" + (f"  ({desc})" if desc else ""))
        print(f"{'impl':<10} {'variant':<14} {'tokens/s':>10} {'ms/step':>10} {'median ms':>10} {'peak RSS MB':>12} "
              f"{'GFLOP/s':>9}  note")
        for r in rows:
            mf = r.get("model_flops_per_s")
            note = r.get("error", "")
            if r.get("sgemm_gflops") is not None:
                note = (note + " " if note else "") + f"sgemm {r['sgemm_gflops']:.1f} GFLOP/s"
            print(f"{str(r.get('impl')):<10} {str(r.get('variant')):<14} {_fmt(r.get('tokens_per_s'), '10.1f')} "
                  f"{_fmt(r.get('ms_per_step'), '10.1f')} {_fmt(r.get('ms_per_step_median'), '10.1f')} "
                  f"{_fmt(r.get('peak_rss_mb'), '12.0f')} "
                  f"{_fmt(mf / 1e9 if isinstance(mf, (int, float)) else None, '9.1f')}  {note}")
        ok = [r for r in rows if "error" not in r and isinstance(r.get("tokens_per_s"), (int, float))]
        ours = next((r for r in ok if r.get("impl") != "pytorch"), None)
        torch_rows = [r for r in ok if r.get("impl") == "pytorch"]
        installed = next((r for r in torch_rows if r.get("variant") == "as_installed"), None)
        best = max(torch_rows, key=lambda r: r["tokens_per_s"], default=None)
        if ours and installed:
            print(f"ours/pytorch(as installed): {ours['tokens_per_s'] / installed['tokens_per_s']:.3f}x tokens/s, "
                  f"{ours['peak_rss_mb'] / installed['peak_rss_mb']:.2f}x peak RSS")
        else:
            print("ours/pytorch(as installed): n/a")
        if ours and best:
            print(f"ours/pytorch(best = {best.get('variant')}): {ours['tokens_per_s'] / best['tokens_per_s']:.3f}x tokens/s")
        else:
            print("ours/pytorch(best): n/a")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    r = sub.add_parser("record")
    r.add_argument("out")
    r.add_argument("stdout_file")
    r.add_argument("rc", type=int)
    r.add_argument("--run-id", required=True)
    r.add_argument("--bench-config", required=True)
    r.add_argument("--impl", required=True)
    r.add_argument("--variant", required=True)
    r.add_argument("--cmd", default=None)
    t = sub.add_parser("table")
    t.add_argument("out")
    t.add_argument("--run-id", default=None)
    a = ap.parse_args()
    return cmd_record(a) if a.cmd_name == "record" else cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
