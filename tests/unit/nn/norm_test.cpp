#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/norm.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
using namespace cinediff::nn::functional;
using autograd::Variable;
using cinediff::test::distinct;
using cinediff::test::golden_file;

namespace {

const golden_file& norm_golden() {
    static const golden_file f("nn/norm.safetensors");
    return f;
}

template <class T, std::size_t R>
Tensor<T, R> get(const std::string& c, const std::string& name) {
    return norm_golden().get<T, R>(c + "." + name);
}

template <class T, std::size_t R>
std::optional<Variable<T, R>> optional_param(const std::string& c, const std::string& name) {
    if (!norm_golden().has(c + "." + name)) {
        return std::nullopt;
    }
    return Variable<T, R>(get<T, R>(c, name), true);
}

template <class T, std::size_t R>
void check(const Tensor<T, R>& got, const std::string& c, const std::string& name) {
    const auto ref = get<T, R>(c, name);
    cinediff::test::check_close(got, ref, c + "." + name);
    double worst = 0;
    for (index_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst,
                         std::abs(static_cast<double>(got.data()[i]) - static_cast<double>(ref.data()[i])));
    }
    BOOST_TEST_MESSAGE("max |error| " << c << "." << name << " = " << worst);
}

// Output, then backward with the stored grad_output, then every stored gradient.
template <class T, std::size_t R, std::size_t W>
void check_forward_backward(const std::string& c, Variable<T, R>& y, const Variable<T, R>& x,
                            const std::optional<Variable<T, W>>& w, const std::optional<Variable<T, W>>& b) {
    check(y.value(), c, "output");
    y.backward(get<T, R>(c, "grad_output"));
    check(x.grad(), c, "grad_input");
    if (w) {
        check(w->grad(), c, "grad_weight");
    }
    if (b) {
        check(b->grad(), c, "grad_bias");
    }
}

template <class T, std::size_t R>
void group_case(const std::string& c, const nlohmann::json& a) {
    Variable<T, R> x(get<T, R>(c, "input"), true);
    const auto w = optional_param<T, 1>(c, "weight");
    const auto b = optional_param<T, 1>(c, "bias");
    auto y = group_norm(x, a.at("num_groups").get<index_t>(), w, b, a.at("eps").get<double>());
    check_forward_backward(c, y, x, w, b);
}

template <class T, std::size_t R, std::size_t K>
void layer_case(const std::string& c, const nlohmann::json& a, bool rms) {
    Variable<T, R> x(get<T, R>(c, "input"), true);
    const auto w = optional_param<T, K>(c, "weight");
    const auto b = optional_param<T, K>(c, "bias");
    shape_t<K> ns{};
    for (std::size_t d = 0; d < K; ++d) {
        ns[d] = a.at("normalized_shape").at(d).get<index_t>();
    }
    const double eps = a.at("eps").get<double>();
    auto y = rms ? rms_norm(x, ns, w, eps) : layer_norm(x, ns, w, b, eps);
    check_forward_backward(c, y, x, w, b);
}

template <class T, std::size_t R>
void batch_case(const std::string& c, const nlohmann::json& a, bool instance) {
    Variable<T, R> x(get<T, R>(c, "input"), true);
    const auto w = optional_param<T, 1>(c, "weight");
    const auto b = optional_param<T, 1>(c, "bias");
    const bool running = a.at("running").get<bool>();
    Tensor<T, 1> rm, rv;
    if (running) {
        rm = get<T, 1>(c, "running_mean");
        rv = get<T, 1>(c, "running_var");
    }
    const double momentum = a.at("momentum").get<double>();
    const double eps = a.at("eps").get<double>();
    auto y = instance ? instance_norm(x, running ? &rm : nullptr, running ? &rv : nullptr, w, b,
                                      a.at("use_input_stats").get<bool>(), momentum, eps)
                      : batch_norm(x, running ? &rm : nullptr, running ? &rv : nullptr, w, b,
                                   a.at("training").get<bool>(), momentum, eps);
    check_forward_backward(c, y, x, w, b);
    if (running) {
        check(rm, c, "running_mean_out");
        check(rv, c, "running_var_out");
    }
}

template <class T, std::size_t R>
void adain_case(const std::string& c, const nlohmann::json& a, bool with_style) {
    Variable<T, R> x(get<T, R>(c, "content"), true);
    const double eps = a.at("eps").get<double>();
    if (with_style) {
        Variable<T, R> s(get<T, R>(c, "style"), true);
        auto y = adain(x, s, eps);
        check(y.value(), c, "output");
        y.backward(get<T, R>(c, "grad_output"));
        check(x.grad(), c, "grad_content");
        check(s.grad(), c, "grad_style");
    } else {
        Variable<T, 2> sm(get<T, 2>(c, "style_mean"), true);
        Variable<T, 2> ss(get<T, 2>(c, "style_std"), true);
        auto y = adain(x, sm, ss, eps);
        check(y.value(), c, "output");
        y.backward(get<T, R>(c, "grad_output"));
        check(x.grad(), c, "grad_content");
        check(sm.grad(), c, "grad_style_mean");
        check(ss.grad(), c, "grad_style_std");
    }
}

