#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/pool.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
namespace F = cinediff::nn::functional;
using cinediff::autograd::Variable;

namespace {

using json = nlohmann::json;

template <std::size_t N>
shape_t<N> dims(const json& j) {
    shape_t<N> s{};
    for (std::size_t d = 0; d < N; ++d) {
        s[d] = j.at(d).get<index_t>();
    }
    return s;
}

// Largest |got - ref| over all compared tensors, per element type.
struct worst_error {
    double f32 = 0, f64 = 0;
    template <class T, std::size_t R>
    void update(const Tensor<T, R>& got, const Tensor<T, R>& ref) {
        double& w = std::is_same_v<T, float> ? f32 : f64;
        for (index_t i = 0; i < got.size(); ++i) {
            w = std::max(w,
                         std::abs(static_cast<double>(got.data()[i]) - static_cast<double>(ref.data()[i])));
        }
    }
};

template <class T, std::size_t R, class Fn>
void golden_case(const test::golden_file& g, const std::string& c, Fn&& fn, worst_error& err) {
    Variable<T, R> x(g.get<T, R>(c + ".input"), true);
    auto y = fn(x);
    const auto ref = g.get<T, R>(c + ".output");
    test::check_close(y.value(), ref, c + ".output");
    err.update(y.value(), ref);
    y.backward(g.get<T, R>(c + ".grad_output"));
    const auto ref_grad = g.get<T, R>(c + ".grad_input");
    test::check_close(x.grad(), ref_grad, c + ".grad_input");
    err.update(x.grad(), ref_grad);
}

template <std::size_t N, class T, std::size_t R>
void run_pool_case(const test::golden_file& g, const std::string& c, const json& m, worst_error& err) {
    const std::string op = m.at("op");
    if (op.rfind("avg_pool", 0) == 0) {
        nn::kernels::avg_pool_options<N> o;
        o.kernel_size = dims<N>(m.at("kernel_size"));
        o.stride = dims<N>(m.at("stride"));
        o.padding = dims<N>(m.at("padding"));
        o.ceil_mode = m.at("ceil_mode");
        o.count_include_pad = m.at("count_include_pad");
        if (!m.at("divisor_override").is_null()) {
            o.divisor_override = m.at("divisor_override").get<index_t>();
        }
        golden_case<T, R>(
            g, c,
            [&](const auto& x) {
                if constexpr (N == 1) {
                    return F::avg_pool1d(x, o);
                } else if constexpr (N == 2) {
                    return F::avg_pool2d(x, o);
                } else {
                    return F::avg_pool3d(x, o);
                }
            },
            err);
    } else if (op.rfind("max_pool", 0) == 0) {
        nn::kernels::max_pool_options<N> o;
        o.kernel_size = dims<N>(m.at("kernel_size"));
        o.stride = dims<N>(m.at("stride"));
        o.padding = dims<N>(m.at("padding"));
        o.dilation = dims<N>(m.at("dilation"));
        o.ceil_mode = m.at("ceil_mode");
        golden_case<T, R>(
            g, c,
            [&](const auto& x) {
                if constexpr (N == 1) {
                    return F::max_pool1d(x, o);
                } else if constexpr (N == 2) {
                    return F::max_pool2d(x, o);
                } else {
                    return F::max_pool3d(x, o);
                }
            },
            err);
    } else {
        const auto size = dims<N>(m.at("output_size"));
        golden_case<T, R>(
            g, c,
            [&](const auto& x) {
                if constexpr (N == 1) {
                    return F::adaptive_avg_pool1d(x, size);
                } else if constexpr (N == 2) {
                    return F::adaptive_avg_pool2d(x, size);
                } else {
                    return F::adaptive_avg_pool3d(x, size);
                }
            },
            err);
    }
}

template <std::size_t N, class T>
void run_pool_rank(const test::golden_file& g, const std::string& c, const json& m, worst_error& err) {
    const auto rank = m.at("rank").get<std::size_t>();
    if (rank == N + 1) {
        run_pool_case<N, T, N + 1>(g, c, m, err);
    } else {
        BOOST_REQUIRE(rank == N + 2);
        run_pool_case<N, T, N + 2>(g, c, m, err);
    }
}

template <class T>
void run_pool_dims(const test::golden_file& g, const std::string& c, const json& m, worst_error& err) {
    const std::string op = m.at("op");
    const char n = op[op.size() - 2];
    if (n == '1') {
        run_pool_rank<1, T>(g, c, m, err);
    } else if (n == '2') {
        run_pool_rank<2, T>(g, c, m, err);
    } else {
        run_pool_rank<3, T>(g, c, m, err);
    }
}

// Distinct values (at least 2e-4 apart) in a scrambled order: no ties within any window.
template <std::size_t R>
Tensor<double, R> untied(const shape_t<R>& shape) {
    Tensor<double, R> t(shape);
    for (index_t i = 0; i < t.size(); ++i) {
        t.data()[i] = static_cast<double>((i * 7919) % 10007) / 5000.0 - 1.0;
    }
    return t;
}

auto message_has(const std::string& text) {
    return [text](const std::exception& e) { return std::string(e.what()).find(text) != std::string::npos; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_pool)

BOOST_AUTO_TEST_CASE(golden_pooling_matches_torch) {
    const test::golden_file g("nn/resample.safetensors");
    worst_error err;
    int count = 0;
    for (const auto& c : g.cases()) {
        const json m = json::parse(g.metadata(c));
        const std::string op = m.at("op");
        if (op.find("pool") == std::string::npos) {
            continue;
        }
        BOOST_TEST_CONTEXT(c) {
            if (m.at("dtype") == "float32") {
                run_pool_dims<float>(g, c, m, err);
            } else {
                run_pool_dims<double>(g, c, m, err);
            }
        }
        ++count;
    }
    BOOST_TEST(count == 38);
    BOOST_TEST_MESSAGE("pool vs torch: max |error| float32 " << err.f32 << ", float64 " << err.f64);
}

BOOST_AUTO_TEST_CASE(gradcheck_pooling) {
    using autograd::gradcheck;
    auto check = [](const char* name, auto f, auto x) {
        const auto r = gradcheck(f, std::make_tuple(x));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    Variable<double, 3> x1(untied<3>({2, 2, 9}), true);
    Variable<double, 4> x2(untied<4>({1, 2, 6, 7}), true);
    Variable<double, 5> x3(untied<5>({1, 1, 4, 5, 4}), true);
    check(
        "avg_pool1d",
        [](const auto& x) {
            return F::avg_pool1d(x, {.kernel_size = {3},
                                     .stride = {2},
                                     .padding = {1},
                                     .ceil_mode = true,
                                     .count_include_pad = false});
        },
        x1);
    check(
        "avg_pool2d",
        [](const auto& x) {
            return F::avg_pool2d(
                x, {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = {1, 1}, .ceil_mode = true});
        },
        x2);
    check(
        "avg_pool3d",
        [](const auto& x) {
            return F::avg_pool3d(
                x, {.kernel_size = {2, 2, 2}, .padding = {1, 0, 1}, .count_include_pad = false});
        },
        x3);
    check(
        "max_pool1d",
        [](const auto& x) {
            return F::max_pool1d(
                x, {.kernel_size = {3}, .stride = {2}, .padding = {1}, .dilation = {2}, .ceil_mode = true});
        },
        x1);
    check(
        "max_pool2d",
        [](const auto& x) {
            return F::max_pool2d(
                x, {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true});
        },
        x2);
    check(
        "max_pool3d",
        [](const auto& x) {
            return F::max_pool3d(x, {.kernel_size = {2, 3, 2}, .stride = {1, 2, 2}});
        },
        x3);
    check(
        "adaptive_avg_pool1d", [](const auto& x) { return F::adaptive_avg_pool1d(x, {4}); }, x1);
    check(
        "adaptive_avg_pool2d",
        [](const auto& x) {
            return F::adaptive_avg_pool2d(x, {4, 3});
        },
        x2);
    check(
        "adaptive_avg_pool3d",
        [](const auto& x) {
            return F::adaptive_avg_pool3d(x, {3, 2, 3});
        },
        x3);
}

BOOST_AUTO_TEST_CASE(max_pool_indices_and_first_maximum_on_ties) {
    Variable<float, 3> x(Tensor<float, 3>({1, 1, 6}, {1, 3, 3, 2, 5, 5}), true);
    auto [y, idx] = F::max_pool1d_with_indices(x, {.kernel_size = {2}, .stride = {1}});
    BOOST_TEST(idx(0, 0, 1) == 1); // window (3, 3): the first
    BOOST_TEST(idx(0, 0, 4) == 4);
    y.backward(Tensor<float, 3>({1, 1, 5}, 1.0f));
    BOOST_TEST(x.grad()(0, 0, 1) == 2.0f);
    BOOST_TEST(x.grad()(0, 0, 2) == 1.0f);
    BOOST_TEST(x.grad()(0, 0, 4) == 2.0f);
    BOOST_TEST(x.grad()(0, 0, 5) == 0.0f);
}

BOOST_AUTO_TEST_CASE(pooling_is_identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 4> input = test::distinct<float, 4>({2, 4, 64, 64});
    const Tensor<float, 4> gy_avg = test::distinct<float, 4>({2, 4, 33, 33}, 1.0);
    const Tensor<float, 4> gy_ada = test::distinct<float, 4>({2, 4, 13, 9}, 2.0);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 4> x(input, true);
        auto a =
            F::avg_pool2d(x, {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true});
        auto m =
            F::max_pool2d(x, {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true});
        auto d = F::adaptive_avg_pool2d(x, {13, 9});
        a.backward(gy_avg);
        m.backward(gy_avg);
        d.backward(gy_ada);
        return std::make_tuple(Tensor<float, 4>(a.value()), Tensor<float, 4>(m.value()),
                               Tensor<float, 4>(d.value()), Tensor<float, 4>(x.grad()));
    };
    const int saved = omp_get_max_threads();
    const auto one = run(1);
    const auto two = run(2);
    omp_set_num_threads(saved);
    BOOST_TEST(test::max_abs_diff(std::get<0>(one), std::get<0>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<1>(one), std::get<1>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<2>(one), std::get<2>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<3>(one), std::get<3>(two)) == 0.0);
#endif
}

BOOST_AUTO_TEST_CASE(bad_attributes_name_the_argument) {
    Variable<float, 4> x(Tensor<float, 4>({1, 1, 5, 5}));
    BOOST_CHECK_EXCEPTION(
        F::avg_pool2d(x, {.kernel_size = {3, 3}, .padding = {2, 2}}), shape_error,
        message_has("avg_pool2d: kernel_size 3 with padding 2: padding must be at most half the "
                    "kernel size"));
    BOOST_CHECK_EXCEPTION(
        F::max_pool2d(x, {.kernel_size = {6, 6}}), shape_error,
        message_has("max_pool2d: input of shape (1, 1, 5, 5) is too small for kernel_size (6, 6)"));
    BOOST_CHECK_EXCEPTION(F::max_pool2d(x, {.kernel_size = {2, 0}}), shape_error,
                          message_has("max_pool2d: kernel_size (2, 0) must be positive"));
    BOOST_CHECK_EXCEPTION(F::max_pool2d(x, {.kernel_size = {2, 2}, .dilation = {0, 1}}), shape_error,
                          message_has("dilation (0, 1) must be positive"));
    BOOST_CHECK_EXCEPTION(F::adaptive_avg_pool2d(x, {0, 2}), shape_error,
                          message_has("adaptive_avg_pool2d: output_size (0, 2) must be positive"));
}

BOOST_AUTO_TEST_CASE(no_grad_records_nothing) {
    Variable<float, 4> x(test::distinct<float, 4>({1, 2, 4, 4}), true);
    autograd::no_grad guard;
    auto y = F::max_pool2d(x, {.kernel_size = {2, 2}});
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(y.is_leaf());
}

BOOST_AUTO_TEST_SUITE_END()
