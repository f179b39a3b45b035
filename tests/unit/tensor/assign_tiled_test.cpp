// The executor's broadcast / strided path (assign.hpp): axis merging and tiled evaluation must give
// exactly the per-element results of the same functors, for any thread count.
#include <bit>
#include <cstdint>
#include <cstring>
#include <omp.h>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/tensor.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

namespace {

template <class T, std::size_t R>
bool bitwise_equal(const Tensor<T, R>& a, const Tensor<T, R>& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(T)) == 0;
}

// Element of view `v` (rank r <= R) at the broadcast position of output index `idx`.
template <class V, std::size_t R>
auto at(const V& v, const shape_t<R>& idx) {
    constexpr std::size_t r = std::remove_cvref_t<decltype(v.shape())>().size();
    shape_t<r> sub{};
    for (std::size_t d = 0; d < r; ++d) {
        sub[d] = v.shape()[d] == 1 ? 0 : idx[R - r + d];
    }
    return element(v, sub);
}

template <class F>
auto with_threads(int threads, F&& f) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto result = f();
    omp_set_num_threads(saved);
    return result;
}

// The leaf strides of an expression's kernel tree merge with these trailing axes.
template <std::size_t R, class E>
std::size_t row_start(const E& e, const TensorView<float, R>& dst) {
    const auto k = as_node(e).kernel(dst.shape());
    return detail::merged_row_start<R>(dst.shape().data(), dst.strides().data(), k);
}

// A node whose kernel has only row() and flat() (no tile protocol): the executor's fallback.
template <class T, std::size_t R>
struct rows_only_kernel {
    detail::leaf_kernel<T, R> k;
    detail::strided_row<T> row(const index_t* outer) const { return k.row(outer); }
    detail::flat_row<T> flat() const { return k.flat(); }
};
template <class T, std::size_t Rank>
struct rows_only_node {
    using value_type = T;
    static constexpr std::size_t rank = Rank;
    leaf<T, Rank> inner;
    const shape_t<Rank>& shape() const { return inner.shape(); }
    template <std::size_t R>
    rows_only_kernel<T, R> kernel(const shape_t<R>& out) const {
        return {inner.kernel(out)};
    }
    template <std::size_t R>
    bool flat_ok(const shape_t<R>& out) const {
        return inner.flat_ok(out);
    }
    template <class Fn>
    void for_each_leaf(Fn&& fn) const {
        inner.for_each_leaf(fn);
    }
};

} // namespace

namespace cinediff {
template <class T, std::size_t R>
struct is_expression_node<rows_only_node<T, R>> : std::true_type {};
} // namespace cinediff

BOOST_AUTO_TEST_SUITE(tiled_assignment)

