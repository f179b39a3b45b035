#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/shape.hpp>

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

struct worst_error {
    double f32 = 0, f64 = 0;
    template <class T, std::size_t R>
    void check(const Tensor<T, R>& got, const Tensor<T, R>& ref, const std::string& what) {
        test::check_close(got, ref, what);
        double& w = std::is_same_v<T, float> ? f32 : f64;
        w = std::max(w, test::max_abs_diff(got, ref));
    }
};

template <class T, std::size_t R>
std::vector<Variable<T, R>> inputs_of(const test::golden_file& g, const std::string& c, const json& m) {
    std::vector<Variable<T, R>> xs;
    for (int k = 0; k < m.at("inputs").get<int>(); ++k) {
        xs.emplace_back(g.get<T, R>(c + ".input" + std::to_string(k)), true);
    }
    return xs;
}

// Backward from every output with its grad_output, then compare outputs and input gradients.
template <class T, std::size_t R, class Out>
void finish(const test::golden_file& g, const std::string& c, const std::vector<Variable<T, R>>& xs,
            const std::vector<Out>& ys, worst_error& err) {
    BOOST_REQUIRE(ys.size() == static_cast<std::size_t>(json::parse(g.metadata(c)).at("outputs").get<int>()));
    constexpr std::size_t OR = Out::rank;
    for (std::size_t k = 0; k < ys.size(); ++k) {
        err.check(ys[k].value(), g.get<T, OR>(c + ".output" + std::to_string(k)),
                  c + ".output" + std::to_string(k));
        ys[k].data()->grad.reset();
    }
    for (std::size_t k = 0; k < ys.size(); ++k) {
        auto y = ys[k];
        y.backward(g.get<T, OR>(c + ".grad_output" + std::to_string(k)));
    }
    for (std::size_t k = 0; k < xs.size(); ++k) {
        err.check(xs[k].grad(), g.get<T, R>(c + ".grad_input" + std::to_string(k)),
                  c + ".grad_input" + std::to_string(k));
    }
}

template <class T, std::size_t R>
void golden_case(const test::golden_file& g, const std::string& c, const json& m, worst_error& err) {
    const std::string op = m.at("op");
    const auto xs = inputs_of<T, R>(g, c, m);
    if (op == "cat") {
        finish(g, c, xs, std::vector{F::cat(xs, m.at("dim").get<index_t>())}, err);
    } else if (op == "stack") {
        finish(g, c, xs, std::vector{F::stack(xs, m.at("dim").get<index_t>())}, err);
    } else if (op == "split") {
        const auto dim = m.at("dim").get<index_t>();
        finish(g, c, xs,
               m.contains("sections") ? F::split(xs[0], m.at("sections").get<std::vector<index_t>>(), dim)
                                      : F::split(xs[0], m.at("split_size").get<index_t>(), dim),
               err);
    } else if (op == "chunk") {
        finish(g, c, xs, F::chunk(xs[0], m.at("chunks").get<index_t>(), m.at("dim").get<index_t>()), err);
    } else if (op == "index_select") {
        const auto index = g.get<std::int64_t, 1>(c + ".index");
        finish(g, c, xs, std::vector{F::index_select(xs[0], m.at("dim").get<index_t>(), index)}, err);
    } else if (op == "gather") {
        const auto index = g.get<std::int64_t, R>(c + ".index");
        finish(g, c, xs, std::vector{F::gather(xs[0], m.at("dim").get<index_t>(), index)}, err);
    } else if (op == "cumsum") {
        finish(g, c, xs, std::vector{F::cumsum(xs[0], m.at("dim").get<index_t>())}, err);
    } else if (op == "logsumexp") {
        if (m.at("keepdim").get<bool>()) {
            finish(g, c, xs, std::vector{F::logsumexp(xs[0], m.at("dim").get<index_t>(), keep_dims)}, err);
        } else {
            finish(g, c, xs, std::vector{F::logsumexp(xs[0], m.at("dim").get<index_t>())}, err);
        }
    } else {
        BOOST_FAIL("unknown op " << op);
    }
}

template <class T>
void golden_rank(const test::golden_file& g, const std::string& c, const json& m, worst_error& err) {
    if (m.at("rank").get<int>() == 2) {
        golden_case<T, 2>(g, c, m, err);
    } else {
        golden_case<T, 3>(g, c, m, err);
    }
}

auto message_has(const std::string& text) {
    return [text](const std::exception& e) { return std::string(e.what()).find(text) != std::string::npos; };
}

template <std::size_t R>
Variable<double, R> var(const shape_t<R>& shape, double seed) {
    return Variable<double, R>(test::distinct<double, R>(shape, seed), true);
}

