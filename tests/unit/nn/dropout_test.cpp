#include <boost/test/unit_test.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/dropout.hpp>

#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
using namespace cinediff::nn::functional;
using autograd::Variable;
using cinediff::test::distinct;

BOOST_AUTO_TEST_SUITE(nn_dropout)

BOOST_AUTO_TEST_CASE(keeps_one_minus_p_and_scales_by_its_inverse) {
    const index_t n = 200000;
    for (const double p : {0.1, 0.5, 0.8}) {
        Variable<float, 1> x(Tensor<float, 1>({n}, 1.5f), true);
        philox_generator gen(42);
        auto y = dropout(x, gen, p);
        const float scale = 1.0f / static_cast<float>(1.0 - p);
        index_t kept = 0;
        bool only_two_values = true;
        for (index_t i = 0; i < n; ++i) {
            const float v = y.value()(i);
            kept += v != 0.0f;
            only_two_values = only_two_values && (v == 0.0f || v == 1.5f * scale);
        }
        BOOST_TEST(only_two_values);
        // Binomial(n, 1 - p): 5 standard deviations.
        const double expected = static_cast<double>(n) * (1 - p);
        BOOST_TEST(std::abs(static_cast<double>(kept) - expected) < 5 * std::sqrt(expected * p), "p " << p);
        // Mean is preserved in expectation.
        double sum = 0;
        for (index_t i = 0; i < n; ++i) {
            sum += y.value()(i);
        }
        BOOST_TEST(std::abs(sum / static_cast<double>(n) - 1.5) < 0.02);
        // The generator moved past the ceil(n / 4) Philox blocks of the mask.
        BOOST_TEST(gen.offset() == static_cast<std::uint64_t>((n + 3) / 4));
    }
}

BOOST_AUTO_TEST_CASE(gradient_is_the_scaled_mask) {
    Variable<double, 2> x(distinct<double, 2>({30, 40}, 0.2), true);
    philox_generator gen(7);
    auto y = dropout(x, gen, 0.3);
    const auto gy = distinct<double, 2>({30, 40}, 1.1);
    y.backward(gy);
    const double scale = 1.0 / 0.7;
    for (index_t i = 0; i < x.size(); ++i) {
        const bool kept = y.value().data()[i] != 0.0;
        BOOST_TEST(x.grad().data()[i] == (kept ? gy.data()[i] * scale : 0.0));
        BOOST_TEST(y.value().data()[i] == (kept ? x.value().data()[i] * scale : 0.0));
    }
    const auto r = autograd::gradcheck(
        [](const Variable<double, 2>& v) {
            philox_generator g(7); // the same mask at every evaluation
            return dropout(v, g, 0.3);
        },
        std::make_tuple(x));
    BOOST_TEST(r.ok, r.message);
}

BOOST_AUTO_TEST_CASE(deterministic_for_seed_and_thread_count) {
    const Variable<float, 3> x(distinct<float, 3>({8, 64, 128}), false);
    auto run = [&]([[maybe_unused]] int threads, std::uint64_t seed) {
#if defined(_OPENMP)
        omp_set_num_threads(threads);
#endif
        philox_generator gen(seed, 3);
        auto y = dropout(x, gen, 0.25);
#if defined(_OPENMP)
        omp_set_num_threads(2);
#endif
        return Tensor<float, 3>(y.value());
    };
    const auto a = run(1, 11);
    BOOST_TEST(cinediff::test::max_abs_diff(a, run(2, 11)) == 0.0);
    BOOST_TEST(cinediff::test::max_abs_diff(a, run(2, 12)) > 0.0);
    // Consecutive calls draw fresh masks.
    philox_generator gen(11, 3);
    const Tensor<float, 3> first = dropout(x, gen, 0.25).value();
    const Tensor<float, 3> second = dropout(x, gen, 0.25).value();
    BOOST_TEST(cinediff::test::max_abs_diff(first, a) == 0.0);
    BOOST_TEST(cinediff::test::max_abs_diff(first, second) > 0.0);
}

BOOST_AUTO_TEST_CASE(evaluation_p_zero_p_one_and_bad_p) {
    Variable<float, 1> x(distinct<float, 1>({100}), true);
    philox_generator gen(1);
    const auto eval = dropout(x, gen, 0.5, false);
    BOOST_TEST(eval.data() == x.data()); // the input itself, as in PyTorch
    BOOST_TEST(gen.offset() == 0u);
    BOOST_TEST(dropout(x, gen, 0.0).data() == x.data());
    auto zero = dropout(x, gen, 1.0);
    BOOST_TEST(cinediff::test::max_abs_diff(zero.value(), Tensor<float, 1>({100})) == 0.0);
    BOOST_CHECK_THROW(dropout(x, gen, 1.5), std::invalid_argument);
    BOOST_CHECK_THROW(dropout(x, gen, -0.1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
