#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/conv.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cstring>

using namespace cinediff;
using autograd::Variable;
namespace F = cinediff::nn::functional;
namespace K = cinediff::nn::kernels;
using cinediff::test::distinct;

namespace {

using json = nlohmann::json;

template <std::size_t N>
std::array<index_t, N> attr(const json& a, const char* key, index_t fallback) {
    std::array<index_t, N> r{};
    r.fill(fallback);
    if (a.contains(key)) {
        for (std::size_t d = 0; d < N; ++d) {
            r[d] = a[key][d].get<index_t>();
        }
    }
    return r;
}

// Largest |got - ref| over the golden comparisons, per element type (reported by the test).
template <class T>
double& max_error() {
    static double e = 0;
    return e;
}

template <class T, std::size_t R>
void compare(const Tensor<T, R>& got, const Tensor<T, R>& ref, const std::string& what) {
    cinediff::test::check_close(got, ref, what);
    max_error<T>() = std::max(max_error<T>(), cinediff::test::max_abs_diff(got, ref));
}

template <std::size_t N, class T>
Variable<T, N + 2> call_conv(const Variable<T, N + 2>& x, const Variable<T, N + 2>& w,
                             const std::optional<Variable<T, 1>>& b, const K::conv_options<N>& o) {
    if constexpr (N == 1) {
        return F::conv1d(x, w, b, o);
    } else if constexpr (N == 2) {
        return F::conv2d(x, w, b, o);
    } else {
        return F::conv3d(x, w, b, o);
    }
}

template <std::size_t N, class T>
Variable<T, N + 2> call_conv_transpose(const Variable<T, N + 2>& x, const Variable<T, N + 2>& w,
                                       const std::optional<Variable<T, 1>>& b,
                                       const K::conv_transpose_options<N>& o) {
    if constexpr (N == 1) {
        return F::conv_transpose1d(x, w, b, o);
    } else if constexpr (N == 2) {
        return F::conv_transpose2d(x, w, b, o);
    } else {
        return F::conv_transpose3d(x, w, b, o);
    }
}

// Runs one golden case through the differentiable functional API: forward, then backward with
// the stored grad_output, and compares every tensor.
template <class T, std::size_t N, bool Transposed>
void run_golden_case(const cinediff::test::golden_file& f, const std::string& name, const json& a) {
    Variable<T, N + 2> x(f.get<T, N + 2>(name + ".input"), true);
    Variable<T, N + 2> w(f.get<T, N + 2>(name + ".weight"), true);
    std::optional<Variable<T, 1>> b;
    if (a["bias"].get<bool>()) {
        b.emplace(f.get<T, 1>(name + ".bias"), true);
    }
    Variable<T, N + 2> y;
    if constexpr (Transposed) {
        K::conv_transpose_options<N> o;
        o.stride = attr<N>(a, "stride", 1);
        o.padding = attr<N>(a, "padding", 0);
        o.output_padding = attr<N>(a, "output_padding", 0);
        o.dilation = attr<N>(a, "dilation", 1);
        o.groups = a.value("groups", index_t(1));
        y = call_conv_transpose<N>(x, w, b, o);
    } else {
        K::conv_options<N> o;
        o.stride = attr<N>(a, "stride", 1);
        o.padding = attr<N>(a, "padding", 0);
        o.dilation = attr<N>(a, "dilation", 1);
        o.groups = a.value("groups", index_t(1));
        o.causal = a.value("causal", false);
        if (o.causal) {
            o.padding[0] = 0;
        }
        if (a.contains("asymmetric_padding")) {
            std::array<std::pair<index_t, index_t>, N> pads{};
            for (std::size_t d = 0; d < N; ++d) {
                pads[d] = {a["asymmetric_padding"][d][0].get<index_t>(),
                           a["asymmetric_padding"][d][1].get<index_t>()};
            }
            o.asymmetric_padding = pads;
        }
        y = call_conv<N>(x, w, b, o);
    }
    compare(y.value(), f.get<T, N + 2>(name + ".output"), name + ".output");
    y.backward(f.get<T, N + 2>(name + ".grad_output"));
    compare(x.grad(), f.get<T, N + 2>(name + ".grad_input"), name + ".grad_input");
    compare(w.grad(), f.get<T, N + 2>(name + ".grad_weight"), name + ".grad_weight");
    if (b) {
        compare(b->grad(), f.get<T, 1>(name + ".grad_bias"), name + ".grad_bias");
    }
}

template <std::size_t N, bool Transposed>
void dispatch_dtype(const cinediff::test::golden_file& f, const std::string& name, const json& a) {
    if (a["dtype"] == "f32") {
        run_golden_case<float, N, Transposed>(f, name, a);
    } else {
        run_golden_case<double, N, Transposed>(f, name, a);
    }
}

template <class T, std::size_t R>
bool bit_identical(const Tensor<T, R>& a, const Tensor<T, R>& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}

void set_threads([[maybe_unused]] int n) {
#if defined(_OPENMP)
    omp_set_num_threads(n);
#endif
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_conv)

BOOST_AUTO_TEST_CASE(golden_against_torch) {
    const cinediff::test::golden_file f("nn/conv.safetensors");
    const auto cases = f.cases();
    BOOST_TEST(cases.size() >= 20u);
    for (const auto& name : cases) {
        const json a = json::parse(f.metadata(name));
        const std::string op = a["op"];
        BOOST_TEST_CONTEXT(name << " " << a.dump()) {
            if (op == "conv1d") {
                dispatch_dtype<1, false>(f, name, a);
            } else if (op == "conv2d") {
                dispatch_dtype<2, false>(f, name, a);
            } else if (op == "conv3d") {
                dispatch_dtype<3, false>(f, name, a);
            } else if (op == "conv_transpose1d") {
                dispatch_dtype<1, true>(f, name, a);
            } else if (op == "conv_transpose2d") {
                dispatch_dtype<2, true>(f, name, a);
            } else if (op == "conv_transpose3d") {
                dispatch_dtype<3, true>(f, name, a);
            } else {
                BOOST_ERROR("unknown op " << op);
            }
        }
    }
    BOOST_TEST_MESSAGE("conv golden: max |error| float32 " << max_error<float>() << ", float64 "
                                                           << max_error<double>());
}

BOOST_AUTO_TEST_CASE(gradcheck_every_convolution) {
    using V3 = Variable<double, 3>;
    using V4 = Variable<double, 4>;
    using V5 = Variable<double, 5>;
    using V1 = Variable<double, 1>;
    auto check = [](const char* name, const autograd::gradcheck_result& r) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    {
        const F::conv1d_options o{.stride = {2}, .padding = {1}, .dilation = {2}, .groups = 2};
        check("conv1d", autograd::gradcheck(
                            [&](const V3& x, const V3& w, const V1& b) { return F::conv1d(x, w, b, o); },
                            std::make_tuple(V3(distinct<double, 3>({2, 4, 7}), true),
                                            V3(distinct<double, 3>({4, 2, 3}, 1.0), true),
                                            V1(distinct<double, 1>({4}, 2.0), true))));
    }
    {
        F::conv2d_options o{.stride = {1, 2}, .groups = 2};
        o.asymmetric_padding = std::array<std::pair<index_t, index_t>, 2>{{{1, 0}, {0, 2}}};
        check("conv2d", autograd::gradcheck(
                            [&](const V4& x, const V4& w, const V1& b) { return F::conv2d(x, w, b, o); },
                            std::make_tuple(V4(distinct<double, 4>({1, 4, 4, 5}), true),
                                            V4(distinct<double, 4>({2, 2, 2, 3}, 1.0), true),
                                            V1(distinct<double, 1>({2}, 2.0), true))));
    }
    {
        const F::conv3d_options o{.padding = {0, 1, 0}, .dilation = {2, 1, 1}, .causal = true};
        check(
            "conv3d_causal",
            autograd::gradcheck([&](const V5& x, const V5& w, const V1& b) { return F::conv3d(x, w, b, o); },
                                std::make_tuple(V5(distinct<double, 5>({1, 2, 3, 3, 2}), true),
                                                V5(distinct<double, 5>({2, 2, 2, 2, 2}, 1.0), true),
                                                V1(distinct<double, 1>({2}, 2.0), true))));
    }
    {
        const F::conv_transpose1d_options o{
            .stride = {2}, .padding = {1}, .output_padding = {1}, .groups = 2};
        check("conv_transpose1d",
              autograd::gradcheck(
                  [&](const V3& x, const V3& w, const V1& b) { return F::conv_transpose1d(x, w, b, o); },
                  std::make_tuple(V3(distinct<double, 3>({2, 4, 4}), true),
                                  V3(distinct<double, 3>({4, 1, 3}, 1.0), true),
                                  V1(distinct<double, 1>({2}, 2.0), true))));
    }
    {
        const F::conv_transpose2d_options o{.stride = {2, 1}, .padding = {0, 1}, .dilation = {1, 2}};
        check("conv_transpose2d",
              autograd::gradcheck(
                  [&](const V4& x, const V4& w, const V1& b) { return F::conv_transpose2d(x, w, b, o); },
                  std::make_tuple(V4(distinct<double, 4>({1, 2, 3, 3}), true),
                                  V4(distinct<double, 4>({2, 2, 2, 2}, 1.0), true),
                                  V1(distinct<double, 1>({2}, 2.0), true))));
    }
    {
        const F::conv_transpose3d_options o{
            .stride = {1, 2, 2}, .padding = {0, 1, 0}, .output_padding = {0, 1, 1}};
        check("conv_transpose3d",
              autograd::gradcheck(
                  [&](const V5& x, const V5& w, const V1& b) { return F::conv_transpose3d(x, w, b, o); },
                  std::make_tuple(V5(distinct<double, 5>({1, 2, 2, 2, 2}), true),
                                  V5(distinct<double, 5>({2, 1, 2, 3, 2}, 1.0), true),
                                  V1(distinct<double, 1>({1}, 2.0), true))));
    }
}

BOOST_AUTO_TEST_CASE(gradients_flow_only_into_inputs_that_require_them) {
    Variable<float, 4> x(distinct<float, 4>({1, 2, 4, 4}), true);
    Variable<float, 4> w(distinct<float, 4>({3, 2, 3, 3}, 1.0), false);
    Variable<float, 1> b(distinct<float, 1>({3}, 2.0), true);
    auto y = F::conv2d(x, w, b, {.padding = {1, 1}});
    y.backward(Tensor<float, 4>(y.shape(), 1.0f));
    BOOST_TEST(x.has_grad());
    BOOST_TEST(!w.has_grad());
    BOOST_TEST(b.has_grad());
    BOOST_TEST(b.grad()(0) == 16.0f); // 1 x 4 x 4 output positions, gy = 1
    {
        autograd::no_grad guard;
        auto z = F::conv2d(x, w);
        BOOST_TEST(!z.requires_grad());
    }
    auto z = F::conv2d(x.detach(), w);
    BOOST_TEST(!z.requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_shapes_and_attributes_name_the_op_and_values) {
    auto message_of = [](auto&& fn) {
        try {
            fn();
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("(no exception)");
    };
    auto contains = [](const std::string& text, const std::string& part) {
        BOOST_TEST_CONTEXT(text) {
            BOOST_TEST(text.find(part) != std::string::npos, "expected '" << part << "' in: " << text);
        }
    };
    Variable<float, 4> x4(Tensor<float, 4>({2, 4, 5, 5}));
    Variable<float, 4> w833(Tensor<float, 4>({8, 3, 3, 3}));
    contains(message_of([&] { F::conv2d(x4, w833); }),
             "conv2d: weight of shape (8, 3, 3, 3) expects 3 input channels per group, input has 4");
    BOOST_CHECK_THROW(F::conv2d(x4, w833), shape_error);
    contains(
        message_of([&] {
            F::conv2d(x4, Variable<float, 4>(Tensor<float, 4>({4, 2, 3, 3})), std::nullopt, {.groups = 3});
        }),
        "conv2d: weight of shape (4, 2, 3, 3) has 4 output channels, not divisible by groups=3");
    contains(message_of([&] {
                 F::conv2d(x4, Variable<float, 4>(Tensor<float, 4>({6, 4, 3, 3})),
                           Variable<float, 1>(Tensor<float, 1>({5})));
             }),
             "conv2d: bias of shape (5)");
    contains(message_of([&] {
                 F::conv2d(x4, Variable<float, 4>(Tensor<float, 4>({6, 4, 7, 3})));
             }),
             "is smaller than the dilated kernel (7, 3)");
    contains(message_of([&] {
                 F::conv2d(x4, Variable<float, 4>(Tensor<float, 4>({6, 4, 3, 3})), std::nullopt,
                           {.stride = {0, 1}});
             }),
             "conv2d: stride (0, 1) must be positive");
    contains(message_of([&] {
                 F::conv3d(Variable<float, 5>(Tensor<float, 5>({1, 2, 4, 4, 4})),
                           Variable<float, 5>(Tensor<float, 5>({2, 2, 3, 3, 3})), std::nullopt,
                           {.padding = {1, 1, 1}, .causal = true});
             }),
             "conv3d: causal padding");
    contains(message_of([&] {
                 F::conv_transpose2d(x4, Variable<float, 4>(Tensor<float, 4>({4, 2, 3, 3})), std::nullopt,
                                     {.stride = {2, 2}, .output_padding = {2, 0}});
             }),
             "conv_transpose2d: output_padding (2, 0) must be smaller than either stride (2, 2) or dilation "
             "(1, 1)");
    contains(message_of([&] {
                 F::conv_transpose2d(x4, Variable<float, 4>(Tensor<float, 4>({3, 2, 3, 3})));
             }),
             "conv_transpose2d: weight of shape (3, 2, 3, 3) expects 3 input channels, input has 4");
    contains(
        message_of([&] {
            K::conv_backward<2>(x4.value(), Tensor<float, 4>({2, 4, 3, 3}), Tensor<float, 4>({2, 2, 2, 2}));
        }),
        "conv2d: grad_output of shape (2, 2, 2, 2) for an output of shape (2, 2, 3, 3)");
}

BOOST_AUTO_TEST_CASE(causal_padding_sees_only_the_past) {
    // Changing the last frame must not change any earlier output frame.
    Tensor<double, 5> x = distinct<double, 5>({1, 2, 5, 3, 3});
    const Tensor<double, 5> w = distinct<double, 5>({2, 2, 3, 3, 3}, 1.0);
    const K::conv_options<3> o{.padding = {0, 1, 1}, .causal = true};
    const auto y0 = K::conv_forward<3>(x, w, nullptr, o);
    BOOST_TEST(y0.shape() == (shape_t<5>{1, 2, 5, 3, 3}));
    for (index_t c = 0; c < 2; ++c) {
        for (index_t i = 0; i < 9; ++i) {
            x.data()[(c * 5 + 4) * 9 + i] += 1.0;
        }
    }
    const auto y1 = K::conv_forward<3>(x, w, nullptr, o);
    for (index_t c = 0; c < 2; ++c) {
        for (index_t t = 0; t < 5; ++t) {
            const double d =
                cinediff::test::max_abs_diff(Tensor<double, 2>(y0.select(0, 0).select(0, c).select(0, t)),
                                             Tensor<double, 2>(y1.select(0, 0).select(0, c).select(0, t)));
            BOOST_TEST((t < 4 ? d == 0.0 : d > 0.0));
        }
    }
}

BOOST_AUTO_TEST_CASE(results_are_bit_identical_for_one_and_two_threads) {
    // Sizes chosen so that GEMM inner dimensions (576 for the forward, 400-576 for grad_weight)
    // exceed Eigen's cache block along k, where Eigen alone would differ between thread counts.
    const Tensor<float, 4> x = distinct<float, 4>({1, 64, 24, 24});
    const Tensor<float, 4> w = distinct<float, 4>({32, 64, 3, 3}, 1.0, 0.1);
    const Tensor<float, 1> b = distinct<float, 1>({32}, 2.0);
    const Tensor<double, 5> x3 = distinct<double, 5>({2, 8, 6, 10, 10});
    const Tensor<double, 5> w3 = distinct<double, 5>({16, 4, 3, 3, 3}, 1.0, 0.1);
    const K::conv_options<2> o2{.padding = {1, 1}};
    const K::conv_options<3> o3{.stride = {1, 2, 2}, .padding = {0, 1, 1}, .groups = 2, .causal = true};
    const K::conv_transpose_options<2> ot{.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}};
    auto run = [&] {
        const auto y = K::conv_forward<2>(x, w, &b, o2);
        const auto g = K::conv_backward<2>(x, w, y, o2);
        const auto y3 = K::conv_forward<3>(x3, w3, nullptr, o3);
        const auto g3 = K::conv_backward<3>(x3, w3, y3, o3);
        const auto wt = Tensor<float, 4>(w.view().transpose(0, 1)); // (64, 32, 3, 3): 64 -> 32 channels
        const auto yt = K::conv_transpose_forward<2>(x, wt, nullptr, ot);
        const auto gt = K::conv_transpose_backward<2>(x, wt, yt, ot);
        return std::make_tuple(y, *g.input, *g.weight, *g.bias, y3, *g3.input, *g3.weight, yt, *gt.input,
                               *gt.weight);
    };
    set_threads(1);
    const auto one = run();
    set_threads(2);
    const auto two = run();
    BOOST_TEST(bit_identical(std::get<0>(one), std::get<0>(two)));
    BOOST_TEST(bit_identical(std::get<1>(one), std::get<1>(two)));
    BOOST_TEST(bit_identical(std::get<2>(one), std::get<2>(two)));
    BOOST_TEST(bit_identical(std::get<3>(one), std::get<3>(two)));
    BOOST_TEST(bit_identical(std::get<4>(one), std::get<4>(two)));
    BOOST_TEST(bit_identical(std::get<5>(one), std::get<5>(two)));
    BOOST_TEST(bit_identical(std::get<6>(one), std::get<6>(two)));
    BOOST_TEST(bit_identical(std::get<7>(one), std::get<7>(two)));
    BOOST_TEST(bit_identical(std::get<8>(one), std::get<8>(two)));
    BOOST_TEST(bit_identical(std::get<9>(one), std::get<9>(two)));
}

BOOST_AUTO_TEST_SUITE_END()
