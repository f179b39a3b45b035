#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/activation.hpp>

#include "golden.hpp"
#include "test_util.hpp"

using namespace cinediff;
using namespace cinediff::nn;
using autograd::Variable;
using cinediff::test::distinct;
using cinediff::test::golden_file;

namespace {

const golden_file& activation_golden() {
    static const golden_file f("nn/activation.safetensors");
    return f;
}

template <class T, std::size_t R>
Tensor<T, R> get(const std::string& c, const std::string& name) {
    return activation_golden().get<T, R>(c + "." + name);
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

template <class T, std::size_t R>
Variable<T, R> apply_op(const Variable<T, R>& x, const nlohmann::json& a) {
    const std::string op = a.at("op").get<std::string>();
    if (op == "relu") {
        return functional::relu(x);
    }
    if (op == "leaky_relu") {
        return functional::leaky_relu(x, a.at("negative_slope").get<double>());
    }
    if (op == "silu") {
        return functional::silu(x);
    }
    if (op == "gelu") {
        return functional::gelu(x, a.at("approximate").get<std::string>());
    }
    if (op == "sigmoid") {
        return functional::sigmoid(x);
    }
    if (op == "tanh") {
        return functional::tanh(x);
    }
    if (op == "softplus") {
        return functional::softplus(x, a.at("beta").get<double>(), a.at("threshold").get<double>());
    }
    if (op == "softmax") {
        return functional::softmax(x, a.at("dim").get<index_t>());
    }
    if (op == "log_softmax") {
        return functional::log_softmax(x, a.at("dim").get<index_t>());
    }
    throw std::runtime_error("unknown op " + op);
}

// The same on plain tensors (the graph-free sampling path); element-wise ones must agree bitwise.
template <class T, std::size_t R>
std::optional<Tensor<T, R>> apply_kernel(const Tensor<T, R>& x, const nlohmann::json& a) {
    const std::string op = a.at("op").get<std::string>();
    if (op == "relu") {
        return Tensor<T, R>(kernels::relu(x));
    }
    if (op == "leaky_relu") {
        return Tensor<T, R>(kernels::leaky_relu(x, a.at("negative_slope").get<double>()));
    }
    if (op == "silu") {
        return Tensor<T, R>(kernels::silu(x));
    }
    if (op == "gelu") {
        if (a.at("approximate").get<std::string>() == "tanh") {
            return Tensor<T, R>(kernels::gelu_tanh(x));
        }
        return Tensor<T, R>(kernels::gelu(x));
    }
    if (op == "softplus") {
        return Tensor<T, R>(
            kernels::softplus(x, a.at("beta").get<double>(), a.at("threshold").get<double>()));
    }
    if (op == "softmax") {
        return kernels::softmax_forward(x, a.at("dim").get<index_t>());
    }
    if (op == "log_softmax") {
        return kernels::log_softmax_forward(x, a.at("dim").get<index_t>());
    }
    return std::nullopt;
}

template <class T, std::size_t R>
void run_case(const std::string& c, const nlohmann::json& a) {
    Variable<T, R> x(get<T, R>(c, "input"), true);
    auto y = apply_op(x, a);
    check(y.value(), c, "output");
    if (const auto k = apply_kernel(x.value(), a)) {
        BOOST_TEST(cinediff::test::max_abs_diff(*k, y.value()) == 0.0);
    }
    y.backward(get<T, R>(c, "grad_output"));
    check(x.grad(), c, "grad_input");
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
    default:
        BOOST_FAIL("unexpected rank in case " << c);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_activation)

BOOST_AUTO_TEST_CASE(golden_against_torch) {
    const auto& f = activation_golden();
    int count = 0;
    for (const auto& c : f.cases()) {
        if (!c.starts_with("act") && !c.starts_with("softmax")) {
            continue; // embedding and timestep cases: embedding_test.cpp
        }
        ++count;
        BOOST_TEST_CONTEXT(c) {
            const auto attrs = nlohmann::json::parse(f.metadata(c));
            if (c.ends_with("_f32")) {
                run_case_of_rank<float>(c, attrs);
            } else {
                run_case_of_rank<double>(c, attrs);
            }
        }
    }
    BOOST_TEST(count == 34);
}

BOOST_AUTO_TEST_CASE(gradcheck_every_activation) {
    using V = Variable<double, 2>;
    // Values away from the kinks (0 for relu, the softplus threshold) where finite differences fail.
    Tensor<double, 2> values = distinct<double, 2>({3, 5}, 0.3, 3.0);
    for (index_t i = 0; i < values.size(); ++i) {
        if (std::abs(values.data()[i]) < 0.05) {
            values.data()[i] = 0.3;
        }
    }
    const V x(values, true);
    auto check_fn = [&](const char* name, auto fn) {
        const auto r = autograd::gradcheck(fn, std::make_tuple(x));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check_fn("relu", [](const V& v) { return functional::relu(v); });
    check_fn("leaky_relu", [](const V& v) { return functional::leaky_relu(v, 0.1); });
    check_fn("silu", [](const V& v) { return functional::silu(v); });
    check_fn("gelu", [](const V& v) { return functional::gelu(v); });
    check_fn("gelu_tanh", [](const V& v) { return functional::gelu(v, "tanh"); });
    check_fn("sigmoid", [](const V& v) { return functional::sigmoid(v); });
    check_fn("tanh", [](const V& v) { return functional::tanh(v); });
    check_fn("softplus", [](const V& v) { return functional::softplus(v, 2.0, 4.0); });
    check_fn("softmax_last", [](const V& v) { return functional::softmax(v, -1); });
    check_fn("softmax_first", [](const V& v) { return functional::softmax(v, 0); });
    check_fn("log_softmax", [](const V& v) { return functional::log_softmax(v, 1); });
    check_fn("log_softmax_first", [](const V& v) { return functional::log_softmax(v, 0); });
}

BOOST_AUTO_TEST_CASE(torch_gradient_conventions_at_kinks_and_extremes) {
    Variable<float, 1> x(Tensor<float, 1>({5}, {0.0f, -200.0f, 200.0f, -1.0f, 1.0f}), true);
    auto r = functional::relu(x);
    r.backward(Tensor<float, 1>({5}, 1.0f));
    BOOST_TEST(x.grad()(0) == 0.0f); // relu'(0) = 0
    x.zero_grad();
    auto l = functional::leaky_relu(x, 0.2);
    l.backward(Tensor<float, 1>({5}, 1.0f));
    BOOST_TEST(x.grad()(0) == 0.2f);
    x.zero_grad();
    // sigmoid and silu: finite values and gradients far in both tails.
    auto s = functional::silu(x);
    s.backward(Tensor<float, 1>({5}, 1.0f));
    for (index_t i = 0; i < 5; ++i) {
        BOOST_TEST(std::isfinite(s.value()(i)));
        BOOST_TEST(std::isfinite(x.grad()(i)));
    }
    BOOST_TEST(x.grad()(1) == 0.0f);
    BOOST_TEST(x.grad()(2) == 1.0f);
    x.zero_grad();
    auto p = functional::softplus(x);
    p.backward(Tensor<float, 1>({5}, 1.0f));
    BOOST_TEST(p.value()(2) == 200.0f);
    BOOST_TEST(x.grad()(2) == 1.0f);
    BOOST_TEST(std::isfinite(x.grad()(1)));
}

BOOST_AUTO_TEST_CASE(bad_arguments) {
    Variable<float, 2> x(distinct<float, 2>({2, 3}), true);
    BOOST_CHECK_THROW(functional::gelu(x, "fast"), std::invalid_argument);
    BOOST_CHECK_THROW(functional::softmax(x, 2), shape_error);
    BOOST_CHECK_THROW(functional::log_softmax(x, -3), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
