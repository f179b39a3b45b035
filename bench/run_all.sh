#!/usr/bin/env bash
# Runs every benchmark: parity first (cinediff vs PyTorch checksums must agree), then the peak
# micro-kernel, the C++ workloads and the PyTorch peer; writes JSON and a markdown summary.
#
#   bench/run_all.sh [BUILD_DIR] [OUT_DIR]
#     BUILD_DIR  default build-bench (configure: cmake -S . -B build-bench -G Ninja
#                -DCMAKE_BUILD_TYPE=Release; build: cmake --build build-bench --target bench_tensor bench_peak)
#     OUT_DIR    default /tmp/cinediff-bench
#   env: ROUNDS (default 3): the timing steps run this many times, interleaved, and the samples of
#          all rounds are pooled, so a burst of load on a shared machine hits every variant;
#        REPS (Google Benchmark repetitions per round, default 20, each >= 0.01 s),
#        TORCH_REPEATS (per round, default 20), THREADS (default 2),
#        PYTHON (default /usr/bin/python3, Debian's python3-torch)
# The tables report the median and the minimum over all samples; on a machine shared with other
# work the minimum is the better estimate of what the code can do, the median of what you get.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-build-bench}"
out="${2:-/tmp/cinediff-bench}"
rounds="${ROUNDS:-3}"
reps="${REPS:-20}"
torch_repeats="${TORCH_REPEATS:-20}"
threads="${THREADS:-2}"
python="${PYTHON:-/usr/bin/python3}"
export OMP_NUM_THREADS="$threads"

bench_tensor="$build/bench/bench_tensor"
bench_peak="$build/bench/bench_peak"
for exe in "$bench_tensor" "$bench_peak"; do
  [[ -x "$exe" ]] || { echo "run_all.sh: $exe not built" >&2; exit 2; }
done
mkdir -p "$out"

echo "== machine" >&2
{ lscpu; echo; uptime; } > "$out/machine.txt"
grep -E "Model name|^CPU\(s\)|Flags" "$out/machine.txt" | cut -c1-160 >&2

echo "== parity (checksums of every output, before any timing)" >&2
"$bench_tensor" --checksums > "$out/checksums_cinediff.json"
"$python" "$here/torch_peer.py" --checksums --threads "$threads" > "$out/checksums_torch.json"
"$python" "$here/summarize.py" compare "$out/checksums_cinediff.json" "$out/checksums_torch.json" \
  | tee "$out/parity.txt" >&2

cpp_runs=() torch_runs=() peak_runs=()
for ((r = 1; r <= rounds; ++r)); do
  echo "== round $r/$rounds: fp32 peak" >&2
  "$bench_peak" --seconds 0.05 --repeats 20 > "$out/peak_r$r.json"
  grep gflops "$out/peak_r$r.json" >&2
  echo "== round $r/$rounds: cinediff / Eigen ($reps repetitions each)" >&2
  "$bench_tensor" --benchmark_repetitions="$reps" --benchmark_min_time=0.01 \
    --benchmark_out="$out/cinediff_r$r.json" --benchmark_out_format=json \
    --benchmark_display_aggregates_only=true | grep -E "_median|^Run|threads" >&2
  echo "== round $r/$rounds: PyTorch" >&2
  "$python" "$here/torch_peer.py" --threads "$threads" --repeats "$torch_repeats" \
    --min-repeat-seconds 0.01 > "$out/torch_r$r.json"
  cpp_runs+=("$out/cinediff_r$r.json") torch_runs+=("$out/torch_r$r.json") peak_runs+=("$out/peak_r$r.json")
done
join() { local IFS=,; echo "$*"; }

"$python" "$here/summarize.py" tables "$(join "${cpp_runs[@]}")" "$(join "${torch_runs[@]}")" \
  "$(join "${peak_runs[@]}")" \
  | tee "$out/summary.md"
echo "results in $out" >&2
