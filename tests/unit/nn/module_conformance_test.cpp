// Conformance of every module class of nn/modules to the module protocol and to PyTorch's
// conventions: output shapes, determinism (repeated calls, 1 vs 2 OpenMP threads), float64
// gradcheck with respect to the input and every parameter, state_dict keys/shapes/dtypes, a
// save -> load round trip, and no graph under no_grad. One small configuration per class, float64.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/modules.hpp>
#include <cinediff/nn/state_dict.hpp>

#include "test_util.hpp"

using namespace cinediff;
using autograd::Variable;

namespace {

// ---- The modules under test ----------------------------------------------------------------------

using linear_t = nn::Linear<double, nn::linear_config{.in_features = 3, .out_features = 2}>;
using linear_nobias_t =
    nn::Linear<double, nn::linear_config{.in_features = 4, .out_features = 3, .bias = false}>;
using conv1d_t = nn::Conv1d<
    double,
    nn::conv1d_config{
        .in_channels = 2, .out_channels = 4, .kernel_size = {3}, .stride = {2}, .padding = {1}, .groups = 2}>;
using conv2d_t = nn::Conv2d<
    double,
    nn::conv2d_config{
        .in_channels = 2, .out_channels = 3, .kernel_size = {2, 3}, .padding = {1, 0}, .dilation = {1, 2}}>;
using conv3d_t = nn::Conv3d<double, nn::conv3d_config{.in_channels = 2,
                                                      .out_channels = 2,
                                                      .kernel_size = {2, 3, 3},
                                                      .padding = {0, 1, 1},
                                                      .bias = false,
                                                      .causal = true}>;
using conv_t1d_t = nn::ConvTranspose1d<
    double,
    nn::conv_transpose1d_config{
        .in_channels = 2, .out_channels = 3, .kernel_size = {3}, .stride = {2}, .output_padding = {1}}>;
using conv_t2d_t = nn::ConvTranspose2d<double, nn::conv_transpose2d_config{.in_channels = 2,
                                                                           .out_channels = 4,
                                                                           .kernel_size = {3, 3},
                                                                           .stride = {2, 2},
                                                                           .padding = {1, 1},
                                                                           .output_padding = {1, 1},
                                                                           .groups = 2}>;
using conv_t3d_t = nn::ConvTranspose3d<
    double, nn::conv_transpose3d_config{
                .in_channels = 2, .out_channels = 2, .kernel_size = {2, 2, 2}, .stride = {2, 1, 1}}>;
using group_norm_t = nn::GroupNorm<double, nn::group_norm_config{.num_groups = 2, .num_channels = 4}>;
using layer_norm_t = nn::LayerNorm<double, nn::layer_norm_config<2>{.normalized_shape = {3, 4}, .eps = 1e-6}>;
using batch_norm1d_t = nn::BatchNorm1d<double, nn::batch_norm_config{.num_features = 3}>;
using batch_norm2d_t = nn::BatchNorm2d<double, nn::batch_norm_config{.num_features = 3, .momentum = 0.2}>;
using batch_norm3d_t = nn::BatchNorm3d<double, nn::batch_norm_config{.num_features = 2, .affine = false}>;
using embedding_t =
    nn::Embedding<double, nn::embedding_config{.num_embeddings = 6, .embedding_dim = 3, .padding_idx = -1}>;
using dropout_t = nn::Dropout<double, nn::dropout_config{.p = 0.3}>;
using relu_t = nn::ReLU<double>;
using silu_t = nn::SiLU<double>;
using gelu_t = nn::GELU<double, nn::gelu_config{.approximate = nn::gelu_approximate::tanh}>;
using identity_t = nn::Identity<double>;

static_assert(nn::module<linear_t>);
static_assert(nn::module<linear_nobias_t>);
static_assert(nn::module<conv1d_t>);
static_assert(nn::module<conv2d_t>);
static_assert(nn::module<conv3d_t>);
static_assert(nn::module<conv_t1d_t>);
static_assert(nn::module<conv_t2d_t>);
static_assert(nn::module<conv_t3d_t>);
static_assert(nn::module<group_norm_t>);
static_assert(nn::module<layer_norm_t>);
static_assert(nn::module<batch_norm1d_t>);
static_assert(nn::module<batch_norm2d_t>);
static_assert(nn::module<batch_norm3d_t>);
static_assert(nn::module<embedding_t>);
static_assert(nn::module<dropout_t>);
static_assert(nn::module<relu_t>);
static_assert(nn::module<silu_t>);
static_assert(nn::module<gelu_t>);
static_assert(nn::module<identity_t>);

using all_modules =
    boost::mpl::list<linear_t, linear_nobias_t, conv1d_t, conv2d_t, conv3d_t, conv_t1d_t, conv_t2d_t,
                     conv_t3d_t, group_norm_t, layer_norm_t, batch_norm1d_t, batch_norm2d_t, batch_norm3d_t,
                     embedding_t, dropout_t, relu_t, silu_t, gelu_t, identity_t>;

// ---- Per-type table: input, output shape, state_dict entries, the parameters as Variables --------

// One expected state_dict entry.
struct entry {
    entry(std::string n, std::vector<index_t> s, dtype t = dtype::f64, bool p = true)
        : name(std::move(n)), shape(std::move(s)), type(t), parameter(p) {}
    std::string name;
    std::vector<index_t> shape;
    dtype type;
    bool parameter; // false: a buffer
};

template <std::size_t R>
Variable<double, R> input_of(const shape_t<R>& shape) {
    return Variable<double, R>(test::distinct<double, R>(shape, 0.5, 1.3), true);
}

template <class M>
struct spec;

template <>
struct spec<linear_t> {
    static auto input() { return input_of<3>({2, 2, 3}); }
    static shape_t<3> output_shape() { return {2, 2, 2}; }
    static std::vector<entry> entries() { return {{"weight", {2, 3}}, {"bias", {2}}}; }
    static auto parameters(linear_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<linear_nobias_t> {
    static auto input() { return input_of<2>({3, 4}); }
    static shape_t<2> output_shape() { return {3, 3}; }
    static std::vector<entry> entries() { return {{"weight", {3, 4}}}; }
    static auto parameters(linear_nobias_t& m) { return std::make_tuple(m.weight); }
};
template <>
struct spec<conv1d_t> {
    static auto input() { return input_of<3>({2, 2, 7}); }
    static shape_t<3> output_shape() { return {2, 4, 4}; } // (7 + 2 - 3) / 2 + 1
    static std::vector<entry> entries() { return {{"weight", {4, 1, 3}}, {"bias", {4}}}; }
    static auto parameters(conv1d_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<conv2d_t> {
    static auto input() { return input_of<4>({1, 2, 4, 6}); }
    static shape_t<4> output_shape() { return {1, 3, 5, 2}; } // H: 4 + 2 - 1; W: 6 - 2 * 2
    static std::vector<entry> entries() { return {{"weight", {3, 2, 2, 3}}, {"bias", {3}}}; }
    static auto parameters(conv2d_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<conv3d_t> {
    static auto input() { return input_of<5>({1, 2, 3, 3, 3}); }
    static shape_t<5> output_shape() { return {1, 2, 3, 3, 3}; } // causal in time, same in space
    static std::vector<entry> entries() { return {{"weight", {2, 2, 2, 3, 3}}}; }
    static auto parameters(conv3d_t& m) { return std::make_tuple(m.weight); }
};
template <>
struct spec<conv_t1d_t> {
    static auto input() { return input_of<3>({2, 2, 4}); }
    static shape_t<3> output_shape() { return {2, 3, 10}; } // (4 - 1) * 2 + 3 + 1
    static std::vector<entry> entries() { return {{"weight", {2, 3, 3}}, {"bias", {3}}}; }
    static auto parameters(conv_t1d_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<conv_t2d_t> {
    static auto input() { return input_of<4>({1, 2, 3, 2}); }
    static shape_t<4> output_shape() { return {1, 4, 6, 4}; } // (n - 1) * 2 - 2 + 3 + 1
    static std::vector<entry> entries() { return {{"weight", {2, 2, 3, 3}}, {"bias", {4}}}; }
    static auto parameters(conv_t2d_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<conv_t3d_t> {
    static auto input() { return input_of<5>({1, 2, 2, 2, 2}); }
    static shape_t<5> output_shape() { return {1, 2, 4, 3, 3}; }
    static std::vector<entry> entries() { return {{"weight", {2, 2, 2, 2, 2}}, {"bias", {2}}}; }
    static auto parameters(conv_t3d_t& m) { return std::make_tuple(m.weight, *m.bias); }
};
template <>
struct spec<group_norm_t> {
    static auto input() { return input_of<4>({2, 4, 2, 3}); }
    static shape_t<4> output_shape() { return {2, 4, 2, 3}; }
    static std::vector<entry> entries() { return {{"weight", {4}}, {"bias", {4}}}; }
    static auto parameters(group_norm_t& m) { return std::make_tuple(*m.weight, *m.bias); }
};
template <>
struct spec<layer_norm_t> {
    static auto input() { return input_of<3>({2, 3, 4}); }
    static shape_t<3> output_shape() { return {2, 3, 4}; }
    static std::vector<entry> entries() { return {{"weight", {3, 4}}, {"bias", {3, 4}}}; }
    static auto parameters(layer_norm_t& m) { return std::make_tuple(*m.weight, *m.bias); }
};

std::vector<entry> batch_norm_entries(index_t c, bool affine) {
    std::vector<entry> out;
    if (affine) {
        out.emplace_back("weight", std::vector<index_t>{c});
        out.emplace_back("bias", std::vector<index_t>{c});
    }
    out.emplace_back("running_mean", std::vector<index_t>{c}, dtype::f64, false);
    out.emplace_back("running_var", std::vector<index_t>{c}, dtype::f64, false);
    out.emplace_back("num_batches_tracked", std::vector<index_t>{}, dtype::i64, false);
    return out;
}

template <>
struct spec<batch_norm1d_t> {
    static auto input() { return input_of<3>({4, 3, 2}); }
    static shape_t<3> output_shape() { return {4, 3, 2}; }
    static std::vector<entry> entries() { return batch_norm_entries(3, true); }
    static auto parameters(batch_norm1d_t& m) { return std::make_tuple(*m.weight, *m.bias); }
};
template <>
struct spec<batch_norm2d_t> {
    static auto input() { return input_of<4>({2, 3, 2, 2}); }
    static shape_t<4> output_shape() { return {2, 3, 2, 2}; }
    static std::vector<entry> entries() { return batch_norm_entries(3, true); }
    static auto parameters(batch_norm2d_t& m) { return std::make_tuple(*m.weight, *m.bias); }
};
template <>
struct spec<batch_norm3d_t> {
    static auto input() { return input_of<5>({2, 2, 2, 1, 2}); }
    static shape_t<5> output_shape() { return {2, 2, 2, 1, 2}; }
    static std::vector<entry> entries() { return batch_norm_entries(2, false); }
    static auto parameters(batch_norm3d_t&) { return std::tuple<>(); }
};
template <>
struct spec<embedding_t> {
    // Row 5 (padding_idx -1) gets no gradient by design, as in torch: gradcheck would flag it.
    static Tensor<std::int64_t, 2> input() { return Tensor<std::int64_t, 2>({2, 3}, {0, 4, 2, 2, 3, 1}); }
    static shape_t<3> output_shape() { return {2, 3, 3}; }
    static std::vector<entry> entries() { return {{"weight", {6, 3}}}; }
    static auto parameters(embedding_t& m) { return std::make_tuple(m.weight); }
};

template <class M>
struct elementwise_spec {
    static auto input() { return input_of<2>({2, 5}); }
    static shape_t<2> output_shape() { return {2, 5}; }
    static std::vector<entry> entries() { return {}; }
    static auto parameters(M&) { return std::tuple<>(); }
};
template <>
struct spec<dropout_t> : elementwise_spec<dropout_t> {};
template <>
struct spec<relu_t> : elementwise_spec<relu_t> {};
template <>
struct spec<silu_t> : elementwise_spec<silu_t> {};
template <>
struct spec<gelu_t> : elementwise_spec<gelu_t> {};
template <>
struct spec<identity_t> : elementwise_spec<identity_t> {};

// ---- Generic helpers -------------------------------------------------------------------------------

template <class X>
constexpr bool is_variable = false;
template <class T, std::size_t R>
constexpr bool is_variable<Variable<T, R>> = true;

template <class M>
M make_module(std::uint64_t seed = 42) {
    philox_generator gen(seed);
    return M(gen);
}

// Whether the module has a train/eval switch anywhere.
template <class M>
bool has_training_flag(M& m) {
    bool found = false;
    auto on_flag = [&](bool&) { found = true; };
    nn::detail::callbacks<nn::detail::ignore, nn::detail::ignore, decltype(on_flag)> c{{}, {}, on_flag};
    nn::walk(m, c);
    return found;
}

// Non-trivial values in every parameter and buffer (positive buffers: running_var must be).
template <class M>
void randomize(M& m, std::uint64_t seed) {
    philox_generator gen(seed);
    nn::for_each_parameter(
        m, [&](const std::string&, auto& p) { nn::init::uniform_(p.mutable_value(), -1, 1, gen); });
    nn::for_each_buffer(m, [&]<class U, std::size_t R>(const std::string&, Tensor<U, R>& b) {
        if constexpr (std::is_floating_point_v<U>) {
            nn::init::uniform_(b, 0.5, 1.5, gen);
        } else {
            b = U(7);
        }
    });
}

template <class T, std::size_t R>
Tensor<T, R> copy_of(const Variable<T, R>& v) {
    return Tensor<T, R>(v.value());
}

// Output, input gradient and parameter gradients of one forward + backward (flattened).
template <class M>
std::vector<double> forward_backward_values(M& m) {
    const auto x = spec<M>::input();
    const auto y = m(x);
    std::vector<double> out(y.value().data(), y.value().data() + y.size());
    y.backward(test::distinct<double, decltype(y)::rank>(y.shape(), 2.0));
    if constexpr (is_variable<std::remove_cvref_t<decltype(x)>>) {
        out.insert(out.end(), x.grad().data(), x.grad().data() + x.size());
    }
    for (auto& p : nn::named_parameters<double>(m)) {
        const auto g = p.variable->grad_span();
        out.insert(out.end(), g.begin(), g.end());
    }
    return out;
}

template <class M>
void check_gradients(M& m, const std::string& mode) {
    const auto x = spec<M>::input();
    const auto params = spec<M>::parameters(m);
    BOOST_REQUIRE_EQUAL(std::tuple_size_v<std::remove_cvref_t<decltype(params)>>,
                        nn::named_parameters<double>(m).size());
    // The module is copied at every evaluation, so that training-mode state (running statistics,
    // the dropout stream) is the same for each; copies share the parameters (Variables are handles).
    autograd::gradcheck_result r;
    if constexpr (is_variable<std::remove_cvref_t<decltype(x)>>) {
        r = autograd::gradcheck(
            [&m](const auto& input, const auto&...) {
                M copy = m;
                return copy(input);
            },
            std::tuple_cat(std::make_tuple(x), params));
    } else {
        if constexpr (std::tuple_size_v < std::remove_cvref_t < decltype(params) >>> 0) {
            r = autograd::gradcheck(
                [&m, &x](const auto&...) {
                    M copy = m;
                    return copy(x);
                },
                params);
        }
    }
    BOOST_TEST(r.ok, mode << ": " << r.message);
}

// A per-test, per-process file name (ctest may run test executables in parallel).
std::filesystem::path temp_file() {
    const std::string name = boost::unit_test::framework::current_test_case().p_name;
    return std::filesystem::temp_directory_path() /
           ("cinediff_conformance_" + std::to_string(::getpid()) + "_" +
            std::to_string(std::hash<std::string>{}(name)) + ".safetensors");
}

} // namespace

BOOST_AUTO_TEST_SUITE(module_conformance)

BOOST_AUTO_TEST_CASE_TEMPLATE(output_shape, M, all_modules) {
    auto m = make_module<M>();
    const auto y = m(spec<M>::input());
    BOOST_TEST(y.shape() == spec<M>::output_shape(), shape_to_string(y.shape()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deterministic_calls_and_thread_counts, M, all_modules) {
    const auto x = spec<M>::input();
    auto m = make_module<M>();
    M twin = m; // same parameters; for Dropout the same stream position
    const auto first = copy_of(m(x));
    const auto second = copy_of(m(x));
    BOOST_TEST(test::max_abs_diff(first, copy_of(twin(x))) == 0.0);
    if constexpr (requires { m.generator; }) {
        BOOST_TEST(test::max_abs_diff(first, second) > 0.0); // a training-mode dropout draws fresh masks
    } else {
        BOOST_TEST(test::max_abs_diff(first, second) == 0.0);
    }
#if defined(_OPENMP)
    const int saved = omp_get_max_threads();
    auto with_threads = [](int threads) {
        omp_set_num_threads(threads);
        auto fresh = make_module<M>(7);
        randomize(fresh, 3);
        return forward_backward_values(fresh);
    };
    const auto one = with_threads(1);
    const auto two = with_threads(2);
    omp_set_num_threads(saved);
    BOOST_TEST(one == two, "1 and 2 threads differ");
#endif
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradcheck_input_and_every_parameter, M, all_modules) {
    auto m = make_module<M>();
    randomize(m, 5);
    check_gradients(m, "train");
    if (has_training_flag(m)) {
        nn::eval(m);
        check_gradients(m, "eval");
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(state_dict_keys_shapes_and_dtypes, M, all_modules) {
    auto m = make_module<M>();
    const auto records = nn::state_dict(m);
    const auto expected = spec<M>::entries();
    BOOST_REQUIRE_EQUAL(records.size(), expected.size());
    std::vector<std::string> parameter_names;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST_CONTEXT("entry " << expected[i].name) {
            BOOST_TEST(records[i].name == expected[i].name);
            BOOST_TEST(records[i].shape == expected[i].shape, boost::test_tools::per_element());
            BOOST_TEST((records[i].type == expected[i].type));
        }
        if (expected[i].parameter) {
            parameter_names.push_back(expected[i].name);
        }
    }
    std::vector<std::string> names;
    for (const auto& p : nn::named_parameters<double>(m)) {
        names.push_back(p.name);
        BOOST_TEST(p.variable->requires_grad);
    }
    BOOST_TEST(names == parameter_names, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(state_dict_round_trip_gives_identical_outputs, M, all_modules) {
    auto a = make_module<M>();
    randomize(a, 9);
    const auto path = temp_file();
    nn::save_state_dict(a, path);
    M b; // zero-filled
    nn::load_state_dict(b, path);
    std::filesystem::remove(path);
    BOOST_TEST((nn::state_dict(a) == nn::state_dict(b)));
    if constexpr (requires { a.generator; }) {
        b.generator = a.generator; // the stream is not state_dict state (nor is torch's RNG)
    }
    const auto x = spec<M>::input();
    nn::eval(a);
    nn::eval(b);
    BOOST_TEST(test::max_abs_diff(copy_of(a(x)), copy_of(b(x))) == 0.0);
    nn::train(a);
    nn::train(b);
    BOOST_TEST(test::max_abs_diff(copy_of(a(x)), copy_of(b(x))) == 0.0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(no_grad_forward_records_nothing, M, all_modules) {
    auto m = make_module<M>();
    const auto x = spec<M>::input();
    autograd::no_grad guard;
    const auto y = m(x);
    BOOST_TEST(std::string(y.grad_fn_name()).empty());
    if constexpr (is_variable<std::remove_cvref_t<decltype(x)>>) {
        // Only Identity (and an evaluation-mode Dropout) hand back the input itself.
        BOOST_TEST((!y.requires_grad() || y.data() == x.data()));
    } else {
        BOOST_TEST(!y.requires_grad());
    }
}

// ---- Behaviour beyond the protocol -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(default_initialisation_follows_torch) {
    philox_generator gen(1);
    nn::Linear<double, nn::linear_config{.in_features = 16, .out_features = 64}> fc(gen);
    // kaiming_uniform_(a = sqrt 5) and the bias both have bound 1 / sqrt(fan_in).
    BOOST_TEST(max(abs(fc.weight.value()), {0, 1})() <= 0.25);
    BOOST_TEST(max(abs(fc.weight.value()), {0, 1})() > 0.2);
    BOOST_TEST(max(abs(fc.bias->value()), {0})() <= 0.25);
    conv_t2d_t up(gen); // fan_in of a transposed weight (C_in, C_out / groups, k...) = 2 * 9
    BOOST_TEST(max(abs(up.weight.value()), {0, 1, 2, 3})() <= 1.0 / std::sqrt(18.0));
    group_norm_t gn(gen);
    BOOST_TEST(min(gn.weight->value(), {0})() == 1.0);
    BOOST_TEST(max(abs(gn.bias->value()), {0})() == 0.0);
    embedding_t e(gen);
    for (index_t j = 0; j < 3; ++j) {
        BOOST_TEST(e.weight.value()(5, j) == 0.0); // padding_idx -1 is row 5
        BOOST_TEST(e.weight.value()(4, j) != 0.0);
    }
    batch_norm2d_t bn(gen);
    BOOST_TEST(max(abs(bn.running_mean), {0})() == 0.0);
    BOOST_TEST(min(bn.running_var, {0})() == 1.0);
    BOOST_TEST(bn.num_batches_tracked.data()[0] == 0);
}

BOOST_AUTO_TEST_CASE(batch_norm_running_statistics_and_modes) {
    batch_norm2d_t bn; // momentum 0.2
    const auto x = spec<batch_norm2d_t>::input();
    const auto y = bn(x);
    BOOST_TEST(bn.num_batches_tracked.data()[0] == 1);
    // Channel 1: mean and unbiased variance of its 8 values.
    double mean = 0, sq = 0;
    for (index_t n = 0; n < 2; ++n) {
        for (index_t i = 0; i < 4; ++i) {
            mean += x.value()(n, 1, i / 2, i % 2);
        }
    }
    mean /= 8;
    for (index_t n = 0; n < 2; ++n) {
        for (index_t i = 0; i < 4; ++i) {
            const double d = x.value()(n, 1, i / 2, i % 2) - mean;
            sq += d * d;
        }
    }
    BOOST_TEST(bn.running_mean(1) == 0.2 * mean, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(bn.running_var(1) == 0.8 + 0.2 * sq / 7, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(std::abs(y.value()(0, 1, 0, 0) - (x.value()(0, 1, 0, 0) - mean) / std::sqrt(sq / 8 + 1e-5)) <
               1e-12);
    nn::eval(bn);
    BOOST_TEST(!bn.training);
    const auto z = bn(x);
    BOOST_TEST(bn.num_batches_tracked.data()[0] == 1);
    const double expected =
        (x.value()(1, 1, 1, 0) - bn.running_mean(1)) / std::sqrt(bn.running_var(1) + 1e-5);
    BOOST_TEST(z.value()(1, 1, 1, 0) == expected, boost::test_tools::tolerance(1e-12));

    // Without running statistics: no buffers, batch statistics in both modes.
    nn::BatchNorm1d<double, nn::batch_norm_config{.num_features = 3, .track_running_stats = false}> plain;
    BOOST_TEST(nn::state_dict(plain).size() == 2u);
    const auto v = spec<batch_norm1d_t>::input();
    const Tensor<double, 3> train_out = plain(v).value();
    nn::eval(plain);
    BOOST_TEST(test::max_abs_diff(train_out, plain(v).value()) == 0.0);
}

BOOST_AUTO_TEST_CASE(dropout_modes) {
    dropout_t drop(philox_generator(3).stream("dropout"));
    const Variable<double, 2> x(Tensor<double, 2>({40, 50}, 1.0), true);
    const auto y = drop(x);
    index_t zeros = 0;
    for (index_t i = 0; i < y.size(); ++i) {
        const double v = y.value().data()[i];
        zeros += v == 0.0;
        BOOST_TEST((v == 0.0 || std::abs(v - 1.0 / 0.7) < 1e-15));
    }
    BOOST_TEST(std::abs(static_cast<double>(zeros) / 2000.0 - 0.3) < 0.05);
    nn::eval(drop);
    BOOST_TEST(drop(x).data() == x.data());
}

BOOST_AUTO_TEST_CASE(load_rejects_a_mismatched_state_dict) {
    conv2d_t conv;
    auto records = nn::state_dict(conv);
    records[0] = io::from_tensor("weight", Tensor<double, 4>({3, 2, 3, 3}));
    BOOST_CHECK_THROW(nn::load_state_dict(conv, records), std::runtime_error);
    batch_norm2d_t bn;
    auto bn_records = nn::state_dict(bn);
    bn_records.back() = io::from_tensor("num_batches_tracked", Tensor<double, 0>()); // torch stores int64
    BOOST_CHECK_THROW(nn::load_state_dict(bn, bn_records), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
