#!/usr/bin/python3
"""PyTorch peer of bench/tensor_bench.cpp: the same workloads on the same inputs.

Run with Debian's interpreter (python3-torch): /usr/bin/python3 bench/torch_peer.py [options]

  --checksums          print the outputs' checksums as JSON (same layout as
                       `bench_tensor --checksums`) and exit; bench/run_all.sh compares the two
                       before anything is timed
  --sizes small,large  which sizes to run (default both)
  --repeats K          timed repeats per workload (default 15); each repeat runs the workload
                       enough times to last >= --min-repeat-seconds (default 0.02)
  --threads T          torch.set_num_threads (default 2)

Inputs are a formula of the flat index, computed in float64 and rounded to float32, exactly as
in tensor_bench.cpp:
  a[i] = sin(0.001 i), b[i] = 3 cos(0.0007 i); per channel c: mean = 0.1 sin(c),
  rstd = 1 / (1 + 0.01 c), gamma = 1 + 0.001 c, beta = 0.002 c - 0.1.

Variants: `torch_eager` is the expression as a user writes it (each op allocates its result);
`torch_out` runs the same ops into preallocated buffers (out=), which isolates the extra memory
traffic of separate ops from allocation / page-fault cost; `torch_silu` is torch's own fused
torch.nn.functional.silu, for reference.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

SIZES = {"small": (8, 4, 8, 32, 32), "large": (8, 320, 8, 32, 32)}


def make_inputs(shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    a = torch.from_numpy(np.sin(0.001 * i).astype(np.float32)).reshape(shape)
    b = torch.from_numpy((3.0 * np.cos(0.0007 * i)).astype(np.float32)).reshape(shape)
    c = np.arange(shape[1], dtype=np.float64)

    def per_channel(v):
        return torch.from_numpy(v.astype(np.float32)).reshape(1, shape[1], 1, 1, 1)

    return {
        "a": a.contiguous(),
        "b": b.contiguous(),
        "mean": per_channel(0.1 * np.sin(c)),
        "rstd": per_channel(1.0 / (1.0 + 0.01 * c)),
        "gamma": per_channel(1.0 + 0.001 * c),
        "beta": per_channel(0.002 * c - 0.1),
    }


def workloads(x):
    """name -> (useful bytes, {variant: fn() -> output tensor})"""
    a, b = x["a"], x["b"]
    mean, rstd, gamma, beta = x["mean"], x["rstd"], x["gamma"], x["beta"]
    nbytes = a.numel() * 4
    t1, t2, t3, y = (torch.empty_like(a) for _ in range(4))
    s_out = torch.empty(a.shape[0], a.shape[1])

    def sig_out():
        torch.sigmoid(b, out=t1)
        torch.mul(a, t1, out=t2)
        return torch.add(t2, 1.0, out=y)

    def silu_out():
        torch.sigmoid(a, out=t1)
        return torch.mul(a, t1, out=y)

    def affine_out():
        torch.sub(a, mean, out=t1)
        torch.mul(t1, rstd, out=t2)
        torch.mul(t2, gamma, out=t3)
        return torch.add(t3, beta, out=y)

    return {
        "sigmoid_mul_add": (3 * nbytes, {
            "torch_eager": lambda: a * torch.sigmoid(b) + 1.0,
            "torch_out": sig_out,
        }),
        "silu": (2 * nbytes, {
            "torch_eager": lambda: a * torch.sigmoid(a),
            "torch_out": silu_out,
            "torch_silu": lambda: torch.nn.functional.silu(a),
        }),
        "affine_bcast": (2 * nbytes, {
            "torch_eager": lambda: (a - mean) * rstd * gamma + beta,
            "torch_out": affine_out,
        }),
        "sum_last3": (nbytes, {
            "torch_eager": lambda: a.sum(dim=(2, 3, 4)),
            "torch_out": lambda: torch.sum(a, dim=(2, 3, 4), out=s_out),
        }),
        "stream_copy": (2 * nbytes, {
            "torch_out": lambda: y.copy_(a),
        }),
    }


def checksum(t):
    v = t.detach().double().numpy()
    return {"sum": float(v.sum()), "sumsq": float((v * v).sum())}


def time_fn(fn, repeats, min_seconds):
    fn()  # warm-up
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_seconds or number >= 1 << 20:
            break
        number *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checksums", action="store_true")
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--min-repeat-seconds", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    sizes = [s for s in args.sizes.split(",") if s]

    if args.checksums:
        out = {}
        for size in sizes:
            wl = workloads(make_inputs(SIZES[size]))
            out[size] = {}
            for name, (_, variants) in wl.items():
                if name.startswith("stream"):
                    continue
                sums = {v: checksum(fn()) for v, fn in variants.items()}
                ref = sums["torch_eager"]
                for v, c in sums.items():  # the torch variants must agree among themselves
                    for k in ("sum", "sumsq"):
                        if abs(c[k] - ref[k]) > 1e-5 * max(1.0, abs(ref[k])):
                            print(f"torch variants disagree: {size} {name} {v} {k}", file=sys.stderr)
                            return 1
                out[size][name] = ref
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0

    results = []
    for size in sizes:
        x = make_inputs(SIZES[size])
        wl = workloads(x)
        for name, (nbytes, variants) in wl.items():
            for v, fn in variants.items():
                samples = time_fn(fn, args.repeats, args.min_repeat_seconds)
                med, best = statistics.median(samples), min(samples)
                results.append({
                    "name": f"{name}/{v}/{size}",
                    "workload": name, "impl": v, "size": size,
                    "elements": x["a"].numel(), "useful_bytes": nbytes,
                    "repeats": len(samples),
                    "median_s": med, "min_s": best, "samples_s": samples,
                    "median_gbps": nbytes / med * 1e-9, "best_gbps": nbytes / best * 1e-9,
                    "median_elements_per_s": x["a"].numel() / med,
                })
                print(f"{name}/{v}/{size}: median {med * 1e6:.1f} us, min {best * 1e6:.1f} us",
                      file=sys.stderr)
    json.dump({
        "context": {
            "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
            "parallel_info": torch.__config__.parallel_info(),
        },
        "benchmarks": results,
    }, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
