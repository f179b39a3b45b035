// matmul, conv2d and conv3d, forward and forward+backward, in GFLOP/s (Google Benchmark), plus the
// peak memory of one training step of a small 3-D CNN. The PyTorch peer is bench/nn_torch_peer.py
// (same shapes, same FLOP counts); bench/run_nn.sh runs both and docs/performance.md has the table.
//
//   bench_nn [--benchmark_filter=...]     timings
//
// GFLOP/s are computed from the benchmark thread's CPU time, which on a machine shared with other
// work is far more stable than wall time; it equals wall time for OMP_NUM_THREADS=1 (how
// bench/run_nn.sh compares with PyTorch, which it also times by CPU time with one thread). For
// multi-threaded numbers run with --benchmark_... on a quiet machine and read the wall-clock column.
//   bench_nn --memory                     peak RSS of one training step (forward + backward + SGD)
//
// FLOPs counted: matmul 2·M·N·K; conv forward 2·N·C_out·(output positions)·C_in·(kernel volume);
// forward+backward = 3 × forward (grad input and grad weight each cost one forward).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include <cinediff/autograd/reduce.hpp>
#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/functional/conv.hpp>
#include <cinediff/nn/functional/linear.hpp>
#include <cinediff/nn/functional/loss.hpp>
#include <cinediff/nn/functional/pool.hpp>
#include <cinediff/nn/modules.hpp>
#include <cinediff/optim/sgd.hpp>
#include <cinediff/tensor/random_tensor.hpp>

using namespace cinediff;
using autograd::Variable;
namespace F = cinediff::nn::functional;

namespace {

template <std::size_t R>
Variable<float, R> random_variable(const shape_t<R>& shape, std::uint64_t seed, bool grad) {
    Tensor<float, R> t(shape);
    philox_generator gen(seed);
    fill_uniform(t, gen, -1.0f, 1.0f);
    return Variable<float, R>(std::move(t), grad);
}

template <std::size_t R>
Tensor<float, R> ones_like_shape(const shape_t<R>& shape) {
    return Tensor<float, R>(shape, 1.0f);
}

void report(benchmark::State& state, double flops) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- matmul (n x n) @ (n x n) ----------------------------------------------------------------
void matmul(benchmark::State& state, bool backward) {
    const index_t n = state.range(0);
    auto a = random_variable<2>({n, n}, 1, backward);
    auto b = random_variable<2>({n, n}, 2, backward);
    const Tensor<float, 2> g = ones_like_shape<2>({n, n});
    for (auto _ : state) {
        auto y = F::matmul(a, b);
        if (backward) {
            y.backward(g);
        }
        benchmark::DoNotOptimize(y.value().data());
    }
    report(state, (backward ? 3.0 : 1.0) * 2.0 * double(n) * double(n) * double(n));
}

// ---- conv2d: (8, C, 32, 32), 3x3, padding 1, C -> C ------------------------------------------
void conv2d(benchmark::State& state, bool backward) {
    const index_t c = state.range(0), batch = 8, hw = 32;
    auto x = random_variable<4>({batch, c, hw, hw}, 3, backward);
    auto w = random_variable<4>({c, c, 3, 3}, 4, backward);
    const Tensor<float, 4> g = ones_like_shape<4>({batch, c, hw, hw});
    for (auto _ : state) {
        auto y = F::conv2d(x, w, std::nullopt, {.padding = {1, 1}});
        if (backward) {
            y.backward(g);
        }
        benchmark::DoNotOptimize(y.value().data());
    }
    report(state, (backward ? 3.0 : 1.0) * 2.0 * double(batch * c * hw * hw) * double(c * 9));
}

// ---- conv3d: (2, C, 8, 32, 32), 3x3x3, padding 1, C -> C ---------------------------------------
void conv3d(benchmark::State& state, bool backward) {
    const index_t c = state.range(0), batch = 2, t = 8, hw = 32;
    auto x = random_variable<5>({batch, c, t, hw, hw}, 5, backward);
    auto w = random_variable<5>({c, c, 3, 3, 3}, 6, backward);
    const Tensor<float, 5> g = ones_like_shape<5>({batch, c, t, hw, hw});
    for (auto _ : state) {
        auto y = F::conv3d(x, w, std::nullopt, {.padding = {1, 1, 1}});
        if (backward) {
            y.backward(g);
        }
        benchmark::DoNotOptimize(y.value().data());
    }
    report(state, (backward ? 3.0 : 1.0) * 2.0 * double(batch * c * t * hw * hw) * double(c * 27));
}

BENCHMARK_CAPTURE(matmul, forward, false)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matmul, forward_backward, true)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv2d, forward, false)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv2d, forward_backward, true)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv3d, forward, false)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(conv3d, forward_backward, true)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond);

