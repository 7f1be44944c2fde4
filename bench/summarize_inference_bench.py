#!/usr/bin/env python3
"""Helper for bench/inference_bench.sh (standard library only, except make-prompt).

  summarize_inference_bench.py make-prompt --gguf MODEL --tokens N --out FILE
      Writes a prompt text of about N SmolLM2 tokens (financial prose repeated). Uses the tokenizer of
      dev/make_tokenizer_goldens.py (needs `pip install gguf tokenizers`) to cut it at exactly N
      tokens; without those packages it falls back to a word count (about 1.3 tokens per word) and
      says so. Prints the token count it aimed for (the llama.cpp log reports the real one).

  summarize_inference_bench.py record OUT.jsonl --run-id ID --impl llamacpp|fingpt [files...]
      llamacpp: --llamabench-json F (llama-bench -o json), --llamabench-depth-json F (llama-bench -p 0
                -n TG -d PP: generation speed with PP tokens already in the KV cache),
                --time-file F (/usr/bin/time -v of the
                generation run), --gen-log F (llama-completion's log, for its own timings), --rc N
      fingpt:   --stdout-file F (last JSON line: prompt_tokens_per_s, gen_tokens_per_s, peak_rss_mb),
                --empty-stdout-file F (the same from --prompt-tokens 1: generation from an empty cache,
                recorded as tg_empty_tokens_per_s), --time-file F, --rc N
      Appends one JSON line with pp_tokens_per_s, tg_tokens_per_s, peak_rss_mb (from /usr/bin/time,
      the same method for both), plus run_id, model, openblas_coretype, cpu, load average, time.
      A failed run is recorded with "error".

  summarize_inference_bench.py table OUT.jsonl [--run-id ID]
      Table of the run (default: the last run in the file): pp/tg tokens/s and peak RSS of each
      implementation, and the ratios ours/llama.cpp (speed ratios > 1: ours faster; memory ratio
      > 1: ours uses more).
"""
import argparse
import datetime
import json
import os
import re
import sys

PROSE = (
    "Revenue for the quarter rose 9.4% to $3.17 billion as subscription sales grew faster than expected, "
    "while operating margin improved by 80 basis points to 21.6%. Management raised its full-year outlook "
    "and now expects earnings per share of $5.40 to $5.55. The board approved a quarterly dividend of $0.68 "
    "per share and a new $2 billion buyback program. Meanwhile, the central bank left interest rates "
    "unchanged, noting that inflation of 2.7% remains above its 2% target and that labor markets are "
    "gradually coming into better balance. "
)