BOOST_AUTO_TEST_CASE(per_channel_affine_is_bitwise_the_per_element_functor) {
    // (N, C, T, H, W) against (1, C, 1, 1, 1): rows merge to T*H*W = 1200 elements (3 tiles).
    const shape_t<5> shape{2, 3, 4, 15, 20};
    const auto x = distinct<float, 5>(shape, 0.1, 3.0);
    const auto mean = distinct<float, 5>({1, 3, 1, 1, 1}, 0.5);
    const auto rstd = distinct<float, 5>({1, 3, 1, 1, 1}, 1.5, 2.0);
    const auto beta = distinct<float, 5>({1, 3, 1, 1, 1}, 2.5);
    const auto e = sigmoid((x - mean) * rstd) * x + beta;
    BOOST_TEST(row_start(e, Tensor<float, 5>(shape).view()) == 2u);
    const Tensor<float, 5> y = e;
    bool same = true;
    for_each_index(shape, [&](const shape_t<5>& i) {
        const float v = element(x, i);
        const float s = op::sigmoid{}((v - at(mean.view(), i)) * at(rstd.view(), i));
        const float want = s * v + at(beta.view(), i);
        same = same && std::bit_cast<std::uint32_t>(want) == std::bit_cast<std::uint32_t>(element(y, i));
    });
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_CASE(strided_transposed_and_mixed_operands) {
    // A transposed operand (gathered per tile), a broadcast row, a bool mask broadcast over rows,
    // a scalar, and a destination that is itself a strided view.
    const auto a = distinct<double, 3>({5, 70, 9}, 0.3); // read as permute(2, 1, 0): (9, 70, 5)
    const auto row = distinct<double, 1>({5}, 1.1);      // broadcast over (9, 70)
    Tensor<bool, 2> mask({70, 1});
    for (index_t i = 0; i < 70; ++i) {
        mask.data()[i] = i % 3 == 0;
    }
    const auto at_ = a.view().permute({2, 1, 0});
    Tensor<double, 3> big({9, 70, 10}, 0.0);
    // The destination: every other element of the last axis of `big`.
    const TensorView<double, 3> out(big.data() + 1, {9, 70, 5}, {700, 10, 2});
    assign(out, where(mask, at_ * row + 2.0, exp(-at_)));
    bool same = true;
    for_each_index(out.shape(), [&](const shape_t<3>& i) {
        const double v = element(at_, i);
        const double want = at(mask.view(), i) ? v * at(row.view(), i) + 2.0 : op::exp{}(-v);
        same = same && std::bit_cast<std::uint64_t>(want) == std::bit_cast<std::uint64_t>(element(out, i));
    });
    BOOST_TEST(same);
    // The elements in between are untouched.
    for (index_t i = 0; i < big.size(); i += 2) {
        BOOST_TEST(big.data()[i] == 0.0);
    }
}

BOOST_AUTO_TEST_CASE(long_rows_split_across_work_items_and_thread_counts) {
    // One merged row of 2 * 70000 elements (longer than a work item) with a stride-0 operand:
    // every work item must refill its broadcast buffer.
    const auto x = distinct<float, 3>({3, 2, 70000}, 0.9);
    const auto c = distinct<float, 3>({3, 1, 1}, 0.2, 5.0);
    const auto run = [&] { return Tensor<float, 3>(x * c + tanh(c)); };
    const auto one = with_threads(1, run);
    const auto two = with_threads(2, run);
    const auto three = with_threads(3, run);
    BOOST_TEST(bitwise_equal(one, two));
    BOOST_TEST(bitwise_equal(one, three));
    bool same = true;
    for_each_index(x.shape(), [&](const shape_t<3>& i) {
        const float cv = at(c.view(), i);
        const float want = element(x, i) * cv + op::tanh{}(cv);
        same = same && std::bit_cast<std::uint32_t>(want) == std::bit_cast<std::uint32_t>(element(one, i));
    });
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_CASE(wide_trees_use_shorter_tiles) {
    // 20 double leaves (160 bytes of scratch per element): tiles shrink below 512.
    const shape_t<2> shape{3, 2000};
    const auto a = distinct<double, 2>(shape, 0.1);
    const auto b = distinct<double, 2>({3, 1}, 0.2);
    const auto c = distinct<double, 1>({2000}, 0.3);
    const auto bt = a.view().transpose(0, 1).contiguous(); // (2000, 3)
    const auto t = bt.view().transpose(0, 1);              // strided (3, 2000)
    const auto e = ((a + b) * (c - t) + (a * b - c) * (t + a) + (a - b) * (c + t)) /
                   ((b + c) * (t - b) + (a + c + 5.0) * (t + 7.0));
    const Tensor<double, 2> y = e;
    bool same = true;
    for_each_index(shape, [&](const shape_t<2>& i) {
        const double av = element(a, i), bv = at(b.view(), i), cv = at(c.view(), i), tv = element(t, i);
        const double want = ((av + bv) * (cv - tv) + (av * bv - cv) * (tv + av) + (av - bv) * (cv + tv)) /
                            ((bv + cv) * (tv - bv) + (av + cv + 5.0) * (tv + 7.0));
        same = same && std::bit_cast<std::uint64_t>(want) == std::bit_cast<std::uint64_t>(element(y, i));
    });
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_CASE(axis_merging_cases) {
    Tensor<float, 4> dst({2, 3, 4, 5});
    const auto x = distinct<float, 4>({2, 3, 4, 5});
    // Contiguous everything: all axes merge (the flat path would take it; merging agrees).
    BOOST_TEST(row_start(x + 1.0f, dst.view()) == 0u);
    // Per-channel broadcast (1, 3, 1, 1): axes 2, 3 merge, not with axis 1.
    BOOST_TEST(row_start(x * distinct<float, 4>({1, 3, 1, 1}), dst.view()) == 2u);
    // A (5,) operand broadcast over the leading axes: rows of the last axis only.
    BOOST_TEST(row_start(x * distinct<float, 1>({5}), dst.view()) == 3u);
    // Broadcast over the last two axes, (2, 3, 1, 1): stride-0 runs merge, so rows are 4*5.
    BOOST_TEST(row_start(x - distinct<float, 4>({2, 3, 1, 1}), dst.view()) == 2u);
    // A transposed operand breaks merging at the last axis.
    const auto xt = distinct<float, 4>({2, 3, 5, 4});
    BOOST_TEST(row_start(x + xt.view().transpose(2, 3), dst.view()) == 3u);
    // Extent-1 axes never prevent merging, whatever their strides.
    Tensor<float, 4> one_dst({2, 1, 4, 5});
    const TensorView<const float, 4> odd(x.data(), {2, 1, 4, 5}, {20, 12345, 5, 1});
    BOOST_TEST(row_start(odd * 2.0f, one_dst.view()) == 0u);
    // A uniformly strided destination (every other element of a buffer) is one row of stride 2.
    Tensor<float, 4> wide({2, 3, 4, 10});
    const TensorView<float, 4> half(wide.data(), {2, 3, 4, 5}, {120, 40, 10, 2});
    BOOST_TEST(row_start(x + 1.0f, half) == 0u);
    // A destination that is a column block: rows of the last axis only.
    const TensorView<float, 4> block(wide.data(), {2, 3, 4, 5}, {120, 40, 10, 1});
    BOOST_TEST(row_start(x + 1.0f, block) == 3u);
    // And all of these evaluate correctly.
    assign(half, odd.broadcast_to(shape_t<4>{2, 3, 4, 5}) * 3.0f);
    bool same = true;
    for_each_index(half.shape(), [&](const shape_t<4>& i) {
        same = same && element(half, i) == element(odd, shape_t<4>{i[0], 0, i[2], i[3]}) * 3.0f;
    });
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_CASE(kernels_without_the_tile_protocol_use_rows) {
    const auto x = distinct<float, 3>({4, 6, 50}, 0.4);
    const auto xt = x.view().permute({2, 1, 0});
    const rows_only_node<float, 3> node{leaf<float, 3>(TensorView<const float, 3>(xt))};
    const auto b = distinct<float, 3>({50, 1, 4}, 0.8);
    const Tensor<float, 3> y = sigmoid(node) * b;
    bool same = true;
    for_each_index(y.shape(), [&](const shape_t<3>& i) {
        const float want = op::sigmoid{}(element(xt, i)) * at(b.view(), i);
        same = same && std::bit_cast<std::uint32_t>(want) == std::bit_cast<std::uint32_t>(element(y, i));
    });
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_SUITE_END()
