// Element-wise and reduction workloads on video-latent shapes (N, C, T, H, W), float32:
// cinediff's fused expressions vs the same computation as separate Eigen array operations (each
// temporary materialised) and vs Eigen's own fused array expression. PyTorch runs the same
// workloads in bench/torch_peer.py; bench/run_all.sh runs both and compares checksums first.
//
//   bench_tensor [google-benchmark flags]     run the benchmarks (JSON: --benchmark_format=json)
//   bench_tensor --checksums                  print the outputs' checksums as JSON, run nothing
//
// Inputs are a formula of the flat index, computed in double and rounded to float, so the PyTorch
// peer builds bit-identical inputs without exchanging files:
//   a[i] = sin(0.001 i), b[i] = 3 cos(0.0007 i); per channel c: mean = 0.1 sin(c),
//   rstd = 1 / (1 + 0.01 c), gamma = 1 + 0.001 c, beta = 0.002 c - 0.1.
// Workloads (x is a):
//   sigmoid_mul_add  y = a * sigmoid(b) + 1
//   silu             y = x * sigmoid(x)
//   affine_bcast     y = (x - mean) * rstd * gamma + beta, parameters of shape (1, C, 1, 1, 1)
//   sum_last3        s = x.sum over (T, H, W) -> (N, C)
//   stream_copy / stream_triad   memory-bandwidth references (y = a; y = a + 3 b)
// Threads: OMP_NUM_THREADS if set, else 2. Eigen's array expressions are single-threaded by
// design (Eigen::setNbThreads only affects its matrix products), so every Eigen variant is given
// twice: as Eigen runs it (_1t) and split into per-thread contiguous chunks with OpenMP (_2t).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <cinediff/tensor/reduce.hpp>
#include <cinediff/tensor/tensor.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

using cinediff::index_t;
using cinediff::shape_t;
using Tensor5 = cinediff::Tensor<float, 5>;
using Array = Eigen::ArrayXf;
using MapA = Eigen::Map<Eigen::ArrayXf, Eigen::Aligned16>;
using MapCA = Eigen::Map<const Eigen::ArrayXf, Eigen::Aligned16>;

struct Size {
    const char* name;
    shape_t<5> shape;
};
const Size sizes[] = {{"small", {8, 4, 8, 32, 32}}, {"large", {8, 320, 8, 32, 32}}};

int bench_threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Runs fn(begin, length) over [0, n) split into one contiguous chunk per thread.
template <class Fn>
void run_split(int threads, index_t n, Fn&& fn) {
    if (threads <= 1) {
        fn(index_t{0}, n);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
        const index_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const index_t chunk = (n + nt - 1) / nt;
        // keep chunk starts 64-byte aligned
        const index_t c16 = (chunk + 15) / 16 * 16;
        const index_t b = std::min(n, t * c16), e = std::min(n, (t + 1) * c16);
        if (e > b) {
            fn(b, e - b);
        }
    }
#else
    fn(index_t{0}, n);
#endif
}