// ---- peak memory of a training step -------------------------------------------------------------

// A small video classifier: conv3d(1->16) relu pool conv3d(16->32) relu global-pool linear(32->4),
// input (4, 1, 8, 64, 64) — a batch of four 8-frame clips.
struct video_cnn {
    nn::Conv3d<float,
               nn::conv3d_config{
                   .in_channels = 1, .out_channels = 16, .kernel_size = {3, 3, 3}, .padding = {1, 1, 1}}>
        conv1;
    nn::Conv3d<float,
               nn::conv3d_config{
                   .in_channels = 16, .out_channels = 32, .kernel_size = {3, 3, 3}, .padding = {1, 1, 1}}>
        conv2;
    nn::Linear<float, nn::linear_config{.in_features = 32, .out_features = 4}> fc;

    explicit video_cnn(philox_generator& gen) : conv1(gen), conv2(gen), fc(gen) {}
    template <class V>
    void visit(V& v) {
        v.child("conv1", conv1);
        v.child("conv2", conv2);
        v.child("fc", fc);
    }
    Variable<float, 2> operator()(const Variable<float, 5>& x) const {
        const auto h = F::max_pool3d(F::relu(conv1(x)), {.kernel_size = {2, 2, 2}});
        const auto g = F::adaptive_avg_pool3d(F::relu(conv2(h)), {1, 1, 1});
        return fc(autograd::reshape(g, shape_t<2>{g.shape(0), 32}));
    }
};

long status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line)) {
        if (line.compare(0, n, field) == 0) {
            return std::stol(line.substr(n + 1));
        }
    }
    return -1;
}

int memory_report() {
    philox_generator gen(1);
    video_cnn model(gen);
    optim::sgd<float> opt(nn::named_parameters<float>(model), {.lr = 0.01, .momentum = 0.9});
    const shape_t<5> shape{4, 1, 8, 64, 64};
    Tensor<std::int64_t, 1> labels({4}, {0, 1, 2, 3});
    auto step = [&] {
        auto x = random_variable<5>(shape, 7, false);
        const auto loss = F::cross_entropy(model(x), labels);
        opt.zero_grad();
        loss.backward();
        opt.step();
    };
    step(); // warm up: optimiser state and allocator pools exist before the measured step
    const long before = status_kib("VmRSS:");
    std::ofstream("/proc/self/clear_refs") << "5"; // resets VmHWM to the current RSS (Linux >= 4.0)
    step();
    const long peak = status_kib("VmHWM:");
    // Activations a step must keep for backward, in float32: conv1 out, relu, pool, conv2 out, relu.
    const double input_mib = 4.0 * 8 * 64 * 64 * 4 / (1 << 20);
    const double act1_mib = 4.0 * 16 * 8 * 64 * 64 * 4 / (1 << 20);
    const double act2_mib = 4.0 * 32 * 4 * 32 * 32 * 4 / (1 << 20);
    std::printf("{\"workload\": \"video_cnn train step, input (4,1,8,64,64) f32\", \"rss_before_mib\": %.1f, "
                "\"peak_mib\": %.1f, \"step_peak_increase_mib\": %.1f, \"input_mib\": %.2f, "
                "\"conv1_activation_mib\": %.2f, \"conv2_activation_mib\": %.2f}\n",
                before / 1024.0, peak / 1024.0, (peak - before) / 1024.0, input_mib, act1_mib, act2_mib);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--memory") {
            return memory_report();
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
