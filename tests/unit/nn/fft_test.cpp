#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/fft.hpp>

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
    const std::string op = m.at("op");
    const F::fft_options o{.norm = m.at("norm").get<std::string>()};
    Variable<T, R> x(g.get<T, R>(c + ".input"), true);
    auto check = [&](auto y) {
        constexpr std::size_t Out = decltype(y)::rank;
        const auto ref = g.get<T, Out>(c + ".output");
        test::check_close(y.value(), ref, c + ".output");
        y.backward(g.get<T, Out>(c + ".grad_output"));
        const auto ref_grad = g.get<T, R>(c + ".grad_input");
        test::check_close(x.grad(), ref_grad, c + ".grad_input");
        worst = std::max({worst, test::max_abs_diff(y.value(), ref), test::max_abs_diff(x.grad(), ref_grad)});
    };
    if (op == "fft2") {
        check(F::fft2(x, o));
    } else if constexpr (R >= 3) {
        check(op == "ifft2" ? F::ifft2(x, o) : F::fft2_complex(x, o));
    }
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
    case 5:
        golden_case<T, 5>(g, c, m, worst);
        break;
    default:
        BOOST_FAIL("unexpected rank");
    }
}

auto message_has(const std::string& text) {
    return [text](const std::exception& e) { return std::string(e.what()).find(text) != std::string::npos; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_fft)

BOOST_AUTO_TEST_CASE(golden_fft2_and_ifft2_match_torch) {
    const test::golden_file g("nn/resample.safetensors");
    double worst32 = 0, worst64 = 0;
    int count = 0;
    for (const auto& c : g.cases()) {
        const json m = json::parse(g.metadata(c));
        const std::string op = m.at("op");
        if (op != "fft2" && op != "ifft2" && op != "fft2_complex") {
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
    BOOST_TEST(count == 16);
    BOOST_TEST_MESSAGE("fft2/ifft2 vs torch: max |error| float32 " << worst32 << ", float64 " << worst64);
}

BOOST_AUTO_TEST_CASE(ifft2_inverts_fft2) {
    Variable<double, 3> x(test::distinct<double, 3>({2, 6, 10}));
    for (const char* norm : {"backward", "ortho", "forward"}) {
        const auto back = F::ifft2(F::fft2(x, {.norm = norm}), {.norm = norm});
        for (index_t i = 0; i < x.size(); ++i) {
            BOOST_TEST(std::abs(back.value().data()[2 * i] - x.value().data()[i]) < 1e-13);
            BOOST_TEST(std::abs(back.value().data()[2 * i + 1]) < 1e-13);
        }
    }
}

BOOST_AUTO_TEST_CASE(gradcheck_fft) {
    Variable<double, 3> x(test::distinct<double, 3>({2, 3, 5}), true);
    Variable<double, 4> z(test::distinct<double, 4>({1, 4, 3, 2}, 0.5), true);
    for (const std::string norm : {"backward", "ortho", "forward"}) {
        BOOST_TEST_CONTEXT(norm) {
            const F::fft_options o{.norm = norm};
            auto r = autograd::gradcheck([&](const auto& v) { return F::fft2(v, o); }, std::make_tuple(x));
            BOOST_TEST(r.ok, r.message);
            r = autograd::gradcheck([&](const auto& v) { return F::ifft2(v, o); }, std::make_tuple(z));
            BOOST_TEST(r.ok, r.message);
            r = autograd::gradcheck([&](const auto& v) { return F::fft2_complex(v, o); }, std::make_tuple(z));
            BOOST_TEST(r.ok, r.message);
        }
    }
}

BOOST_AUTO_TEST_CASE(fft_is_identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 4> input = test::distinct<float, 4>({2, 8, 24, 20});
    const Tensor<float, 5> gy = test::distinct<float, 5>({2, 8, 24, 20, 2}, 1.0);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 4> x(input, true);
        auto y = F::fft2(x, {.norm = "ortho"});
        y.backward(gy);
        return std::make_pair(Tensor<float, 5>(y.value()), Tensor<float, 4>(x.grad()));
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
    Variable<float, 3> x(Tensor<float, 3>({2, 4, 3}));
    BOOST_CHECK_EXCEPTION(F::ifft2(x), shape_error,
                          message_has("ifft2: expected a complex tensor as (..., H, W, 2)"));
    BOOST_CHECK_EXCEPTION(F::fft2(x, {.norm = "unitary"}), std::invalid_argument,
                          message_has("fft2: invalid normalization mode 'unitary'"));
}

BOOST_AUTO_TEST_SUITE_END()