struct Inputs {
    shape_t<5> shape;
    index_t n, C, plane;
    Tensor5 a, b, mean, rstd, gamma, beta, y;
    explicit Inputs(const shape_t<5>& s)
        : shape(s), n(cinediff::numel(s)), C(s[1]), plane(s[2] * s[3] * s[4]), a(s), b(s),
          mean(shape_t<5>{1, s[1], 1, 1, 1}), rstd(mean.shape()), gamma(mean.shape()), beta(mean.shape()),
          y(s) {
        for (index_t i = 0; i < n; ++i) {
            a.data()[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
            b.data()[i] = static_cast<float>(3.0 * std::cos(0.0007 * static_cast<double>(i)));
        }
        for (index_t c = 0; c < C; ++c) {
            const auto dc = static_cast<double>(c);
            mean.data()[c] = static_cast<float>(0.1 * std::sin(dc));
            rstd.data()[c] = static_cast<float>(1.0 / (1.0 + 0.01 * dc));
            gamma.data()[c] = static_cast<float>(1.0 + 0.001 * dc);
            beta.data()[c] = static_cast<float>(0.002 * dc - 0.1);
        }
    }
    MapCA A() const { return {a.data(), n}; }
    MapCA B() const { return {b.data(), n}; }
    MapA Y() { return {y.data(), n}; }
};

// Per-benchmark scratch: Eigen temporaries are allocated once, outside the timed loop, so the
// "separate" variants pay for the extra memory traffic of materialising them, not for malloc.
struct Scratch {
    Array t1, t2, t3;
    explicit Scratch(index_t n) : t1(n), t2(n), t3(n) {}
};

// ---- the workloads -------------------------------------------------------------------------------

enum class Workload { sigmoid_mul_add, silu, affine_bcast, sum_last3, stream_copy, stream_triad };

const char* workload_name(Workload w) {
    switch (w) {
    case Workload::sigmoid_mul_add:
        return "sigmoid_mul_add";
    case Workload::silu:
        return "silu";
    case Workload::affine_bcast:
        return "affine_bcast";
    case Workload::sum_last3:
        return "sum_last3";
    case Workload::stream_copy:
        return "stream_copy";
    case Workload::stream_triad:
        return "stream_triad";
    }
    return "?";
}

// Bytes a perfect implementation must move: every input read once, the output written once.
double useful_bytes(Workload w, const Inputs& in) {
    const double n = static_cast<double>(in.n) * sizeof(float);
    switch (w) {
    case Workload::sigmoid_mul_add:
        return 3 * n;
    case Workload::silu:
        return 2 * n;
    case Workload::affine_bcast:
        return 2 * n;
    case Workload::sum_last3:
        return n;
    case Workload::stream_copy:
        return 2 * n;
    case Workload::stream_triad:
        return 3 * n;
    }
    return 0;
}

using Impl = std::function<void(Inputs&, Scratch&)>;

// Eigen on the channel planes: x viewed as (plane, N*C) column-major, column j has channel j % C.
template <class Fn>
void per_plane(int threads, Inputs& in, Fn&& fn) {
    const index_t planes = in.n / in.plane;
    run_split(threads, planes, [&](index_t b, index_t len) {
        for (index_t j = b; j < b + len; ++j) {
            fn(j, j % in.C);
        }
    });
}

Impl make_impl(Workload w, const std::string& impl, int threads) {
    using namespace cinediff;
    switch (w) {
    case Workload::sigmoid_mul_add:
        if (impl == "cinediff_fused") {
            return [](Inputs& in, Scratch&) { in.y = in.a * sigmoid(in.b) + 1.0f; };
        }
        if (impl == "eigen_fused") {
            return [threads](Inputs& in, Scratch&) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    in.Y().segment(b, len) =
                        in.A().segment(b, len) * (1.0f + (-in.B().segment(b, len)).exp()).inverse() + 1.0f;
                });
            };
        }
        if (impl == "eigen_separate") { // as eager ops: s = sigmoid(b); t = a * s; y = t + 1
            return [threads](Inputs& in, Scratch& s) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    s.t1.segment(b, len) = (1.0f + (-in.B().segment(b, len)).exp()).inverse();
                });
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    s.t2.segment(b, len) = in.A().segment(b, len) * s.t1.segment(b, len);
                });
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    in.Y().segment(b, len) = s.t2.segment(b, len) + 1.0f;
                });
            };
        }
        break;
    case Workload::silu:
        if (impl == "cinediff_fused") {
            return [](Inputs& in, Scratch&) { in.y = in.a * sigmoid(in.a); };
        }
        if (impl == "eigen_fused") {
            return [threads](Inputs& in, Scratch&) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    const auto x = in.A().segment(b, len);
                    in.Y().segment(b, len) = x * (1.0f + (-x).exp()).inverse();
                });
            };
        }
        if (impl == "eigen_separate") { // s = sigmoid(x); y = x * s
            return [threads](Inputs& in, Scratch& s) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    s.t1.segment(b, len) = (1.0f + (-in.A().segment(b, len)).exp()).inverse();
                });
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    in.Y().segment(b, len) = in.A().segment(b, len) * s.t1.segment(b, len);
                });
            };
        }
        break;
    case Workload::affine_bcast:
        if (impl == "cinediff_fused") { // broadcast leaves: the executor's merged, tiled row path
            return [](Inputs& in, Scratch&) { in.y = (in.a - in.mean) * in.rstd * in.gamma + in.beta; };
        }
        if (impl == "eigen_fused") {
            return [threads](Inputs& in, Scratch&) {
                const index_t p = in.plane;
                per_plane(threads, in, [&](index_t j, index_t c) {
                    in.Y().segment(j * p, p) = (in.A().segment(j * p, p) - in.mean.data()[c]) *
                                                   in.rstd.data()[c] * in.gamma.data()[c] +
                                               in.beta.data()[c];
                });
            };
        }
        if (impl == "eigen_separate") { // t1 = x - mean; t2 = t1 * rstd; t3 = t2 * gamma; y = t3 + beta
            return [threads](Inputs& in, Scratch& s) {
                const index_t p = in.plane;
                per_plane(threads, in, [&](index_t j, index_t c) {
                    s.t1.segment(j * p, p) = in.A().segment(j * p, p) - in.mean.data()[c];
                });
                per_plane(threads, in, [&](index_t j, index_t c) {
                    s.t2.segment(j * p, p) = s.t1.segment(j * p, p) * in.rstd.data()[c];
                });
                per_plane(threads, in, [&](index_t j, index_t c) {
                    s.t3.segment(j * p, p) = s.t2.segment(j * p, p) * in.gamma.data()[c];
                });
                per_plane(threads, in, [&](index_t j, index_t c) {
                    in.Y().segment(j * p, p) = s.t3.segment(j * p, p) + in.beta.data()[c];
                });
            };
        }
        break;
    case Workload::sum_last3:
        if (impl == "cinediff_fused") { // result lands in y's first N*C elements
            return [](Inputs& in, Scratch&) {
                const auto s = sum(in.a, {2, 3, 4});
                benchmark::DoNotOptimize(s.data());
                std::memcpy(in.y.data(), s.data(), static_cast<std::size_t>(s.size()) * sizeof(float));
            };
        }
        if (impl == "eigen_fused") { // one Eigen op: colwise().sum() (no "separate" variant)
            return [threads](Inputs& in, Scratch&) {
                const index_t p = in.plane, planes = in.n / in.plane;
                Eigen::Map<const Eigen::ArrayXXf> x(in.a.data(), p, planes);
                run_split(threads, planes, [&](index_t b, index_t len) {
                    Eigen::Map<Eigen::ArrayXXf>(in.y.data() + b, 1, len) =
                        x.middleCols(b, len).colwise().sum();
                });
            };
        }
        break;
    case Workload::stream_copy:
        if (impl == "reference") {
            return [threads](Inputs& in, Scratch&) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    std::memcpy(in.y.data() + b, in.a.data() + b,
                                static_cast<std::size_t>(len) * sizeof(float));
                });
            };
        }
        break;
    case Workload::stream_triad:
        if (impl == "reference") {
            return [threads](Inputs& in, Scratch&) {
                run_split(threads, in.n, [&](index_t b, index_t len) {
                    float* CINEDIFF_RESTRICT y = in.y.data() + b;
                    const float* CINEDIFF_RESTRICT x = in.a.data() + b;
                    const float* CINEDIFF_RESTRICT z = in.b.data() + b;
#pragma omp simd
                    for (index_t i = 0; i < len; ++i) {
                        y[i] = x[i] + 3.0f * z[i];
                    }
                });
            };
        }
        break;
    }
    return nullptr;
}

