// Summation order of the reductions (docs/numerics.md, "Summation order") on contiguous, merged
// and strided inputs: the documented lane order exactly, close to a naive sum, and independent of
// the thread count.
#include <bit>
#include <cmath>
#include <cstdint>
#include <omp.h>

#include <boost/test/unit_test.hpp>

#include <cinediff/backend/lane_sum.hpp>
#include <cinediff/tensor/reduce.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

namespace {

template <class F>
auto with_threads(int threads, F&& f) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto result = f();
    omp_set_num_threads(saved);
    return result;
}

template <class T, std::size_t R>
bool bitwise_equal(const Tensor<T, R>& a, const Tensor<T, R>& b) {
    bool same = a.shape() == b.shape();
    for (index_t i = 0; same && i < a.size(); ++i) {
        same = std::bit_cast<std::uint32_t>(a.data()[i]) == std::bit_cast<std::uint32_t>(b.data()[i]);
    }
    return same;
}

} // namespace

BOOST_AUTO_TEST_SUITE(reduction_order)

BOOST_AUTO_TEST_CASE(trailing_axes_merge_into_one_lane_ordered_run) {
    // sum over (T, H, W) of a contiguous (N, C, T, H, W) tensor: one run of T*H*W per output.
    const auto x = distinct<float, 5>({2, 3, 4, 5, 7}, 0.2, 10.0);
    const auto s = sum(x, {2, 3, 4});
    const auto m = mean(x, {2, 3, 4});
    for (index_t o = 0; o < 6; ++o) {
        backend::lane_accumulator<double> acc;
        const float* p = x.data() + o * 140;
        acc.add(140, [p](index_t j) { return static_cast<double>(p[j]); });
        BOOST_TEST(s.data()[o] == static_cast<float>(acc.total()));
        BOOST_TEST(m.data()[o] == static_cast<float>(acc.total() / 140.0));
    }
}

BOOST_AUTO_TEST_CASE(strided_inputs_match_naive_sums) {
    const auto x = distinct<double, 4>({6, 5, 40, 3}, 0.7, 4.0);
    // Permuted (inner stride 120), a stepped view, and reductions over non-adjacent axes.
    const auto xp = x.view().permute({3, 1, 0, 2}); // (3, 5, 6, 40)
    const TensorView<const double, 3> stepped(x.data() + 1, {6, 5, 20}, {600, 120, 6});
    const auto s1 = sum(xp, {2, 3});
    const auto v1 = var(xp, {0, 2});
    const auto s2 = sum(stepped, {0, 2});
    const auto m2 = mean(stepped, {1});
    for_each_index(s1.shape(), [&](const shape_t<2>& i) {
        double naive = 0, magnitude = 0;
        for (index_t a = 0; a < 6; ++a) {
            for (index_t b = 0; b < 40; ++b) {
                naive += xp(i[0], i[1], a, b);
                magnitude += std::abs(xp(i[0], i[1], a, b));
            }
        }
        BOOST_TEST(std::abs(element(s1, i) - naive) <= 1e-14 * magnitude);
    });
    for_each_index(v1.shape(), [&](const shape_t<2>& i) {
        double s = 0, ss = 0;
        for (index_t a = 0; a < 3; ++a) {
            for (index_t b = 0; b < 6; ++b) {
                s += xp(a, i[0], b, i[1]);
            }
        }
        const double mu = s / 18.0;
        for (index_t a = 0; a < 3; ++a) {
            for (index_t b = 0; b < 6; ++b) {
                ss += (xp(a, i[0], b, i[1]) - mu) * (xp(a, i[0], b, i[1]) - mu);
            }
        }
        BOOST_TEST(element(v1, i) == ss / 17.0, boost::test_tools::tolerance(1e-12));
    });
    for (index_t j = 0; j < 5; ++j) {
        double naive = 0, magnitude = 0;
        for (index_t a = 0; a < 6; ++a) {
            for (index_t b = 0; b < 20; ++b) {
                naive += stepped(a, j, b);
                magnitude += std::abs(stepped(a, j, b));
            }
        }
        BOOST_TEST(std::abs(s2(j) - naive) <= 1e-14 * magnitude);
    }
    for_each_index(m2.shape(), [&](const shape_t<2>& i) {
        double naive = 0;
        for (index_t b = 0; b < 5; ++b) {
            naive += stepped(i[0], b, i[1]);
        }
        BOOST_TEST(element(m2, i) == naive / 5.0, boost::test_tools::tolerance(1e-12));
    });
    // Integer sums stay exact on strided input.
    Tensor<std::int32_t, 2> n({7, 300});
    for (index_t i = 0; i < n.size(); ++i) {
        n.data()[i] = static_cast<std::int32_t>(i * 7919 % 1000) - 500;
    }
    const auto ns = sum(n.view().transpose(0, 1), {1});
    for (index_t j = 0; j < 300; ++j) {
        std::int64_t naive = 0;
        for (index_t i = 0; i < 7; ++i) {
            naive += n(i, j);
        }
        BOOST_TEST(ns(j) == naive);
    }
}

BOOST_AUTO_TEST_CASE(lane_order_does_not_depend_on_thread_count) {
    const auto x = distinct<float, 4>({16, 8, 32, 33}, 0.1, 7.0);
    const auto xt = x.view().transpose(1, 3); // strided runs
    const auto run = [&] {
        return std::make_tuple(sum(x, {2, 3}), mean(xt, {0, 2}), var(x, {1, 3}), sum(x), mean(xt));
    };
    const auto one = with_threads(1, run);
    const auto two = with_threads(2, run);
    const auto three = with_threads(3, run);
    BOOST_TEST(bitwise_equal(std::get<0>(one), std::get<0>(two)));
    BOOST_TEST(bitwise_equal(std::get<1>(one), std::get<1>(two)));
    BOOST_TEST(bitwise_equal(std::get<2>(one), std::get<2>(three)));
    BOOST_TEST(std::bit_cast<std::uint32_t>(std::get<3>(one)) ==
               std::bit_cast<std::uint32_t>(std::get<3>(three)));
    BOOST_TEST(std::bit_cast<std::uint32_t>(std::get<4>(one)) ==
               std::bit_cast<std::uint32_t>(std::get<4>(two)));
}

BOOST_AUTO_TEST_CASE(cumsum_adds_each_line_in_order) {
    // Axis 1 of a contiguous (3, 50, 70) tensor: lines are scanned side by side in column blocks;
    // each line must still be the sequential double sum. Also a strided input (fallback loop).
    const auto x = distinct<float, 3>({3, 50, 70}, 0.3, 9.0);
    const auto xt = x.view().permute({0, 2, 1}); // (3, 70, 50), last axis not contiguous
    const auto c = with_threads(2, [&] { return cumsum(x, 1); });
    const auto ct = cumsum(xt, 2);
    bool same = true;
    for (index_t i = 0; i < 3; ++i) {
        for (index_t k = 0; k < 70; ++k) {
            double acc = 0;
            for (index_t j = 0; j < 50; ++j) {
                acc += static_cast<double>(x(i, j, k));
                same =
                    same && c(i, j, k) == static_cast<float>(acc) && ct(i, k, j) == static_cast<float>(acc);
            }
        }
    }
    BOOST_TEST(same);
    BOOST_TEST(bitwise_equal(c, with_threads(1, [&] { return cumsum(x, 1); })));
}

BOOST_AUTO_TEST_SUITE_END()