template <class F, class... V>
void gradcheck_ok(const char* name, F&& f, V... vars) {
    const auto r = autograd::gradcheck(std::forward<F>(f), std::make_tuple(vars...));
    BOOST_TEST_CONTEXT(name) {
        BOOST_TEST(r.ok, r.message);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_shape)

BOOST_AUTO_TEST_CASE(golden_shape_ops_match_torch) {
    const test::golden_file g("nn/shape.safetensors");
    worst_error err;
    int count = 0;
    for (const auto& c : g.cases()) {
        const json m = json::parse(g.metadata(c));
        BOOST_TEST_CONTEXT(c) {
            if (m.at("dtype") == "float32") {
                golden_rank<float>(g, c, m, err);
            } else {
                golden_rank<double>(g, c, m, err);
            }
        }
        ++count;
    }
    BOOST_TEST(count == 32);
    BOOST_TEST_MESSAGE("shape ops vs torch: max |error| float32 " << err.f32 << ", float64 " << err.f64);
}

BOOST_AUTO_TEST_CASE(gradcheck_shape_ops) {
    auto a = var<3>({2, 3, 4}, 0.1), b = var<3>({2, 2, 4}, 0.7), c = var<3>({2, 3, 4}, 1.3);
    gradcheck_ok(
        "cat",
        [](const auto& x, const auto& y) {
            return F::cat(std::vector{x, y, x}, 1);
        },
        a, b);
    gradcheck_ok(
        "stack",
        [](const auto& x, const auto& y) {
            return F::stack(std::vector{x, y}, -1);
        },
        a, c);
    gradcheck_ok(
        "split",
        [](const auto& x) {
            auto parts = F::split(x, std::vector<index_t>{1, 3}, 2);
            return F::cat(std::vector{parts[1], Variable<double, 3>(parts[0] * 2.0)}, 2);
        },
        a);
    gradcheck_ok(
        "chunk",
        [](const auto& x) {
            auto parts = F::chunk(x, 2, 1); // sizes 2, 1
            return F::cat(std::vector{Variable<double, 3>(parts[1] * 3.0), parts[0]}, 1);
        },
        a);
    const Tensor<std::int64_t, 1> idx({5}, {3, 0, 3, 1, 3});
    gradcheck_ok(
        "index_select", [&](const auto& x) { return F::index_select(x, 2, idx); }, a);
    Tensor<std::int64_t, 3> gidx({2, 2, 3});
    for (index_t i = 0; i < gidx.size(); ++i) {
        gidx.data()[i] = (i * 5) % 4;
    }
    gradcheck_ok(
        "gather_last", [&](const auto& x) { return F::gather(x, -1, gidx); }, a);
    Tensor<std::int64_t, 3> gidx0({2, 3, 4});
    for (index_t i = 0; i < gidx0.size(); ++i) {
        gidx0.data()[i] = (i * 3) % 2;
    }
    gradcheck_ok(
        "gather_0", [&](const auto& x) { return F::gather(x, 0, gidx0); }, a);
    gradcheck_ok(
        "cumsum", [](const auto& x) { return F::cumsum(x, 1); }, a);
    gradcheck_ok(
        "logsumexp", [](const auto& x) { return F::logsumexp(x, 2); }, a);
    gradcheck_ok(
        "logsumexp_keep", [](const auto& x) { return F::logsumexp(x, 0, keep_dims); }, a);
}

BOOST_AUTO_TEST_CASE(gather_backward_is_identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 3> input = test::distinct<float, 3>({8, 64, 128});
    Tensor<std::int64_t, 3> index({8, 64, 96});
    for (index_t i = 0; i < index.size(); ++i) {
        index.data()[i] = (i * 7919) % 128;
    }
    const Tensor<float, 3> gy = test::distinct<float, 3>({8, 64, 96}, 1.0);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 3> x(input, true);
        auto y = F::gather(x, 2, index);
        auto z = F::cumsum(x, 1);
        y.backward(gy);
        z.backward(input);
        return std::make_pair(Tensor<float, 3>(y.value()), Tensor<float, 3>(x.grad()));
    };
    const int saved = omp_get_max_threads();
    const auto one = run(1);
    const auto two = run(2);
    omp_set_num_threads(saved);
    BOOST_TEST(test::max_abs_diff(one.first, two.first) == 0.0);
    BOOST_TEST(test::max_abs_diff(one.second, two.second) == 0.0);
#endif
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_explained) {
    Variable<float, 2> x(Tensor<float, 2>({3, 4})), y(Tensor<float, 2>({2, 5}));
    BOOST_CHECK_EXCEPTION(F::cat(std::vector{x, y}, 0), shape_error,
                          message_has("cat: sizes of tensors must match except in dimension 0"));
    BOOST_CHECK_EXCEPTION(F::stack(std::vector{x, y}), shape_error,
                          message_has("stack: expects each tensor"));
    BOOST_CHECK_EXCEPTION(F::cat(std::vector<Variable<float, 2>>{}), std::invalid_argument,
                          message_has("cat: expected a non-empty list"));
    BOOST_CHECK_EXCEPTION(F::split(x, std::vector<index_t>{1, 1}, 1), shape_error, message_has("sum to 2"));
    BOOST_CHECK_EXCEPTION(F::index_select(x, 1, Tensor<std::int64_t, 1>({1}, {4})), shape_error,
                          message_has("index_select: index 4 is out of range for dimension 1 of size 4"));
    BOOST_CHECK_EXCEPTION(F::gather(x, 0, Tensor<std::int64_t, 2>({1, 1}, {-1})), shape_error,
                          message_has("gather: index -1 is out of bounds for dimension 0 with size 3"));
    BOOST_CHECK_EXCEPTION(F::cumsum(x, 2), shape_error, message_has("cumsum: axis 2 is out of range"));
}

BOOST_AUTO_TEST_SUITE_END()
