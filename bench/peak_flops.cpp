// fp32 peak-throughput micro-kernel: independent FMA chains held in registers, so the loop is
// bound by FMA issue rate, not by latency or memory. Every GFLOP/s figure in docs/performance.md
// is also given as a percentage of the numbers this program measures.
//
//   bench_peak [--seconds S] [--repeats K]     prints JSON to stdout
//
// Variants: the widest vector ISA the compiler targets (-march=native: AVX-512F on Zen 4 /
// recent Xeons, else AVX2+FMA, else scalar), and 256-bit AVX2 when AVX-512 is also available
// (Zen 4 executes 512-bit FMAs as two 256-bit halves, so both should reach the same peak).
// Each is run on 1 thread and on all OpenMP threads (one copy of the kernel per thread, the
// wall time of the parallel region counts). A flop is one multiply or one add: an FMA is 2.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <immintrin.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

// Enough independent accumulators to cover FMA latency x issue width (4 cycles x 2 pipes = 8
// on Zen 4 and Skylake-SP); 12 leaves headroom and still fits the 16/32 vector registers.
constexpr int chains = 12;

volatile float g_seed = 1.0f; // stops the compiler from constant-folding the chains
volatile float g_sink = 0.0f;

#if defined(__AVX512F__)
constexpr const char* wide_isa = "avx512f";
constexpr int wide_lanes = 16;
double kernel_wide(long iters) {
    const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
    __m512 acc[chains];
    for (int c = 0; c < chains; ++c) {
        acc[c] = _mm512_set1_ps(g_seed + 0.001f * static_cast<float>(c));
    }
    for (long i = 0; i < iters; ++i) {
        for (int c = 0; c < chains; ++c) {
            acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
        }
    }
    __m512 s = acc[0];
    for (int c = 1; c < chains; ++c) {
        s = _mm512_add_ps(s, acc[c]);
    }
    alignas(64) float lanes[16]; // (_mm512_reduce_add_ps trips GCC 12's -Wuninitialized)
    _mm512_store_ps(lanes, s);
    float t = 0;
    for (float l : lanes) {
        t += l;
    }
    g_sink = t;
    return 2.0 * wide_lanes * chains * static_cast<double>(iters);
}
#elif defined(__AVX2__) && defined(__FMA__)
constexpr const char* wide_isa = "avx2_fma";
constexpr int wide_lanes = 8;
#define CINEDIFF_BENCH_WIDE_IS_AVX2 1
#else
constexpr const char* wide_isa = "scalar";
constexpr int wide_lanes = 1;
double kernel_wide(long iters) {
    float acc[chains];
    for (int c = 0; c < chains; ++c) {
        acc[c] = g_seed + 0.001f * static_cast<float>(c);
    }
    for (long i = 0; i < iters; ++i) {
        for (int c = 0; c < chains; ++c) {
            acc[c] = acc[c] * 0.999999f + 1e-7f;
        }
    }
    float s = 0;
    for (float a : acc) {
        s += a;
    }
    g_sink = s;
    return 2.0 * chains * static_cast<double>(iters);
}
#endif

#if defined(__AVX2__) && defined(__FMA__)
double kernel_avx2(long iters) {
    const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
    __m256 acc[chains];
    for (int c = 0; c < chains; ++c) {
        acc[c] = _mm256_set1_ps(g_seed + 0.001f * static_cast<float>(c));
    }
    for (long i = 0; i < iters; ++i) {
        for (int c = 0; c < chains; ++c) {
            acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
        }
    }
    __m256 s = acc[0];
    for (int c = 1; c < chains; ++c) {
        s = _mm256_add_ps(s, acc[c]);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, s);
    float t = 0;
    for (float l : lanes) {
        t += l;
    }
    g_sink = t;
    return 2.0 * 8 * chains * static_cast<double>(iters);
}
#if defined(CINEDIFF_BENCH_WIDE_IS_AVX2)
double kernel_wide(long iters) { return kernel_avx2(iters); }
#endif
#endif

using Kernel = double (*)(long);

int max_threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// GFLOP/s of `threads` concurrent copies of the kernel, best of `repeats` runs of ~`seconds`.
double measure(Kernel k, int threads, double seconds, int repeats) {
    using clock = std::chrono::steady_clock;
    // calibrate iterations on one thread
    long iters = 1 << 16;
    for (;;) {
        const auto t0 = clock::now();
        k(iters);
        const double dt = std::chrono::duration<double>(clock::now() - t0).count();
        if (dt > seconds / 4 || iters > (1L << 40)) {
            iters = static_cast<long>(static_cast<double>(iters) * seconds / std::max(dt, 1e-9));
            break;
        }
        iters *= 4;
    }
    double best = 0;
    for (int r = 0; r < repeats; ++r) {
        double flops = 0;
        const auto t0 = clock::now();
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += k(iters);
#else
        (void)threads;
        flops = k(iters);
#endif
        const double dt = std::chrono::duration<double>(clock::now() - t0).count();
        best = std::max(best, flops / dt * 1e-9);
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    double seconds = 0.3;
    int repeats = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--seconds") == 0) {
            seconds = std::atof(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--repeats") == 0) {
            repeats = std::atoi(argv[i + 1]);
        } else {
            std::fprintf(stderr, "usage: %s [--seconds S] [--repeats K]\n", argv[0]);
            return 2;
        }
    }
    const int all = max_threads();
    struct Variant {
        const char* isa;
        int lanes;
        Kernel k;
    };
    std::vector<Variant> variants{{wide_isa, wide_lanes, kernel_wide}};
#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
    variants.push_back({"avx2_fma", 8, kernel_avx2});
#endif
    std::printf("{\n  \"benchmark\": \"fp32_fma_peak\",\n  \"chains\": %d,\n  \"seconds_per_run\": %g,\n"
                "  \"repeats\": %d,\n  \"statistic\": \"max\",\n  \"max_threads\": %d,\n  \"results\": [\n",
                chains, seconds, repeats, all);
    bool first = true;
    for (const Variant& v : variants) {
        std::vector<int> counts{1};
        if (all > 1) {
            counts.push_back(all);
        }
        for (int t : counts) {
            const double g = measure(v.k, t, seconds, repeats);
            std::printf("%s    {\"isa\": \"%s\", \"lanes\": %d, \"threads\": %d, \"gflops\": %.2f}", first ? "" : ",\n",
                        v.isa, v.lanes, t, g);
            std::fflush(stdout);
            first = false;
        }
    }
    std::printf("\n  ]\n}\n");
    return 0;
}
