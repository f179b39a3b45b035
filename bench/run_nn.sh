#!/usr/bin/env bash
# matmul / conv2d / conv3d forward and forward+backward: cinediff (bench_nn) next to PyTorch
# (bench/nn_torch_peer.py), both on one thread and timed by CPU time, plus the training-step
# peak-memory report. Prints a markdown table for docs/performance.md.
#   bench/run_nn.sh [BUILD_DIR]   (default build/release; needs target bench_nn)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-build/release}"
python="${PYTHON:-/usr/bin/python3}"
peak="${PEAK_GFLOPS:-117.9}" # bench_peak, one thread, fp32 FMA (docs/performance.md)
out="$(mktemp -d)"
export OMP_NUM_THREADS=1
"$build/bench/bench_nn" --benchmark_min_time=0.5 --benchmark_format=json > "$out/ours.json"
"$python" "$here/nn_torch_peer.py" --threads 1 > "$out/torch.json"
"$build/bench/bench_nn" --memory
uptime
"$python" - "$out" "$peak" <<'PY'
import json, sys
out, peak = sys.argv[1], float(sys.argv[2])
ours = json.load(open(f"{out}/ours.json"))["benchmarks"]
torch = {r["name"]: r for r in json.load(open(f"{out}/torch.json"))["results"]}
print("| workload | cinediff GFLOP/s | PyTorch GFLOP/s | cinediff / PyTorch | cinediff % of peak |")
print("|---|---|---|---|---|")
for b in ours:
    t = torch[b["name"]]["gflops"]
    print(f"| {b['name']} | {b['GFLOP/s']:.1f} | {t:.1f} | {b['GFLOP/s'] / t:.2f} | {100 * b['GFLOP/s'] / peak:.0f} % |")
PY
