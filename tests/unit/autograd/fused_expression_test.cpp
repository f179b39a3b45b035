#include <boost/test/unit_test.hpp>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/autograd/gradcheck.hpp>

#include "test_util.hpp"

using namespace cinediff;
using namespace cinediff::autograd;
using cinediff::test::distinct;

BOOST_AUTO_TEST_SUITE(fused_expressions)

BOOST_AUTO_TEST_CASE(forward_matches_tensor_expression_and_records_one_node) {
    Variable<float, 2> a(distinct<float, 2>({3, 4}), true);
    Variable<float, 1> b(distinct<float, 1>({4}, 1.0), true);
    Variable<float, 2> y = a * sigmoid(b) + 1.0f;
    const Tensor<float, 2> expected = a.value() * sigmoid(b.value()) + 1.0f;
    BOOST_TEST(cinediff::test::max_abs_diff(y.value(), expected) == 0.0);
    BOOST_TEST(std::string(y.grad_fn_name()) == "fused_elementwise");
}

BOOST_AUTO_TEST_CASE(sigmoid_gradient_is_finite_on_both_tails) {
    // 1/(1 + e^-x) differentiated as a quotient is inf/inf below x = -88 in float.
    const float values[] = {-200.0f, -100.0f, -88.5f, 0.0f, 88.5f, 200.0f};
    Variable<float, 1> v(Tensor<float, 1>({6}, {-200.0f, -100.0f, -88.5f, 0.0f, 88.5f, 200.0f}), true);
    Variable<float, 1> y = sigmoid(v) * 1.0f;
    y.backward(Tensor<float, 1>({6}, 1.0f));
    for (index_t i = 0; i < 6; ++i) {
        const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(values[i])));
        BOOST_TEST(std::isfinite(v.grad()(i)));
        // Relative 1e-6, plus the spacing of float subnormals (the tails are below FLT_MIN).
        BOOST_TEST(std::abs(v.grad()(i) - s * (1 - s)) <= 1e-6 * s * (1 - s) + 1e-44);
    }
}

BOOST_AUTO_TEST_CASE(gradients_of_broadcast_product_match_hand_derivation) {
    Variable<double, 2> a(distinct<double, 2>({3, 4}), true);
    Variable<double, 1> b(distinct<double, 1>({4}, 1.0), true);
    Variable<double, 2> y = a * sigmoid(b) + 1.0;
    Tensor<double, 2> gy = distinct<double, 2>({3, 4}, 2.0);
    y.backward(gy);
    for (index_t i = 0; i < 3; ++i) {
        for (index_t j = 0; j < 4; ++j) {
            const double s = 1.0 / (1.0 + std::exp(-b.value()(j)));
            BOOST_TEST(a.grad()(i, j) == gy(i, j) * s, boost::test_tools::tolerance(1e-14));
        }
    }
    for (index_t j = 0; j < 4; ++j) {
        const double s = 1.0 / (1.0 + std::exp(-b.value()(j)));
        double expected = 0;
        for (index_t i = 0; i < 3; ++i) {
            expected += gy(i, j) * a.value()(i, j) * s * (1 - s);
        }
        BOOST_TEST(b.grad()(j) == expected, boost::test_tools::tolerance(1e-13));
    }
}