template <class T, std::size_t R>
void run_case(const std::string& c, const nlohmann::json& a) {
    const std::string op = a.at("op").get<std::string>();
    if (op == "group_norm") {
        group_case<T, R>(c, a);
    } else if (op == "layer_norm" || op == "rms_norm") {
        const bool rms = op == "rms_norm";
        if (a.at("normalized_shape").size() == 1) {
            layer_case<T, R, 1>(c, a, rms);
        } else if constexpr (R >= 2) {
            layer_case<T, R, 2>(c, a, rms);
        }
    } else if (op == "batch_norm" || op == "instance_norm") {
        batch_case<T, R>(c, a, op == "instance_norm");
    } else if (op == "adain_style" || op == "adain_stats") {
        adain_case<T, R>(c, a, op == "adain_style");
    } else {
        BOOST_FAIL("unknown op " << op << " in case " << c);
    }
}

template <class T>
void run_case_of_rank(const std::string& c, const nlohmann::json& a) {
    switch (a.at("rank").get<int>()) {
    case 2:
        return run_case<T, 2>(c, a);
    case 3:
        return run_case<T, 3>(c, a);
    case 4:
        return run_case<T, 4>(c, a);
    case 5:
        return run_case<T, 5>(c, a);
    default:
        BOOST_FAIL("unexpected rank in case " << c);
    }
}

template <std::size_t R>
Variable<double, R> var(const shape_t<R>& shape, double seed, bool requires_grad = true) {
    return Variable<double, R>(distinct<double, R>(shape, seed), requires_grad);
}

void expect_gradcheck(const char* name, const autograd::gradcheck_result& r) {
    BOOST_TEST_CONTEXT(name) {
        BOOST_TEST(r.ok, r.message);
    }
}