index_t output_count(Workload w, const Inputs& in) {
    return w == Workload::sum_last3 ? in.n / in.plane : in.n;
}

struct Checksum {
    double sum = 0, sumsq = 0;
};
Checksum checksum(const float* p, index_t n) {
    Checksum c;
    for (index_t i = 0; i < n; ++i) {
        c.sum += p[i];
        c.sumsq += static_cast<double>(p[i]) * p[i];
    }
    return c;
}

const Workload elementwise[] = {Workload::sigmoid_mul_add, Workload::silu, Workload::affine_bcast,
                                Workload::sum_last3};
const char* impls[] = {"cinediff_fused", "eigen_separate", "eigen_fused"};

std::vector<std::unique_ptr<Inputs>> g_inputs; // one per size, built lazily, shared by benchmarks

Inputs& inputs_for(std::size_t size_index) {
    if (g_inputs.empty()) {
        g_inputs.resize(std::size(sizes));
    }
    auto& p = g_inputs[size_index];
    if (!p) {
        p = std::make_unique<Inputs>(sizes[size_index].shape);
    }
    return *p;
}

// Every implementation of a workload must agree; prints {"small": {"silu": {...}}, ...}.
int print_checksums() {
    const int threads = bench_threads();
    int status = 0;
    std::printf("{\n");
    for (std::size_t s = 0; s < std::size(sizes); ++s) {
        Inputs& in = inputs_for(s);
        Scratch scratch(in.n);
        std::printf("  \"%s\": {\n", sizes[s].name);
        for (std::size_t wi = 0; wi < std::size(elementwise); ++wi) {
            const Workload w = elementwise[wi];
            Checksum ref{};
            bool have_ref = false;
            for (const char* name : impls) {
                for (int t : {1, threads}) {
                    const auto impl = make_impl(w, name, t);
                    if (!impl) {
                        continue;
                    }
                    std::fill_n(in.y.data(), in.n, -1.0f);
                    impl(in, scratch);
                    const Checksum c = checksum(in.y.data(), output_count(w, in));
                    if (!have_ref) {
                        ref = c;
                        have_ref = true;
                    } else if (std::abs(c.sum - ref.sum) > 1e-5 * std::max(1.0, std::abs(ref.sum)) ||
                               std::abs(c.sumsq - ref.sumsq) > 1e-5 * std::max(1.0, std::abs(ref.sumsq))) {
                        std::fprintf(
                            stderr, "checksum mismatch: %s %s %s (%d threads): %.9g %.9g vs %.9g %.9g\n",
                            sizes[s].name, workload_name(w), name, t, c.sum, c.sumsq, ref.sum, ref.sumsq);
                        status = 1;
                    }
                }
            }
            std::printf("    \"%s\": {\"sum\": %.12e, \"sumsq\": %.12e}%s\n", workload_name(w), ref.sum,
                        ref.sumsq, wi + 1 < std::size(elementwise) ? "," : "");
        }
        std::printf("  }%s\n", s + 1 < std::size(sizes) ? "," : "");
    }
    std::printf("}\n");
    return status;
}