BOOST_AUTO_TEST_CASE(gradcheck_every_differentiable_function) {
    auto x = Variable<double, 2>(Tensor<double, 2>(abs(distinct<double, 2>({3, 5}, 0.4)) + 0.3), true);
    auto y = Variable<double, 2>(distinct<double, 2>({3, 5}, 1.9), true);
    auto check = [&](const char* name, auto f) {
        const auto r = gradcheck(f, std::make_tuple(x, y));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check("add_mul_div",
          [](const auto& a, const auto& b) -> Variable<double, 2> { return (a + b) * a / (b * b + 1.0); });
    check("exp_log", [](const auto& a, const auto& b) -> Variable<double, 2> { return exp(b) + log(a); });
    check("sqrt_rsqrt",
          [](const auto& a, const auto& b) -> Variable<double, 2> { return sqrt(a) - rsqrt(a) * b; });
    check("tanh_erf",
          [](const auto& a, const auto& b) -> Variable<double, 2> { return tanh(a * b) + erf(b); });
    check("sin_cos", [](const auto& a, const auto& b) -> Variable<double, 2> { return sin(a) * cos(b); });
    check("sigmoid_square",
          [](const auto& a, const auto& b) -> Variable<double, 2> { return sigmoid(b) * square(a); });
    check("pow", [](const auto& a, const auto& b) -> Variable<double, 2> { return pow(a, b) + pow(a, 2.5); });
    check("abs_neg", [](const auto& a, const auto& b) -> Variable<double, 2> { return abs(b) - a; });
    check("silu_repeated_operand",
          [](const auto& a, const auto& b) -> Variable<double, 2> { return b * sigmoid(b) + a; });
    check("where", [](const auto& a, const auto& b) -> Variable<double, 2> {
        return where(b.value() > 0.0, a * 2.0, b);
    });
    check("clamp_max_min", [](const auto& a, const auto& b) -> Variable<double, 2> {
        return clamp(b, -0.5, 0.5) + maximum(a, b) - minimum(a * 0.5, b);
    });
}

BOOST_AUTO_TEST_CASE(chained_expressions_accumulate_through_the_graph) {
    Variable<double, 1> x(distinct<double, 1>({6}), true);
    Variable<double, 1> h = x * 2.0;   // node 1
    Variable<double, 1> z = h * h + x; // node 2 reads h and x
    z.backward(Tensor<double, 1>({6}, 1.0));
    for (index_t i = 0; i < 6; ++i) {
        BOOST_TEST(x.grad()(i) == 8.0 * x.value()(i) + 1.0, boost::test_tools::tolerance(1e-14));
    }
    // Gradients accumulate across calls until zero_grad.
    Variable<double, 1> z2 = x * 3.0;
    z2.backward(Tensor<double, 1>({6}, 1.0));
    BOOST_TEST(x.grad()(0) == 8.0 * x.value()(0) + 4.0, boost::test_tools::tolerance(1e-14));
    x.zero_grad();
    BOOST_TEST(!x.has_grad());
}

BOOST_AUTO_TEST_CASE(no_grad_records_nothing_and_backward_twice_needs_retain_graph) {
    Variable<float, 1> x(distinct<float, 1>({4}), true);
    {
        no_grad guard;
        Variable<float, 1> y = exp(x);
        BOOST_TEST(!y.requires_grad());
        BOOST_TEST(y.is_leaf());
        {
            enable_grad again;
            Variable<float, 1> z = exp(x);
            BOOST_TEST(z.requires_grad());
        }
    }
    Variable<float, 1> y = exp(x);
    y.backward(Tensor<float, 1>({4}, 1.0f), true);
    y.backward(Tensor<float, 1>({4}, 1.0f));
    BOOST_TEST(x.grad()(1) == 2.0f * std::exp(x.value()(1)), boost::test_tools::tolerance(1e-6f));
    BOOST_CHECK_THROW(y.backward(Tensor<float, 1>({4}, 1.0f)), std::logic_error);
    Variable<float, 1> leaf_without_grad(distinct<float, 1>({2}));
    BOOST_CHECK_THROW(leaf_without_grad.backward(), std::logic_error);
    Variable<float, 1> w = exp(x);
    BOOST_CHECK_THROW(w.backward(), shape_error); // not a scalar
}

BOOST_AUTO_TEST_CASE(gradients_with_respect_to_inputs_and_detach) {
    // Guidance needs d(output)/d(input): the input is just another Variable.
    Variable<double, 1> input(distinct<double, 1>({5}), true);
    Variable<double, 1> weight(distinct<double, 1>({5}, 1.0), false);
    Variable<double, 1> out = tanh(input * weight);
    out.backward(Tensor<double, 1>({5}, 1.0));
    BOOST_TEST(input.has_grad());
    BOOST_TEST(!weight.has_grad());
    const auto d = input.detach();
    BOOST_TEST(!d.requires_grad());
    BOOST_TEST(d.value()(2) == input.value()(2));
}

BOOST_AUTO_TEST_SUITE_END()