def cmd_make_prompt(a):
    n = a.tokens
    text = PROSE * (n // 60 + 4)
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dev"))
        from make_tokenizer_goldens import build_reference
        tok, _, _ = build_reference(a.gguf)
        ids = tok.encode(text, add_special_tokens=False).ids[:n]
        out = tok.decode(ids)
        got = len(tok.encode(out, add_special_tokens=False).ids)
        how = f"exactly {got} tokens (SmolLM2 tokenizer)"
    except Exception as e:  # no gguf/tokenizers: approximate
        words = text.split(" ")
        out = " ".join(words[: int(n / 1.3)])
        how = f"about {n} tokens (word count; tokenizer unavailable: {type(e).__name__})"
    with open(a.out, "w") as f:
        f.write(out)
    print(how)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except (OSError, TypeError):
        return ""


def parse_time_v(text):
    """/usr/bin/time -v output -> dict with peak_rss_mb, wall_s, user_s, sys_s (those found)."""
    r = {}
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
    if m:
        r["peak_rss_mb"] = round(int(m.group(1)) / 1024.0, 1)
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([\d:.]+)", text)
    if m:
        secs = 0.0
        for part in m.group(1).split(":"):
            secs = secs * 60 + float(part)
        r["wall_s"] = round(secs, 2)
    for key, name in (("User time (seconds)", "user_s"), ("System time (seconds)", "sys_s")):
        m = re.search(re.escape(key) + r":\s*([\d.]+)", text)
        if m:
            r[name] = float(m.group(1))
    return r


def parse_llama_bench_json(text):
    """llama-bench -o json -> {pp_tokens_per_s, pp_stddev, tg_tokens_per_s, tg_stddev, ...}."""
    r = {}
    start = text.find("[")
    if start < 0:
        return r
    try:
        rows = json.loads(text[start:text.rfind("]") + 1])
    except ValueError:
        return r
    for row in rows:
        if row.get("n_depth", 0) > 0:
            if row.get("n_gen", 0) > 0 and row.get("n_prompt", 0) == 0:
                r["tg_at_depth_tokens_per_s"], r["tg_at_depth_stddev"] = row.get("avg_ts"), row.get("stddev_ts")
                r["tg_at_depth"] = row["n_depth"]
            continue
        if row.get("n_prompt", 0) > 0 and row.get("n_gen", 0) == 0:
            r["pp_tokens_per_s"], r["pp_stddev"] = row.get("avg_ts"), row.get("stddev_ts")
            r["pp_tokens"] = row["n_prompt"]
        elif row.get("n_gen", 0) > 0 and row.get("n_prompt", 0) == 0:
            r["tg_tokens_per_s"], r["tg_stddev"] = row.get("avg_ts"), row.get("stddev_ts")
            r["tg_tokens"] = row["n_gen"]
        for k in ("build_commit", "build_number", "cpu_info", "n_threads", "n_batch", "n_ubatch", "type_k",
                  "model_type", "model_size", "n_gpu_layers", "repetitions"):
            if k in row:
                r.setdefault("llama_bench_" + k, row[k])
        if "samples_ts" in row:
            r.setdefault("llama_bench_samples", {})["pp" if row.get("n_gen", 0) == 0 else "tg"] = row["samples_ts"]
    return r


def parse_llama_perf(text):
    """llama_perf_context_print lines of llama-completion / llama-simple -> tokens/s of that run."""
    r = {}
    m = re.search(r"prompt eval time\s*=\s*([\d.]+) ms /\s*(\d+) tokens.*?([\d.]+) tokens per second", text)
    if m:
        r["gen_run_prompt_tokens"] = int(m.group(2))
        r["gen_run_pp_tokens_per_s"] = float(m.group(3))
    m = re.search(r"\n[^\n]*?\beval time\s*=\s*([\d.]+) ms /\s*(\d+) runs.*?([\d.]+) tokens per second", text)
    if m:
        r["gen_run_gen_tokens"] = int(m.group(2))
        r["gen_run_tg_tokens_per_s"] = float(m.group(3))
    return r


def last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def cmd_record(a):
    rec = {"impl": a.impl}
    if a.impl == "llamacpp":
        rec.update(parse_llama_bench_json(_read(a.llamabench_json)))
        if a.llamabench_depth_json:
            rec.update({k: v for k, v in parse_llama_bench_json(_read(a.llamabench_depth_json)).items()
                        if k.startswith("tg_at_depth")})
        if "pp_tokens_per_s" not in rec or "tg_tokens_per_s" not in rec:
            rec["error"] = "llama-bench gave no pp/tg result"
        t = parse_time_v(_read(a.time_file))
        if "peak_rss_mb" in t:
            rec["peak_rss_mb"] = t.pop("peak_rss_mb")
        rec.update({"gen_run_" + k: v for k, v in t.items()})
        rec.update(parse_llama_perf(_read(a.gen_log)))
        if a.rc:
            rec["gen_run_error"] = f"exit status {a.rc}"
        if a.llamacpp_info:
            rec["llamacpp_build"] = a.llamacpp_info
    else:
        out = last_json_line(_read(a.stdout_file))
        if out is None:
            rec["error"] = "no JSON line in output"
        else:
            rec["raw"] = out
            rec["pp_tokens_per_s"] = out.get("prompt_tokens_per_s")
            rec["tg_tokens_per_s"] = out.get("gen_tokens_per_s")
            rec["self_reported_peak_rss_mb"] = out.get("peak_rss_mb")
        if a.empty_stdout_file:
            empty = last_json_line(_read(a.empty_stdout_file))
            if empty is not None:
                rec["tg_empty_tokens_per_s"] = empty.get("gen_tokens_per_s")
        t = parse_time_v(_read(a.time_file))
        rec["peak_rss_mb"] = t.pop("peak_rss_mb", rec.get("self_reported_peak_rss_mb"))
        rec.update({"run_" + k: v for k, v in t.items()})
        if a.rc:
            rec["error"] = f"exit status {a.rc}"
    rec["run_id"] = a.run_id
    rec["model"] = a.model
    rec["prompt_tokens"], rec["gen_tokens"], rec["threads"] = a.pp, a.tg, a.threads
    if a.cmd:
        rec["cmd"] = a.cmd
    rec["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "unset")
    rec["cpu"] = _cpu_model()
    rec["nproc"] = os.cpu_count()
    try:
        rec["loadavg"] = _read("/proc/loadavg").split()[:3]
    except Exception:
        pass
    rec["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


def _fmt(x, spec, width):
    if isinstance(x, (int, float)):
        return format(x, spec).rjust(width)
    return "n/a".rjust(width)


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
        print("no records")
        return 1
    run_id = a.run_id or recs[-1].get("run_id")
    recs = [r for r in recs if r.get("run_id") == run_id]
    by = {}
    for r in recs:
        by[r["impl"]] = r
    pp = recs[0].get("prompt_tokens", 512)
    tg = recs[0].get("gen_tokens", 128)
    print(f"inference bench run {run_id}: model {os.path.basename(str(recs[0].get('model')))}, "
          f"threads {recs[0].get('threads')}, OPENBLAS_CORETYPE={recs[0].get('openblas_coretype')}, "
          f"load at record {' '.join(recs[0].get('loadavg') or [])}")
    hdr = f"{'impl':<10} {'pp' + str(pp) + ' tok/s':>14} {'tg' + str(tg) + ' tok/s':>14} {'peak RSS MB':>12}  notes"
    print(hdr)
    print("-" * len(hdr))
    names = {"llamacpp": "llama.cpp", "fingpt": "fingpt"}
    for impl in ("llamacpp", "fingpt"):
        r = by.get(impl)
        if r is None:
            continue
        notes = []
        if impl == "llamacpp":
            if r.get("pp_stddev") is not None:
                notes.append(f"llama-bench ±{r['pp_stddev']:.1f}/±{r.get('tg_stddev') or 0:.1f}")
            if r.get("tg_at_depth_tokens_per_s") is not None:
                notes.append(f"tg{tg} @ depth {r['tg_at_depth']}: {r['tg_at_depth_tokens_per_s']:.1f} tok/s")
            if r.get("gen_run_tg_tokens_per_s"):
                notes.append(f"gen run: pp {r.get('gen_run_pp_tokens_per_s')} tg {r['gen_run_tg_tokens_per_s']} tok/s"
                             f" ({r.get('gen_run_prompt_tokens')}+{r.get('gen_run_gen_tokens')} tokens)")
        else:
            if r.get("tg_empty_tokens_per_s") is not None:
                notes.append(f"tg{tg} from an empty cache: {r['tg_empty_tokens_per_s']:.1f} tok/s")
            if r.get("self_reported_peak_rss_mb") is not None:
                notes.append(f"self-reported RSS {r['self_reported_peak_rss_mb']} MB")
        if r.get("error"):
            notes.append("ERROR: " + r["error"])
        print(f"{names[impl]:<10} {_fmt(r.get('pp_tokens_per_s'), '.1f', 14)} {_fmt(r.get('tg_tokens_per_s'), '.1f', 14)} "
              f"{_fmt(r.get('peak_rss_mb'), '.1f', 12)}  {'; '.join(notes)}")
    ours, theirs = by.get("fingpt"), by.get("llamacpp")

    def ratio(k):
        try:
            return ours[k] / theirs[k]
        except (TypeError, KeyError, ZeroDivisionError):
            return None
    if ours and theirs:
        print(f"{'ours/l.cpp':<10} {_fmt(ratio('pp_tokens_per_s'), '.3f', 14)} {_fmt(ratio('tg_tokens_per_s'), '.3f', 14)} "
              f"{_fmt(ratio('peak_rss_mb'), '.3f', 12)}  (speed > 1: ours faster; memory > 1: ours uses more)")
        d = theirs.get("tg_at_depth_tokens_per_s")
        if d and isinstance(ours.get("tg_tokens_per_s"), (int, float)):
            print(f"{'':<10} {'':>14} {ours['tg_tokens_per_s'] / d:>14.3f} {'':>12}  "
                  f"tg ratio against llama.cpp's tg{tg} @ depth {theirs.get('tg_at_depth')} (generation after a prompt)")
        e = ours.get("tg_empty_tokens_per_s")
        if isinstance(e, (int, float)) and isinstance(theirs.get("tg_tokens_per_s"), (int, float)):
            print(f"{'':<10} {'':>14} {e / theirs['tg_tokens_per_s']:>14.3f} {'':>12}  "
                  f"tg ratio from an empty cache (ours --prompt-tokens 1 against llama-bench's tg{tg})")
    else:
        print("ratios: n/a (need both implementations in this run)")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-prompt")
    p.add_argument("--gguf", required=True)
    p.add_argument("--tokens", type=int, default=512)
    p.add_argument("--out", required=True)
    p = sub.add_parser("record")
    p.add_argument("out")
    p.add_argument("--run-id", required=True)
    p.add_argument("--impl", required=True, choices=["llamacpp", "fingpt"])
    p.add_argument("--model", default="")
    p.add_argument("--pp", type=int, default=512)
    p.add_argument("--tg", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--llamabench-json")
    p.add_argument("--llamabench-depth-json")
    p.add_argument("--gen-log")
    p.add_argument("--stdout-file")
    p.add_argument("--empty-stdout-file", help="fingpt bench-generate --prompt-tokens 1 output (generation from an empty cache)")
    p.add_argument("--time-file")
    p.add_argument("--rc", type=int, default=0)
    p.add_argument("--cmd", dest="cmdline")
    p.add_argument("--llamacpp-info")
    p = sub.add_parser("table")
    p.add_argument("out")
    p.add_argument("--run-id")
    a = ap.parse_args()
    if a.cmd == "record":
        a.cmd = a.cmdline
        return cmd_record(a)
    return {"make-prompt": cmd_make_prompt, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main() or 0)