void register_all() {
    const int threads = bench_threads();
    for (std::size_t s = 0; s < std::size(sizes); ++s) {
        auto add = [&](Workload w, const std::string& name, int t) {
            auto impl = make_impl(w, name, t);
            if (!impl) {
                return;
            }
            // Appended piece by piece: GCC 12 raises a false -Wrestrict on "_" + std::string&&.
            std::string label = workload_name(w);
            label += "/";
            label += name;
            if (name.rfind("eigen", 0) == 0) {
                label += "_";
                label += std::to_string(t);
                label += "t";
            }
            label += "/";
            label += sizes[s].name;
            benchmark::RegisterBenchmark(
                label.c_str(),
                [s, w, impl](benchmark::State& state) {
                    Inputs& in = inputs_for(s);
                    Scratch scratch(in.n);
                    impl(in, scratch); // warm-up: first touch of temporaries and output
                    for (auto _ : state) {
                        impl(in, scratch);
                        benchmark::DoNotOptimize(in.y.data());
                        benchmark::ClobberMemory();
                    }
                    const auto it = static_cast<double>(state.iterations());
                    state.SetBytesProcessed(static_cast<int64_t>(it * useful_bytes(w, in)));
                    state.SetItemsProcessed(static_cast<int64_t>(it * static_cast<double>(in.n)));
                    state.counters["elements"] = static_cast<double>(in.n);
                    state.counters["useful_bytes"] = useful_bytes(w, in);
                })
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
        };
        for (Workload w : elementwise) {
            for (const char* name : impls) {
                if (std::string(name).rfind("eigen", 0) == 0) {
                    add(w, name, 1);
                    if (threads > 1) {
                        add(w, name, threads);
                    }
                } else {
                    add(w, name, threads);
                }
            }
        }
        add(Workload::stream_copy, "reference", threads);
        add(Workload::stream_triad, "reference", threads);
    }
}

} // namespace

int main(int argc, char** argv) {
#if defined(_OPENMP)
    if (std::getenv("OMP_NUM_THREADS") == nullptr) {
        omp_set_num_threads(2);
    }
#endif
    Eigen::setNbThreads(bench_threads()); // only matters for Eigen's products; recorded for clarity
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--checksums") == 0) {
            return print_checksums();
        }
    }
    register_all();
    benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
