#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/einops.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

namespace {

// Does `v` look at memory inside the tensor `t` (a view) rather than at a copy?
template <class V, class T, std::size_t R>
bool inside(const V& v, const Tensor<T, R>& t) {
    const auto* p = reinterpret_cast<const char*>(v.data());
    const auto* lo = reinterpret_cast<const char*>(t.data());
    return p >= lo && p < lo + t.size() * static_cast<index_t>(sizeof(T)) && v.owner() == t.view().owner();
}

// A shape_error whose message contains every one of `parts`.
auto message_has(std::initializer_list<std::string> parts) {
    return [parts](const shape_error& e) {
        const std::string what = e.what();
        return std::all_of(parts.begin(), parts.end(),
                           [&](const std::string& s) { return what.find(s) != std::string::npos; });
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(einops_rearrange)

BOOST_AUTO_TEST_CASE(permute_is_a_view) {
    auto x = distinct<float, 4>({2, 3, 4, 5});
    auto y = rearrange<"b c h w -> b h w c">(x);
    static_assert(std::is_same_v<decltype(y), TensorView<float, 4>>);
    BOOST_TEST(y.shape() == (shape_t<4>{2, 4, 5, 3}));
    BOOST_TEST(y.data() == x.data());
    BOOST_TEST(inside(y, x));
    for_each_index(x.shape(),
                   [&](const shape_t<4>& i) { BOOST_TEST(y(i[0], i[2], i[3], i[1]) == element(x, i)); });
    // Writes through the view reach the source.
    y(1, 2, 3, 0) = 42.0f;
    BOOST_TEST(x(1, 0, 2, 3) == 42.0f);
}

BOOST_AUTO_TEST_CASE(merge_of_adjacent_axes_is_a_view) {
    auto x = distinct<float, 4>({2, 3, 4, 5});
    auto y = rearrange<"b c h w -> b c (h w)">(x);
    static_assert(std::is_same_v<decltype(y), TensorView<float, 3>>);
    BOOST_TEST(y.shape() == (shape_t<3>{2, 3, 20}));
    BOOST_TEST(y.data() == x.data());
    for_each_index(x.shape(),
                   [&](const shape_t<4>& i) { BOOST_TEST(y(i[0], i[1], i[2] * 5 + i[3]) == element(x, i)); });
    auto flat = rearrange<"b c h w -> (b c h w)">(x);
    BOOST_TEST(flat.data() == x.data());
    BOOST_TEST(flat.shape(0) == 120);
}

BOOST_AUTO_TEST_CASE(merge_that_needs_a_copy_copies) {
    // The first form: (b f) merges axes that are not adjacent in memory.
    auto x = distinct<float, 5>({2, 3, 4, 2, 3});
    auto y = rearrange<"b c f h w -> (b f) c h w">(x);
    static_assert(std::is_same_v<decltype(y), TensorView<float, 4>>);
    BOOST_TEST(y.shape() == (shape_t<4>{8, 3, 2, 3}));
    BOOST_TEST(!inside(y, x));
    BOOST_TEST(y.is_contiguous());
    for_each_index(x.shape(), [&](const shape_t<5>& i) {
        BOOST_TEST(y(i[0] * 4 + i[2], i[1], i[3], i[4]) == element(x, i));
    });
    // The copy is independent of the source.
    y(0, 0, 0, 0) = 99.0f;
    BOOST_TEST(x(0, 0, 0, 0, 0) != 99.0f);
}

BOOST_AUTO_TEST_CASE(split_with_a_given_size_is_a_view_and_round_trips) {
    auto x = distinct<float, 5>({2, 3, 4, 2, 3});
    auto y = rearrange<"b c f h w -> (b f) c h w">(x);
    // The second form: the size of f is given by name, b is inferred.
    auto z = rearrange<"(b f) c h w -> b c f h w">(y, axis<"f">(4));
    static_assert(std::is_same_v<decltype(z), TensorView<float, 5>>);
    BOOST_TEST(z.shape() == x.shape());
    BOOST_TEST(z.data() == y.data()); // splitting and permuting never copy
    for_each_index(x.shape(), [&](const shape_t<5>& i) { BOOST_TEST(element(z, i) == element(x, i)); });
    // Both sizes of a group may be given; b is then checked against the extent.
    auto w = rearrange<"(b f) c h w -> b c f h w">(y, axis<"b">(2), axis<"f">(4));
    BOOST_TEST(w.shape() == x.shape());
}

BOOST_AUTO_TEST_CASE(split_merge_and_numbers) {
    auto x = distinct<double, 2>({6, 4});
    // Split rows in (a 3), move a inside the columns.
    auto y = rearrange<"(a r) w -> r (w a)">(x, axis<"r">(3));
    BOOST_TEST(y.shape() == (shape_t<2>{3, 8}));
    for (index_t a = 0; a < 2; ++a) {
        for (index_t r = 0; r < 3; ++r) {
            for (index_t w = 0; w < 4; ++w) {
                BOOST_TEST(y(r, w * 2 + a) == x(a * 3 + r, w));
            }
        }
    }
    // Extent-1 axes: `1` and `()` on either side.
    auto t = distinct<float, 3>({2, 1, 3});
    auto d = rearrange<"b 1 h -> b h">(t);
    BOOST_TEST(d.shape() == (shape_t<2>{2, 3}));
    BOOST_TEST(d.data() == t.data());
    auto u = rearrange<"b () h -> 1 h b ()">(t);
    BOOST_TEST(u.shape() == (shape_t<4>{1, 3, 2, 1}));
    BOOST_TEST(u.data() == t.data());
    for_each_index(d.shape(), [&](const shape_t<2>& i) {
        BOOST_TEST(d(i[0], i[1]) == t(i[0], 0, i[1]));
        BOOST_TEST(u(0, i[1], i[0], 0) == t(i[0], 0, i[1]));
    });
}

BOOST_AUTO_TEST_CASE(multi_character_names) {
    auto x = distinct<float, 3>({2, 3, 4});
    auto y = rearrange<"batch  c1 frames->frames (batch c1)">(x);
    BOOST_TEST(y.shape() == (shape_t<2>{4, 6}));
    for_each_index(x.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(y(i[2], i[0] * 3 + i[1]) == element(x, i)); });
}

BOOST_AUTO_TEST_CASE(inputs_views_const_temporaries_and_expressions) {
    const auto x = distinct<float, 3>({2, 3, 4});
    auto c = rearrange<"a b c -> c a b">(x);
    static_assert(std::is_same_v<decltype(c), TensorView<const float, 3>>);
    BOOST_TEST(c.data() == x.data());

    // A strided input: a transposed, narrowed view. (b c) of it is not contiguous: a copy.
    const auto v = x.view().transpose(0, 2).narrow(0, 1, 2); // shape (2, 3, 2)
    auto m = rearrange<"a b c -> a (b c)">(v);
    BOOST_TEST(m.shape() == (shape_t<2>{2, 6}));
    for_each_index(v.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(m(i[0], i[1] * 2 + i[2]) == element(v, i)); });

    // A temporary Tensor is kept alive by the view.
    auto t = rearrange<"a b -> b a">(distinct<float, 2>({2, 3}));
    const auto ref = distinct<float, 2>({2, 3});
    for_each_index(ref.shape(), [&](const shape_t<2>& i) { BOOST_TEST(t(i[1], i[0]) == element(ref, i)); });

    // An expression is evaluated once.
    auto e = rearrange<"a b c -> (a b) c">(x + 1.0f);
    for_each_index(x.shape(), [&](const shape_t<3>& i) {
        BOOST_TEST(e(i[0] * 3 + i[1], i[2]) == element(x, i) + 1.0f);
    });
}

BOOST_AUTO_TEST_CASE(runtime_size_errors_throw_shape_error) {
    const auto x = distinct<float, 2>({10, 3});
    // 3 does not divide 10.
    BOOST_CHECK_EXCEPTION((rearrange<"(b f) c -> b c f">(x, axis<"f">(3))), shape_error,
                          message_has({"(b f) c -> b c f", "(b f)", "10", "f = 3"}));
    // Both sizes given, but their product is not the extent.
    BOOST_CHECK_EXCEPTION((rearrange<"(b f) c -> b c f">(x, axis<"b">(2), axis<"f">(4))), shape_error,
                          message_has({"b = 2", "f = 4", "10"}));
    // A size given for a plain axis is checked.
    BOOST_CHECK_EXCEPTION((rearrange<"b c -> c b">(x, axis<"c">(4))), shape_error,
                          message_has({"b c -> c b", "'c'", "extent 3"}));
    // `1` needs an axis of extent 1.
    BOOST_CHECK_THROW((rearrange<"b 1 -> b">(x)), shape_error);
    BOOST_CHECK_THROW((rearrange<"(b f) c -> b c f">(x, axis<"f">(-2))), shape_error);
    BOOST_CHECK_THROW((rearrange<"(b f) c -> b c f">(x, axis<"f">(0))), shape_error);
}

BOOST_AUTO_TEST_CASE(empty_tensors) {
    Tensor<float, 3> x({0, 3, 4});
    auto y = rearrange<"a b c -> (c a) b">(x);
    BOOST_TEST(y.shape() == (shape_t<2>{0, 3}));
    auto z = rearrange<"(a b) c d -> a b c d">(x, axis<"b">(5));
    BOOST_TEST(z.shape() == (shape_t<4>{0, 5, 3, 4}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(einops_reduce)

BOOST_AUTO_TEST_CASE(reduce_mean_sum_max_min_match_loops) {
    const auto x = distinct<double, 5>({2, 3, 4, 2, 3});
    const auto m = reduce<"b c f h w -> b c", einops::mean>(x);
    const auto s = reduce<"b c f h w -> b c", einops::sum>(x);
    const auto hi = reduce<"b c f h w -> b c", einops::max>(x);
    const auto lo = reduce<"b c f h w -> b c", einops::min>(x);
    static_assert(std::is_same_v<std::remove_const_t<decltype(m)>, Tensor<double, 2>>);
    BOOST_TEST(m.shape() == (shape_t<2>{2, 3}));
    for (index_t b = 0; b < 2; ++b) {
        for (index_t c = 0; c < 3; ++c) {
            double acc = 0, mx = -1e300, mn = 1e300;
            for (index_t f = 0; f < 4; ++f) {
                for (index_t h = 0; h < 2; ++h) {
                    for (index_t w = 0; w < 3; ++w) {
                        acc += x(b, c, f, h, w);
                        mx = std::max(mx, x(b, c, f, h, w));
                        mn = std::min(mn, x(b, c, f, h, w));
                    }
                }
            }
            BOOST_TEST(s(b, c) == acc, boost::test_tools::tolerance(1e-12));
            BOOST_TEST(m(b, c) == acc / 24.0, boost::test_tools::tolerance(1e-12));
            BOOST_TEST(hi(b, c) == mx);
            BOOST_TEST(lo(b, c) == mn);
        }
    }
}

BOOST_AUTO_TEST_CASE(reduce_with_reordering_groups_units_and_splits) {
    const auto x = distinct<double, 4>({2, 3, 4, 5});
    // Kept axes reordered and merged.
    const auto r = reduce<"b c h w -> (w b)", einops::sum>(x);
    static_assert(std::is_same_v<std::remove_const_t<decltype(r)>, Tensor<double, 1>>);
    BOOST_TEST(r.shape() == (shape_t<1>{10}));
    for (index_t b = 0; b < 2; ++b) {
        for (index_t w = 0; w < 5; ++w) {
            double acc = 0;
            for (index_t c = 0; c < 3; ++c) {
                for (index_t h = 0; h < 4; ++h) {
                    acc += x(b, c, h, w);
                }
            }
            BOOST_TEST(r(w * 2 + b) == acc, boost::test_tools::tolerance(1e-12));
        }
    }
    // Keeping reduced axes as extent 1 (global average pooling).
    const auto k = reduce<"b c h w -> b c 1 ()", einops::mean>(x);
    BOOST_TEST(k.shape() == (shape_t<4>{2, 3, 1, 1}));
    const auto k2 = reduce<"b c h w -> b c", einops::mean>(x);
    for_each_index(k2.shape(),
                   [&](const shape_t<2>& i) { BOOST_TEST(k(i[0], i[1], 0, 0) == element(k2, i)); });
    // A split on the left: max-pooling 2x over h with a number.
    const auto p = reduce<"b c (h 2) w -> b c h w", einops::max>(x);
    BOOST_TEST(p.shape() == (shape_t<4>{2, 3, 2, 5}));
    for_each_index(p.shape(), [&](const shape_t<4>& i) {
        BOOST_TEST(element(p, i) ==
                   std::max(x(i[0], i[1], 2 * i[2], i[3]), x(i[0], i[1], 2 * i[2] + 1, i[3])));
    });
    // ... and with a named size: mean over frames of (b f).
    const auto y = distinct<float, 2>({6, 3});
    const auto mf = reduce<"(b f) c -> b c", einops::mean>(y, axis<"f">(3));
    BOOST_TEST(mf.shape() == (shape_t<2>{2, 3}));
    for_each_index(mf.shape(), [&](const shape_t<2>& i) {
        const float ref = (y(i[0] * 3, i[1]) + y(i[0] * 3 + 1, i[1]) + y(i[0] * 3 + 2, i[1])) / 3.0f;
        BOOST_TEST(element(mf, i) == ref, boost::test_tools::tolerance(1e-6f));
    });
}

BOOST_AUTO_TEST_CASE(reduce_edge_cases) {
    const auto x = distinct<double, 2>({3, 4});
    // Nothing reduced: a transposed copy.
    const auto t = reduce<"a b -> b a", einops::sum>(x);
    for_each_index(x.shape(), [&](const shape_t<2>& i) { BOOST_TEST(t(i[1], i[0]) == element(x, i)); });
    // Everything reduced: rank 0.
    const auto all = reduce<"a b -> ", einops::sum>(x);
    static_assert(std::remove_cvref_t<decltype(all)>::rank == 0);
    BOOST_TEST(all.data()[0] == sum(x), boost::test_tools::tolerance(1e-12));
    // Integer sums are int64, as cinediff::sum's.
    Tensor<std::int32_t, 2> n({2, 3}, {1, 2, 3, 4, 5, 6});
    const auto ns = reduce<"a b -> a", einops::sum>(n);
    static_assert(std::is_same_v<std::remove_const_t<decltype(ns)>, Tensor<std::int64_t, 1>>);
    BOOST_TEST(ns(0) == 6);
    BOOST_TEST(ns(1) == 15);
    BOOST_CHECK_THROW((reduce<"(a r) b -> a b", einops::sum>(x, axis<"r">(2))), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(einops_repeat)

BOOST_AUTO_TEST_CASE(new_axis_is_a_broadcast_view) {
    auto x = distinct<float, 4>({2, 3, 4, 5});
    auto r = repeat<"b c h w -> b c f h w">(x, axis<"f">(6));
    static_assert(std::is_same_v<decltype(r), TensorView<float, 5>>);
    BOOST_TEST(r.shape() == (shape_t<5>{2, 3, 6, 4, 5}));
    BOOST_TEST(r.strides()[2] == 0);
    BOOST_TEST(r.data() == x.data());
    for_each_index(r.shape(),
                   [&](const shape_t<5>& i) { BOOST_TEST(element(r, i) == x(i[0], i[1], i[3], i[4])); });
    // A number on the right is a new axis too; several new axes may be merged with each other.
    auto n = repeat<"h w -> h w 3 (k l)">(distinct<float, 2>({2, 2}), axis<"k">(2), axis<"l">(4));
    BOOST_TEST(n.shape() == (shape_t<4>{2, 2, 3, 8}));
    BOOST_TEST(n.strides()[2] == 0);
    BOOST_TEST(n.strides()[3] == 0);
}

BOOST_AUTO_TEST_CASE(merging_a_new_axis_copies) {
    const auto x = distinct<float, 2>({3, 4});
    // Upsampling rows by 2: each row twice.
    auto u = repeat<"h w -> (h 2) w">(x);
    static_assert(std::is_same_v<decltype(u), TensorView<const float, 2>>);
    BOOST_TEST(u.shape() == (shape_t<2>{6, 4}));
    BOOST_TEST(!inside(u, x));
    for_each_index(u.shape(), [&](const shape_t<2>& i) { BOOST_TEST(element(u, i) == x(i[0] / 2, i[1])); });
    // Tiling: the whole image twice.
    auto t = repeat<"h w -> (r h) w">(x, axis<"r">(2));
    BOOST_TEST(t.shape() == (shape_t<2>{6, 4}));
    for_each_index(t.shape(), [&](const shape_t<2>& i) { BOOST_TEST(element(t, i) == x(i[0] % 3, i[1])); });
    // Splitting the input first.
    auto s = repeat<"(a b) w -> a w (b k)">(x, axis<"b">(3), axis<"k">(2));
    BOOST_TEST(s.shape() == (shape_t<3>{1, 4, 6}));
    for_each_index(s.shape(), [&](const shape_t<3>& i) { BOOST_TEST(element(s, i) == x(i[2] / 2, i[1])); });
    BOOST_CHECK_THROW((repeat<"h w -> h w f">(x, axis<"f">(-1))), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
