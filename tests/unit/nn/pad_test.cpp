#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/pad.hpp>

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

template <class T, std::size_t R>
void golden_case(const test::golden_file& g, const std::string& c, const json& m, double& worst) {
    Variable<T, R> x(g.get<T, R>(c + ".input"), true);
    auto y = F::pad(x, m.at("pad").get<std::vector<index_t>>(),
                    {.mode = m.at("mode").get<std::string>(), .value = m.at("value").get<double>()});
    const auto ref = g.get<T, R>(c + ".output");
    test::check_close(y.value(), ref, c + ".output");
    y.backward(g.get<T, R>(c + ".grad_output"));
    const auto ref_grad = g.get<T, R>(c + ".grad_input");
    test::check_close(x.grad(), ref_grad, c + ".grad_input");
    worst = std::max({worst, test::max_abs_diff(y.value(), ref), test::max_abs_diff(x.grad(), ref_grad)});
}

template <class T>
void golden_rank(const test::golden_file& g, const std::string& c, const json& m, double& worst) {
    switch (m.at("rank").get<int>()) {
    case 3:
        golden_case<T, 3>(g, c, m, worst);
        break;
    case 4:
        golden_case<T, 4>(g, c, m, worst);
        break;
    default:
        golden_case<T, 5>(g, c, m, worst);
        break;
    }
}

auto message_has(const std::string& text) {
    return [text](const std::exception& e) { return std::string(e.what()).find(text) != std::string::npos; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_pad)

BOOST_AUTO_TEST_CASE(golden_pad_matches_torch) {
    const test::golden_file g("nn/resample.safetensors");
    double worst32 = 0, worst64 = 0;
    int count = 0;
    for (const auto& c : g.cases()) {
        const json m = json::parse(g.metadata(c));
        if (m.at("op") != "pad") {
            continue;
        }
        BOOST_TEST_CONTEXT(c) {
            if (m.at("dtype") == "float32") {
                golden_rank<float>(g, c, m, worst32);
            } else {
                golden_rank<double>(g, c, m, worst64);
            }
        }
        ++count;
    }
    BOOST_TEST(count == 22);
    BOOST_TEST_MESSAGE("pad vs torch: max |error| float32 " << worst32 << ", float64 " << worst64);
}

BOOST_AUTO_TEST_CASE(gradcheck_pad) {
    Variable<double, 4> x(test::distinct<double, 4>({1, 2, 4, 5}), true);
    auto check = [&](const char* name, std::vector<index_t> p, F::pad_options o) {
        const auto r =
            autograd::gradcheck([&](const auto& v) { return F::pad(v, p, o); }, std::make_tuple(x));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check("constant", {1, 2, -1, 1}, {.value = 0.25});
    check("reflect", {3, 2, 1, 3}, {.mode = "reflect"});
    check("replicate", {4, 1, 0, 5}, {.mode = "replicate"});
    check("circular", {2, 5, 4, 1}, {.mode = "circular"});
    Variable<double, 3> x1(test::distinct<double, 3>({2, 3, 4}), true);
    const auto r = autograd::gradcheck(
        [](const auto& v) {
            return F::pad(v, {2, 2}, {.mode = "reflect"});
        },
        std::make_tuple(x1));
    BOOST_TEST(r.ok, r.message);
}

BOOST_AUTO_TEST_CASE(pad_is_identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 4> input = test::distinct<float, 4>({2, 8, 40, 40});
    const Tensor<float, 4> gy = test::distinct<float, 4>({2, 8, 47, 46}, 1.0);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 4> x(input, true);
        auto y = F::pad(x, {3, 3, 4, 3}, {.mode = "reflect"});
        y.backward(gy);
        return std::make_pair(Tensor<float, 4>(y.value()), Tensor<float, 4>(x.grad()));
    };
    const int saved = omp_get_max_threads();
    const auto one = run(1);
    const auto two = run(2);
    omp_set_num_threads(saved);
    BOOST_TEST(test::max_abs_diff(one.first, two.first) == 0.0);
    BOOST_TEST(test::max_abs_diff(one.second, two.second) == 0.0);
#endif
}

BOOST_AUTO_TEST_CASE(bad_pads_are_explained) {
    Variable<float, 4> x(Tensor<float, 4>({1, 1, 3, 4}));
    BOOST_CHECK_EXCEPTION(F::pad(x, {1, 2, 3}), shape_error, message_has("must have an even length"));
    BOOST_CHECK_EXCEPTION(F::pad(x, {1, 1, 3, 3}, {.mode = "reflect"}), shape_error,
                          message_has("padding size should be less than the corresponding input dimension"));
    BOOST_CHECK_EXCEPTION(F::pad(x, {1, 1}, {.mode = "wrap"}), std::invalid_argument,
                          message_has("mode 'wrap' is not supported"));
    BOOST_CHECK_EXCEPTION(F::pad(x, {1, 1, 1, 1, 1, 1, 1, 1}, {.mode = "replicate"}), shape_error,
                          message_has("replicate padding of 4 dimensions"));
    BOOST_CHECK_EXCEPTION(F::pad(x, {-3, -2}), shape_error, message_has("non-positive output size -1"));
    BOOST_CHECK_EXCEPTION(F::pad(x, {1, 1}, {.mode = "reflect", .value = 1.0}), std::invalid_argument,
                          message_has("doesn't take in value argument"));
}

BOOST_AUTO_TEST_SUITE_END()