template <class E, class F>
void expect_throw_with(F&& f, const std::string& text) {
    try {
        f();
        BOOST_ERROR("no exception; expected one containing: " << text);
    } catch (const E& e) {
        BOOST_TEST(std::string(e.what()).find(text) != std::string::npos, e.what());
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_norm)

BOOST_AUTO_TEST_CASE(golden_against_torch) {
    const auto& f = norm_golden();
    const auto names = f.cases();
    BOOST_TEST(names.size() >= 40u);
    for (const auto& c : names) {
        BOOST_TEST_CONTEXT(c) {
            const auto attrs = nlohmann::json::parse(f.metadata(c));
            if (c.ends_with("_f32")) {
                run_case_of_rank<float>(c, attrs);
            } else {
                run_case_of_rank<double>(c, attrs);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(gradcheck_every_input) {
    using V1 = Variable<double, 1>;
    using V3 = Variable<double, 3>;
    const V3 x = var<3>({2, 4, 3}, 0.3);
    const V1 w = var<1>({4}, 1.1), b = var<1>({4}, 2.2);
    expect_gradcheck("group_norm",
                     autograd::gradcheck([](const V3& i, const V1& wt,
                                            const V1& bs) -> V3 { return group_norm(i, 2, wt, bs); },
                                         std::make_tuple(x, w, b)));
    expect_gradcheck(
        "group_norm_no_affine",
        autograd::gradcheck([](const V3& i) -> V3 { return group_norm(i, 4); }, std::make_tuple(x)));
    const V1 w3 = var<1>({3}, 0.7), b3 = var<1>({3}, 1.7);
    expect_gradcheck("layer_norm",
                     autograd::gradcheck([](const V3& i, const V1& wt,
                                            const V1& bs) -> V3 { return layer_norm(i, {3}, wt, bs); },
                                         std::make_tuple(x, w3, b3)));
    const Variable<double, 2> w2 = var<2>({4, 3}, 0.9);
    expect_gradcheck("layer_norm_2d", autograd::gradcheck(
                                          [](const V3& i, const Variable<double, 2>& wt) -> V3 {
                                              return layer_norm(i, {4, 3}, wt);
                                          },
                                          std::make_tuple(x, w2)));
    expect_gradcheck("rms_norm",
                     autograd::gradcheck([](const V3& i, const V1& wt) -> V3 { return rms_norm(i, {3}, wt); },
                                         std::make_tuple(x, w3)));
    expect_gradcheck("batch_norm_training", autograd::gradcheck(
                                                [](const V3& i, const V1& wt, const V1& bs) -> V3 {
                                                    return batch_norm(i, nullptr, nullptr, wt, bs, true);
                                                },
                                                std::make_tuple(x, w, b)));
    expect_gradcheck("batch_norm_eval", autograd::gradcheck(
                                            [](const V3& i, const V1& wt, const V1& bs) -> V3 {
                                                Tensor<double, 1> rm = distinct<double, 1>({4}, 0.1);
                                                Tensor<double, 1> rv({4}, 1.5);
                                                return batch_norm(i, &rm, &rv, wt, bs, false);
                                            },
                                            std::make_tuple(x, w, b)));
    expect_gradcheck("instance_norm", autograd::gradcheck(
                                          [](const V3& i, const V1& wt, const V1& bs) -> V3 {
                                              return instance_norm(i, nullptr, nullptr, wt, bs);
                                          },
                                          std::make_tuple(x, w, b)));
    const V3 style = var<3>({2, 4, 5}, 1.3);
    expect_gradcheck("adain_style",
                     autograd::gradcheck([](const V3& c, const V3& s) -> V3 { return adain(c, s); },
                                         std::make_tuple(x, style)));
    const Variable<double, 2> sm = var<2>({2, 4}, 0.2), ss = var<2>({2, 4}, 5.0);
    expect_gradcheck("adain_stats",
                     autograd::gradcheck([](const V3& c, const Variable<double, 2>& m,
                                            const Variable<double, 2>& s) -> V3 { return adain(c, m, s); },
                                         std::make_tuple(x, sm, ss)));
}

BOOST_AUTO_TEST_CASE(thread_count_does_not_change_results) {
#if defined(_OPENMP)
    // Large enough to run the kernels in parallel (above backend::parallel_grain).
    const auto input = distinct<float, 4>({4, 16, 24, 24}, 0.5, 2.0);
    const auto gy = distinct<float, 4>({4, 16, 24, 24}, 1.5);
    const auto weight = distinct<float, 1>({16}, 0.2);
    const auto w24 = distinct<float, 1>({24}, 0.4);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        std::vector<Tensor<float, 4>> results;
        std::vector<Tensor<float, 1>> param_grads;
        auto add = [&](Variable<float, 4> y, Variable<float, 4>& x, Variable<float, 1>& w) {
            y.backward(gy);
            results.push_back(y.value());
            results.push_back(x.grad());
            param_grads.push_back(w.grad());
        };
        for (int op = 0; op < 5; ++op) {
            Variable<float, 4> x(input, true);
            Variable<float, 1> w(op >= 3 ? w24 : weight, true);
            Tensor<float, 1> rm({16}), rv({16}, 1.0f);
            switch (op) {
            case 0:
                add(group_norm(x, 4, w, w), x, w);
                break;
            case 1:
                add(batch_norm(x, &rm, &rv, w, w, true), x, w);
                break;
            case 2:
                add(instance_norm(x, nullptr, nullptr, w, w), x, w);
                break;
            case 3:
                add(layer_norm(x, {24}, w, w), x, w);
                break;
            default:
                add(rms_norm(x, {24}, w), x, w);
                break;
            }
        }
        omp_set_num_threads(2);
        return std::make_pair(results, param_grads);
    };
    const auto one = run(1);
    const auto two = run(2);
    for (std::size_t i = 0; i < one.first.size(); ++i) {
        BOOST_TEST(cinediff::test::max_abs_diff(one.first[i], two.first[i]) == 0.0);
    }
    for (std::size_t i = 0; i < one.second.size(); ++i) {
        BOOST_TEST(cinediff::test::max_abs_diff(one.second[i], two.second[i]) == 0.0);
    }
#else
    BOOST_TEST_MESSAGE("built without OpenMP: nothing to compare");
#endif
}

BOOST_AUTO_TEST_CASE(bad_arguments_name_the_op_and_the_value) {
    Variable<float, 3> x(distinct<float, 3>({2, 6, 4}), true);
    expect_throw_with<shape_error>([&] { (void)group_norm(x, 4); },
                                   "group_norm: 6 channels are not divisible by num_groups=4");
    Variable<float, 1> w5(distinct<float, 1>({5}));
    expect_throw_with<shape_error>([&] { (void)group_norm(x, 3, w5); }, "group_norm: weight of shape (5)");
    expect_throw_with<shape_error>([&] { (void)layer_norm(x, {5}); },
                                   "layer_norm: normalized_shape (5) does not match");
    Variable<float, 2> single(distinct<float, 2>({1, 3}));
    expect_throw_with<std::invalid_argument>(
        [&] { (void)batch_norm(single, nullptr, nullptr, std::nullopt, std::nullopt, true); },
        "more than 1 value per channel");
    expect_throw_with<std::invalid_argument>([&] { (void)batch_norm(x, nullptr, nullptr); },
                                             "running_mean and running_var are required");
    Tensor<float, 1> rm3({3});
    Tensor<float, 1> rv3({3});
    expect_throw_with<shape_error>([&] { (void)batch_norm(x, &rm3, &rv3, std::nullopt, std::nullopt, true); },
                                   "batch_norm: running_mean of shape (3)");
    Variable<float, 2> sm(distinct<float, 2>({2, 5}));
    expect_throw_with<shape_error>([&] { (void)adain(x, sm, sm); }, "adain: style_mean of shape (2, 5)");
}

BOOST_AUTO_TEST_CASE(no_grad_records_nothing) {
    Variable<float, 3> x(distinct<float, 3>({2, 4, 3}), true);
    autograd::no_grad guard;
    const auto y = group_norm(x, 2);
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(y.is_leaf());
}

BOOST_AUTO_TEST_SUITE_END()
