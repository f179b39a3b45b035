#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/dice_loss.hpp>
#include <cinediff/nn/functional/focal_frequency_loss.hpp>
#include <cinediff/nn/functional/loss.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <map>

using namespace cinediff;
namespace F = cinediff::nn::functional;
using autograd::Variable;
using cinediff::test::distinct;
using json = nlohmann::json;

namespace {

const test::golden_file& loss_golden() {
    static const test::golden_file f("nn/loss.safetensors");
    return f;
}

// Worst |error| per "op dtype", printed at the end.
std::map<std::string, double>& worst_errors() {
    static std::map<std::string, double> m;
    return m;
}

template <class T, std::size_t R>
void check(const Tensor<T, R>& got, const std::string& c, const std::string& name, const std::string& op) {
    const auto ref = loss_golden().get<T, R>(c + "." + name);
    test::check_close(got, ref, c + "." + name);
    double worst = 0;
    for (index_t i = 0; i < got.size() && got.shape() == ref.shape(); ++i) {
        worst = std::max(worst,
                         std::abs(static_cast<double>(got.data()[i]) - static_cast<double>(ref.data()[i])));
    }
    auto& w = worst_errors()[op + (std::is_same_v<T, float> ? " f32" : " f64")];
    w = std::max(w, worst);
}

F::reduction reduction_of(const std::string& r) {
    return r == "sum" ? F::reduction::sum : r == "batchmean" ? F::reduction::batchmean : F::reduction::mean;
}

// Compares the output, backpropagates the stored grad_output and compares the gradients.
template <class T, std::size_t OR, std::size_t R>
void finish(const std::string& c, const std::string& op, Variable<T, OR> y, const Variable<T, R>& x,
            const Variable<T, R>* target) {
    check(y.value(), c, "output", op);
    y.backward(loss_golden().get<T, OR>(c + ".grad_output"));
    check(x.grad(), c, "grad_input", op);
    if (target) {
        check(target->grad(), c, "grad_target", op);
    }
}

template <class T, std::size_t R>
void run_case(const std::string& c, const json& a) {
    const auto& g = loss_golden();
    const std::string op = a.at("op");
    const std::string red = a.at("reduction");
    const bool none = red == "none";
    const F::reduction r = reduction_of(red);
    Variable<T, R> x(g.get<T, R>(c + ".input"), true);
    auto weight1 = [&]() -> std::optional<Tensor<T, 1>> {
        return g.has(c + ".weight") ? std::optional<Tensor<T, 1>>(g.get<T, 1>(c + ".weight")) : std::nullopt;
    };
    // Losses with a float target that also gets a gradient.
    auto with_target = [&](auto reduced, auto unreduced) {
        Variable<T, R> t(g.get<T, R>(c + ".target"), true);
        if (none) {
            finish(c, op, unreduced(x, t), x, &t);
        } else {
            finish(c, op, reduced(x, t), x, &t);
        }
    };
    if (op == "mse_loss") {
        with_target([&](auto& i, auto& t) { return F::mse_loss(i, t, {.reduction = r}); },
                    [&](auto& i, auto& t) { return F::mse_loss_none(i, t); });
    } else if (op == "l1_loss") {
        with_target([&](auto& i, auto& t) { return F::l1_loss(i, t, {.reduction = r}); },
                    [&](auto& i, auto& t) { return F::l1_loss_none(i, t); });
    } else if (op == "smooth_l1_loss") {
        const F::smooth_l1_loss_options o{.reduction = r, .beta = a.at("beta").get<double>()};
        with_target([&](auto& i, auto& t) { return F::smooth_l1_loss(i, t, o); },
                    [&](auto& i, auto& t) { return F::smooth_l1_loss_none(i, t, o); });
    } else if (op == "kl_div") {
        const F::kl_div_options o{.reduction = r, .log_target = a.at("log_target").get<bool>()};
        with_target([&](auto& i, auto& t) { return F::kl_div(i, t, o); },
                    [&](auto& i, auto& t) { return F::kl_div_none(i, t, o); });
    } else if (op == "cross_entropy_probs") {
        const F::cross_entropy_options<T> o{
            .weight = weight1(), .reduction = r, .label_smoothing = a.at("label_smoothing").get<double>()};
        with_target([&](auto& i, auto& t) { return F::cross_entropy(i, t, o); },
                    [&](auto& i, auto& t) { return F::cross_entropy_none(i, t, o); });
    } else if (op == "binary_cross_entropy_with_logits") {
        F::binary_cross_entropy_with_logits_options<T, R> o{.reduction = r};
        if (g.has(c + ".weight")) {
            o.weight = g.get<T, R>(c + ".weight");
        }
        if (g.has(c + ".pos_weight")) {
            o.pos_weight = g.get<T, 1>(c + ".pos_weight");
        }
        with_target([&](auto& i, auto& t) { return F::binary_cross_entropy_with_logits(i, t, o); },
                    [&](auto& i, auto& t) { return F::binary_cross_entropy_with_logits_none(i, t, o); });
    } else if (op == "dice_loss") {
        const std::string act = a.at("activation");
        const F::dice_loss_options o{.reduction = r,
                                     .smooth = a.at("smooth").get<double>(),
                                     .activation = act == "softmax"   ? F::dice_activation::softmax
                                                   : act == "sigmoid" ? F::dice_activation::sigmoid
                                                                      : F::dice_activation::none};
        with_target([&](auto& i, auto& t) { return F::dice_loss(i, t, o); },
                    [&](auto& i, auto& t) { return F::dice_loss_none(i, t, o); });
    } else if (op == "focal_frequency_loss") {
        if constexpr (R == 4) {
            const F::focal_frequency_loss_options o{.loss_weight = a.value("loss_weight", 1.0),
                                                    .alpha = a.value("alpha", 1.0),
                                                    .patch_factor = a.value("patch_factor", index_t(1)),
                                                    .ave_spectrum = a.value("ave_spectrum", false),
                                                    .log_matrix = a.value("log_matrix", false),
                                                    .batch_matrix = a.value("batch_matrix", false)};
            Variable<T, R> t(g.get<T, R>(c + ".target"), true);
            finish(c, op, F::focal_frequency_loss(x, t, o), x, &t);
        }
    } else if (op == "cross_entropy" || op == "nll_loss") {
        const auto t = g.get<std::int64_t, R - 1>(c + ".target");
        const std::int64_t ignore = a.at("ignore_index");
        if (op == "cross_entropy") {
            const F::cross_entropy_options<T> o{.weight = weight1(),
                                                .ignore_index = ignore,
                                                .reduction = r,
                                                .label_smoothing = a.at("label_smoothing").get<double>()};
            if (none) {
                finish(c, op, F::cross_entropy_none(x, t, o), x, static_cast<const Variable<T, R>*>(nullptr));
            } else {
                finish(c, op, F::cross_entropy(x, t, o), x, static_cast<const Variable<T, R>*>(nullptr));
            }
        } else {
            const F::nll_loss_options<T> o{.weight = weight1(), .ignore_index = ignore, .reduction = r};
            if (none) {
                finish(c, op, F::nll_loss_none(x, t, o), x, static_cast<const Variable<T, R>*>(nullptr));
            } else {
                finish(c, op, F::nll_loss(x, t, o), x, static_cast<const Variable<T, R>*>(nullptr));
            }
        }
    } else {
        BOOST_FAIL("unknown op " << op);
    }
}

template <class T>
void run_case(const std::string& c, const json& a) {
    switch (a.at("rank").get<int>()) {
    case 2:
        return run_case<T, 2>(c, a);
    case 3:
        return run_case<T, 3>(c, a);
    case 4:
        return run_case<T, 4>(c, a);
    default:
        BOOST_FAIL("unexpected rank in " << c);
    }
}

template <class Fn, class... V>
void expect_gradcheck(const char* name, Fn&& fn, V... inputs) {
    const auto r = autograd::gradcheck(fn, std::make_tuple(inputs...));
    BOOST_TEST_CONTEXT(name) {
        BOOST_TEST(r.ok, r.message);
    }
}

template <class E, class Fn>
void expect_error(Fn&& fn, const std::string& expected) {
    try {
        fn();
        BOOST_ERROR("no exception; expected: " << expected);
    } catch (const E& e) {
        BOOST_TEST(std::string(e.what()) == expected);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_loss)

BOOST_AUTO_TEST_CASE(golden_against_torch) {
    const auto cases = loss_golden().cases();
    BOOST_TEST(cases.size() == 84u);
    for (const auto& c : cases) {
        const auto a = json::parse(loss_golden().metadata(c));
        BOOST_TEST_CONTEXT(c) {
            if (c.ends_with("_f32")) {
                run_case<float>(c, a);
            } else {
                run_case<double>(c, a);
            }
        }
    }
    for (const auto& [op, err] : worst_errors()) {
        BOOST_TEST_MESSAGE("max |error| vs torch, " << op << ": " << err);
    }
}

BOOST_AUTO_TEST_CASE(gradcheck_every_loss) {
    using V3 = Variable<double, 3>;
    using V4 = Variable<double, 4>;
    const V3 x(distinct<double, 3>({2, 3, 4}, 0.1, 2.0), true);
    const V3 t(distinct<double, 3>({2, 3, 4}, 1.3, 2.0), true);
    expect_gradcheck(
        "mse_loss", [](const V3& a, const V3& b) { return F::mse_loss(a, b); }, x, t);
    expect_gradcheck(
        "mse_loss_none", [](const V3& a, const V3& b) { return F::mse_loss_none(a, b); }, x, t);
    expect_gradcheck(
        "l1_loss",
        [](const V3& a, const V3& b) { return F::l1_loss(a, b, {.reduction = F::reduction::sum}); }, x, t);
    expect_gradcheck(
        "smooth_l1_loss",
        [](const V3& a, const V3& b) { return F::smooth_l1_loss_none(a, b, {.beta = 0.7}); }, x, t);

    // kl_div: log-probability input, probability or log-probability target (positive).
    const V3 logp(Tensor<double, 3>(x.value() * 0.5 - 2.0), true);
    const V3 q(Tensor<double, 3>(exp(t.value() * 0.5 - 1.5)), true);
    expect_gradcheck(
        "kl_div",
        [](const V3& a, const V3& b) { return F::kl_div(a, b, {.reduction = F::reduction::batchmean}); },
        logp, q);
    expect_gradcheck(
        "kl_div_log_target",
        [](const V3& a, const V3& b) { return F::kl_div_none(a, b, {.log_target = true}); }, logp,
        V3(Tensor<double, 3>(t.value() * 0.5 - 1.5), true));

    // cross_entropy / nll_loss with class indices: weights, ignore_index, label smoothing.
    const Tensor<std::int64_t, 2> cls({2, 4}, {0, 2, 1, 1, 2, 0, 0, 2});
    const Tensor<double, 1> w({3}, {0.5, 2.0, 1.25});
    expect_gradcheck(
        "cross_entropy",
        [&](const V3& a) {
            return F::cross_entropy(a, cls, {.weight = w, .ignore_index = 1, .label_smoothing = 0.15});
        },
        x);
    expect_gradcheck(
        "cross_entropy_none",
        [&](const V3& a) { return F::cross_entropy_none(a, cls, {.label_smoothing = 0.3}); }, x);
    expect_gradcheck(
        "nll_loss", [&](const V3& a) { return F::nll_loss(a, cls, {.weight = w, .ignore_index = 0}); }, x);
    expect_gradcheck(
        "nll_loss_none", [&](const V3& a) { return F::nll_loss_none(a, cls); }, x);
    // ... and with class probabilities (gradients to input and target).
    expect_gradcheck(
        "cross_entropy_probs",
        [&](const V3& a, const V3& b) {
            return F::cross_entropy(a, b,
                                    {.weight = w, .reduction = F::reduction::sum, .label_smoothing = 0.2});
        },
        x, q);
    expect_gradcheck(
        "cross_entropy_probs_none", [&](const V3& a, const V3& b) { return F::cross_entropy_none(a, b); }, x,
        q);

    // binary_cross_entropy_with_logits with a broadcast weight and pos_weight.
    F::binary_cross_entropy_with_logits_options<double, 3> bo{
        .weight = Tensor<double, 3>({1, 3, 1}, {0.5, 1.0, 2.0}),
        .pos_weight = Tensor<double, 1>({3}, {0.3, 1.0, 4.0})};
    expect_gradcheck(
        "bce_with_logits",
        [&](const V3& a, const V3& b) { return F::binary_cross_entropy_with_logits(a, b, bo); }, x, q);
    expect_gradcheck(
        "bce_with_logits_none",
        [&](const V3& a, const V3& b) { return F::binary_cross_entropy_with_logits_none(a, b); }, x, q);

    // Dice with each activation.
    const V4 logits(distinct<double, 4>({2, 3, 3, 2}, 0.4, 2.0), true);
    const V4 mask(Tensor<double, 4>(distinct<double, 4>({2, 3, 3, 2}, 2.1) * 0.5 + 0.5), true);
    for (const auto act :
         {F::dice_activation::none, F::dice_activation::sigmoid, F::dice_activation::softmax}) {
        expect_gradcheck(
            "dice_loss", [&](const V4& a, const V4& b) { return F::dice_loss(a, b, {.activation = act}); },
            logits, mask);
    }
    expect_gradcheck(
        "dice_loss_none", [&](const V4& a, const V4& b) { return F::dice_loss_none(a, b, {.smooth = 0.1}); },
        logits, mask);

    // Focal frequency loss: the weight matrix is detached, so finite differences agree with the
    // analytical gradient only where it is constant: alpha = 0 makes it 1 everywhere. The golden
    // cases check alpha != 0 against the official code.
    const V4 pred(distinct<double, 4>({2, 2, 4, 6}, 0.2), true);
    const V4 real(distinct<double, 4>({2, 2, 4, 6}, 1.7), true);
    expect_gradcheck(
        "focal_frequency_loss",
        [](const V4& a, const V4& b) { return F::focal_frequency_loss(a, b, {.alpha = 0.0}); }, pred, real);
    expect_gradcheck(
        "focal_frequency_loss_patches_ave",
        [](const V4& a, const V4& b) {
            return F::focal_frequency_loss(
                a, b, {.loss_weight = 2.0, .alpha = 0.0, .patch_factor = 2, .ave_spectrum = true});
        },
        pred, real);
}

BOOST_AUTO_TEST_CASE(focal_frequency_weight_is_detached_and_zero_for_equal_inputs) {
    const Variable<double, 4> a(distinct<double, 4>({1, 1, 4, 4}), true);
    auto l = F::focal_frequency_loss(a, Variable<double, 4>(a.value()));
    BOOST_TEST(l.value()() == 0.0); // 0 / 0 in the weight normalisation becomes 0, not NaN
    l.backward();
    BOOST_TEST(test::max_abs_diff(a.grad(), Tensor<double, 4>(a.shape())) == 0.0);
}

BOOST_AUTO_TEST_CASE(numerically_stable_and_torch_edge_conventions) {
    // Huge logits: finite values and gradients.
    Variable<float, 2> x(Tensor<float, 2>({1, 3}, {1000.f, -1000.f, 0.f}), true);
    Variable<float, 2> t(Tensor<float, 2>({1, 3}, {0.f, 1.f, 0.5f}), true);
    auto b = F::binary_cross_entropy_with_logits(x, t, {.reduction = F::reduction::sum});
    BOOST_TEST(b.value()() == (1000.f + 1000.f + std::log(2.f)), boost::test_tools::tolerance(1e-5f));
    b.backward();
    BOOST_TEST(x.grad()(0, 0) == 1.f);
    BOOST_TEST(x.grad()(0, 1) == -1.f);
    const Tensor<std::int64_t, 1> cls({1}, {1});
    x.zero_grad();
    auto ce = F::cross_entropy(x, cls);
    BOOST_TEST(ce.value()() == 2000.f, boost::test_tools::tolerance(1e-6f));
    ce.backward();
    BOOST_TEST(x.grad()(0, 0) == 1.f);
    BOOST_TEST(x.grad()(0, 1) == -1.f);

    // Every target ignored: the weighted mean is 0 / 0 = NaN (as torch), the gradient is zero.
    Variable<double, 2> y(distinct<double, 2>({2, 3}), true);
    auto all_ignored = F::cross_entropy(y, Tensor<std::int64_t, 1>({2}, {-100, -100}));
    BOOST_TEST(std::isnan(all_ignored.value()()));
    all_ignored.backward();
    BOOST_TEST(test::max_abs_diff(y.grad(), Tensor<double, 2>(y.shape())) == 0.0);

    // kl_div: a zero target contributes 0, gives its input no gradient, and its own gradient is
    // -input there (torch: NaN, from xlogy's derivative at 0).
    Variable<double, 1> lp(Tensor<double, 1>({2}, {-0.5, -1.0}), true);
    Variable<double, 1> p(Tensor<double, 1>({2}, {0.0, 1.0}), true);
    auto kl = F::kl_div(lp, p, {.reduction = F::reduction::sum});
    BOOST_TEST(kl.value()() == 1.0);
    kl.backward();
    BOOST_TEST(lp.grad()(0) == 0.0);
    BOOST_TEST(p.grad()(0) == 0.5);

    // Under no_grad nothing is recorded.
    autograd::no_grad guard;
    BOOST_TEST(!F::mse_loss(y, y).requires_grad());
    BOOST_TEST(!F::cross_entropy(y, Tensor<std::int64_t, 1>({2}, {0, 2})).requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_arguments_name_the_op_and_the_value) {
    Variable<double, 2> x(distinct<double, 2>({4, 5}), true);
    expect_error<std::invalid_argument>(
        [&] {
            F::cross_entropy(x, Tensor<std::int64_t, 1>({4}, {0, 1, 4, 7}));
        },
        "cross_entropy: target class 7 is out of range for 5 classes at index 3");
    expect_error<std::invalid_argument>(
        [&] {
            F::nll_loss_none(x, Tensor<std::int64_t, 1>({4}, {0, -1, 1, 1}));
        },
        "nll_loss: target class -1 is out of range for 5 classes at index 1");
    expect_error<shape_error>(
        [&] {
            F::cross_entropy(x, Tensor<std::int64_t, 1>({3}, {0, 1, 2}));
        },
        "cross_entropy: target of shape (3) does not match input of shape (4, 5) (expected (4))");
    expect_error<shape_error>(
        [&] {
            F::cross_entropy(x, Tensor<std::int64_t, 1>({4}, {0, 1, 2, 3}),
                             {.weight = Tensor<double, 1>({3})});
        },
        "cross_entropy: weight has 3 elements for 5 classes");
    expect_error<std::invalid_argument>(
        [&] {
            F::cross_entropy(x, Tensor<std::int64_t, 1>({4}, {0, 1, 2, 3}), {.label_smoothing = 1.5});
        },
        "cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.500000");
    expect_error<std::invalid_argument>(
        [&] { F::cross_entropy(x, x, {.ignore_index = 0}); },
        "cross_entropy: ignore_index (0) is not supported for a probability target");
    Variable<double, 2> other(Tensor<double, 2>({4, 4}), false);
    expect_error<shape_error>([&] { F::mse_loss(x, other); },
                              "mse_loss: target of shape (4, 4) does not match input of shape (4, 5)");
    expect_error<std::invalid_argument>([&] { F::mse_loss(x, x, {.reduction = F::reduction::batchmean}); },
                                        "mse_loss: reduction 'batchmean' is only supported by kl_div");
    expect_error<std::invalid_argument>([&] { F::smooth_l1_loss(x, x, {.beta = -1}); },
                                        "smooth_l1_loss: beta must be non-negative, got -1.000000");
    expect_error<shape_error>(
        [&] { F::binary_cross_entropy_with_logits(x, x, {.pos_weight = Tensor<double, 1>({4})}); },
        "binary_cross_entropy_with_logits: pos_weight has 4 elements for 5 classes (dim 1 of input (4, 5))");
    expect_error<shape_error>(
        [&] {
            F::binary_cross_entropy_with_logits(x, x, {.weight = Tensor<double, 2>({2, 5})});
        },
        "binary_cross_entropy_with_logits: weight of shape (2, 5) does not broadcast to input of shape (4, "
        "5)");
    Variable<double, 4> img(Tensor<double, 4>({1, 1, 6, 4}), true);
    expect_error<shape_error>([&] { F::focal_frequency_loss(img, img, {.patch_factor = 4}); },
                              "focal_frequency_loss: patch_factor 4 must divide the image size 6x4");
}

BOOST_AUTO_TEST_CASE(identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 4> input = distinct<float, 4>({16, 10, 16, 16}, 0.0, 3.0);
    const Tensor<float, 4> probs = Tensor<float, 4>(distinct<float, 4>({16, 10, 16, 16}, 1.0) * 0.5f + 0.5f);
    Tensor<std::int64_t, 3> cls({16, 16, 16});
    for (index_t i = 0; i < cls.size(); ++i) {
        cls.data()[i] = (i * 7) % 10;
    }
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 4> x(input, true);
        Variable<float, 4> t(probs, true);
        auto l = F::cross_entropy(x, cls, {.label_smoothing = 0.1});
        auto b = F::binary_cross_entropy_with_logits(x, t);
        auto f = F::focal_frequency_loss(x, t, {.patch_factor = 2});
        Variable<float, 0> total = l + b + f;
        total.backward();
        return std::make_tuple(total.value()(), Tensor<float, 4>(x.grad()), Tensor<float, 4>(t.grad()));
    };
    const int saved = omp_get_max_threads();
    const auto one = run(1);
    const auto two = run(2);
    omp_set_num_threads(saved);
    BOOST_TEST(std::get<0>(one) == std::get<0>(two));
    BOOST_TEST(test::max_abs_diff(std::get<1>(one), std::get<1>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<2>(one), std::get<2>(two)) == 0.0);
#endif
}

BOOST_AUTO_TEST_SUITE_END()
