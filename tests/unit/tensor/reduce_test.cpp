#include <omp.h>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/reduce.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

BOOST_AUTO_TEST_SUITE(reductions)

BOOST_AUTO_TEST_CASE(sum_mean_max_min_over_axes_match_naive_loops) {
    const auto x = distinct<double, 4>({3, 4, 5, 6});
    const auto s = sum(x, {1, 3});
    const auto m = mean(x, {1, 3});
    const auto mx = max(x, {1, 3});
    const auto mn = min(x, {-1, 1});
    BOOST_TEST(s.shape() == (shape_t<2>{3, 5}));
    for (index_t a = 0; a < 3; ++a) {
        for (index_t c = 0; c < 5; ++c) {
            double acc = 0, hi = -1e300, lo = 1e300;
            for (index_t b = 0; b < 4; ++b) {
                for (index_t d = 0; d < 6; ++d) {
                    acc += x(a, b, c, d);
                    hi = std::max(hi, x(a, b, c, d));
                    lo = std::min(lo, x(a, b, c, d));
                }
            }
            BOOST_TEST(s(a, c) == acc, boost::test_tools::tolerance(1e-13));
            BOOST_TEST(m(a, c) == acc / 24.0, boost::test_tools::tolerance(1e-13));
            BOOST_TEST(mx(a, c) == hi);
            BOOST_TEST(mn(a, c) == lo);
        }
    }
    BOOST_CHECK_THROW(sum(x, {0, 0}), shape_error);
    BOOST_CHECK_THROW(sum(x, {4}), shape_error);
}

BOOST_AUTO_TEST_CASE(keep_dims_and_expressions_as_input) {
    const auto x = distinct<float, 3>({2, 3, 4});
    const auto k = sum(x * 2.0f, {2}, keep_dims);
    BOOST_TEST(k.shape() == (shape_t<3>{2, 3, 1}));
    // keep_dims results broadcast back: a centred tensor has zero mean along the axis.
    const Tensor<float, 3> centred = x - mean(x, {2}, keep_dims);
    const auto check = mean(centred, {2});
    for_each_index(check.shape(), [&](const auto& i) { BOOST_TEST(std::abs(element(check, i)) < 1e-6); });
    // Strided input.
    const auto t = sum(x.permute({2, 1, 0}), {0});
    BOOST_TEST(t(2, 1) == sum(x, {2})(1, 2), boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(variance_argmax_logsumexp) {
    Tensor<double, 2> x({2, 4}, {1, 2, 3, 4, 2, 2, 2, 2});
    const auto v = var(x, {1});
    BOOST_TEST(v(0) == 5.0 / 3.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(v(1) == 0.0);
    const auto v0 = var(x, {1}, keep_dims, 0);
    BOOST_TEST(v0(0, 0) == 1.25, boost::test_tools::tolerance(1e-14));

    Tensor<float, 2> y({2, 4}, {1, 7, 7, 3, -1, NAN, 5, NAN});
    const auto am = argmax(y, 1);
    BOOST_TEST(am(0) == 1); // first maximum
    BOOST_TEST(am(1) == 1); // first NaN
    const auto mx = max(y, {1});
    BOOST_TEST(std::isnan(mx(1)));

    Tensor<double, 2> z({2, 3}, {1000.0, 1000.0, 1000.0, -INFINITY, -INFINITY, -INFINITY});
    const auto lse = logsumexp(z, {1});
    BOOST_TEST(lse(0) == 1000.0 + std::log(3.0), boost::test_tools::tolerance(1e-14)); // no overflow
    BOOST_TEST(std::isinf(lse(1)));
    BOOST_TEST(lse(1) < 0);
}

BOOST_AUTO_TEST_CASE(full_reductions_and_integer_sums) {
    const auto x = distinct<float, 2>({300, 301});
    double expected = 0;
    for (index_t i = 0; i < x.size(); ++i) {
        expected += x.data()[i];
    }
    BOOST_TEST(sum(x) == expected, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(mean(x) == expected / x.size(), boost::test_tools::tolerance(1e-5));
    Tensor<std::int32_t, 1> i({4}, {1, 2, 3, 2147483647});
    const std::int64_t total = sum(i);
    BOOST_TEST(total == 2147483653LL); // integers sum in int64, like torch
    Tensor<bool, 1> mask({5}, {true, false, true, true, false});
    BOOST_TEST(sum(mask) == 3);
}

BOOST_AUTO_TEST_CASE(cumsum_along_any_axis) {
    const auto x = distinct<double, 3>({3, 4, 5});
    for (index_t axis = 0; axis < 3; ++axis) {
        const auto c = cumsum(x, axis);
        for_each_index(x.shape(), [&](const auto& i) {
            double acc = 0;
            auto j = i;
            for (index_t k = 0; k <= i[static_cast<std::size_t>(axis)]; ++k) {
                j[static_cast<std::size_t>(axis)] = k;
                acc += element(x, j);
            }
            BOOST_TEST(element(c, i) == acc, boost::test_tools::tolerance(1e-13));
        });
    }
    Tensor<std::int64_t, 1> n({4}, {1, 2, 3, 4});
    BOOST_TEST(cumsum(n, 0)(3) == 10);
}

BOOST_AUTO_TEST_CASE(reductions_do_not_depend_on_thread_count) {
    const auto x = distinct<float, 3>({128, 129, 17});
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const double s1 = sum(x);
    const auto a1 = mean(x, {0, 2});
    const auto c1 = cumsum(x, 1);
    omp_set_num_threads(2);
    const double s2 = sum(x);
    const auto a2 = mean(x, {0, 2});
    const auto c2 = cumsum(x, 1);
    omp_set_num_threads(saved);
    BOOST_TEST(s1 == s2);
    BOOST_TEST(std::memcmp(a1.data(), a2.data(), sizeof(float) * static_cast<std::size_t>(a1.size())) == 0);
    BOOST_TEST(std::memcmp(c1.data(), c2.data(), sizeof(float) * static_cast<std::size_t>(c1.size())) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
