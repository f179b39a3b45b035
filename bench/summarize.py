#!/usr/bin/env python3
"""Merges bench_tensor (Google Benchmark JSON), torch_peer.py and bench_peak JSON into markdown
tables (the ones in docs/performance.md). Standard library only.

  summarize.py compare CPP_CHECKSUMS TORCH_CHECKSUMS    exit 1 unless they agree (rel 1e-4)
  summarize.py tables CPP_JSONS TORCH_JSONS PEAK_JSONS  markdown on stdout
      (each argument a comma-separated list of files, one per round: samples are pooled;
       the peak is the best run of all rounds)
"""

import json
import statistics
import sys

FLOPS_PER_ELEMENT = {"affine_bcast": 4, "sum_last3": 1}  # only where the count is unambiguous
ORDER = ["sigmoid_mul_add", "silu", "affine_bcast", "sum_last3"]


def compare(cpp_path, torch_path, rel=1e-4):
    cpp, tor = json.load(open(cpp_path)), json.load(open(torch_path))
    bad = 0
    for size, wls in cpp.items():
        for name, c in wls.items():
            t = tor[size][name]
            for k in ("sum", "sumsq"):
                err = abs(c[k] - t[k]) / max(1.0, abs(c[k]), abs(t[k]))
                status = "ok" if err <= rel else "MISMATCH"
                bad += status != "ok"
                print(f"parity {size:5s} {name:16s} {k:5s} cinediff={c[k]:.9e} torch={t[k]:.9e} "
                      f"rel={err:.1e} {status}")
    return 1 if bad else 0


def cpp_rows(paths):
    runs = {}
    for b in (b for p in paths.split(",") for b in load_benchmarks(p)):
        if b.get("run_type") != "iteration":
            continue
        name = b.get("run_name", b["name"]).removesuffix("/real_time")
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        runs.setdefault(name, {"samples": [], "bytes": b["useful_bytes"], "n": b["elements"]})
        runs[name]["samples"].append(b["real_time"] * scale)
    rows = {}
    for name, r in runs.items():
        workload, impl, size = name.split("/")
        rows[(workload, size, impl)] = (statistics.median(r["samples"]), min(r["samples"]), r["bytes"],
                                        r["n"], len(r["samples"]))
    data = json.load(open(paths.split(",")[0]))
    return rows, data.get("context", {})


def load_benchmarks(path):
    return json.load(open(path))["benchmarks"]


def torch_rows(paths):
    samples = {}
    ctx = {}
    for p in paths.split(","):
        data = json.load(open(p))
        ctx = data.get("context", {})
        for b in data["benchmarks"]:
            key = (b["workload"], b["size"], b["impl"])
            s = samples.setdefault(key, {"t": [], "bytes": b["useful_bytes"], "n": b["elements"]})
            s["t"].extend(b["samples_s"])
    return {k: (statistics.median(v["t"]), min(v["t"]), v["bytes"], v["n"], len(v["t"]))
            for k, v in samples.items()}, ctx


def tables(cpp_path, torch_path, peak_path):
    rows, ctx = cpp_rows(cpp_path)
    trows, tctx = torch_rows(torch_path)
    rows.update(trows)
    peaks = [json.load(open(p)) for p in peak_path.split(",")]
    peak_all = max(r["gflops"] for pk in peaks for r in pk["results"] if r["threads"] == pk["max_threads"])
    peak_one = max(r["gflops"] for pk in peaks for r in pk["results"] if r["threads"] == 1)
    print(f"threads: cinediff/Eigen {ctx.get('threads', '?')}, torch {tctx.get('threads', '?')}; "
          f"fp32 FMA peak (best of all runs): 1 thread {peak_one:.1f} GFLOP/s, "
          f"all threads {peak_all:.1f} GFLOP/s\n")
    for size in ("small", "large"):
        triad = rows.get(("stream_triad", size, "reference"))
        # best against best: on a shared machine the minimum is the least disturbed sample
        triad_gbps = triad[2] / triad[1] * 1e-9 if triad else None
        print(f"### {size}\n")
        if triad_gbps:
            copy = rows.get(("stream_copy", size, "reference"))
            copy_txt = f", copy {copy[2] / copy[1] * 1e-9:.1f} GB/s" if copy else ""
            print(f"Reference bandwidth ({ctx.get('threads', '?')} threads, best sample): "
                  f"triad {triad_gbps:.1f} GB/s{copy_txt}.\n")
        print("| workload | implementation | samples | median µs | min µs | GB/s (median / best) | "
              "% of triad (best) | Gelem/s (best) | GFLOP/s (% peak, best) |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for w in ORDER:
            for (wk, sz, impl), (med, best, nbytes, n, reps) in sorted(rows.items()):
                if wk != w or sz != size:
                    continue
                gbps, gbest = nbytes / med * 1e-9, nbytes / best * 1e-9
                pct = f"{100 * gbest / triad_gbps:.0f}%" if triad_gbps else "-"
                fl = FLOPS_PER_ELEMENT.get(w)
                flops = (f"{fl * n / best * 1e-9:.1f} ({100 * fl * n / best * 1e-9 / peak_all:.1f}%)"
                         if fl else "-")
                print(f"| {w} | {impl} | {reps} | {med * 1e6:,.0f} | {best * 1e6:,.0f} | "
                      f"{gbps:.1f} / {gbest:.1f} | {pct} | {n / best * 1e-9:.2f} | {flops} |")
        print()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 5 and sys.argv[1] == "tables":
        sys.exit(tables(*sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
