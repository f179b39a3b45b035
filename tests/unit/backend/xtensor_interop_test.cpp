#include <cstdint>

#include <boost/test/unit_test.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <cinediff/backend/interop/xtensor.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

BOOST_AUTO_TEST_SUITE(xtensor_interop)

BOOST_AUTO_TEST_CASE(to_xtensor_adapts_without_a_copy) {
    auto t = distinct<float, 3>({2, 3, 4});
    auto xa = to_xtensor(t);
    BOOST_TEST(xa.data() == t.data());
    BOOST_TEST(xa.dimension() == 3u);
    BOOST_TEST(xa.shape()[0] == 2u);
    BOOST_TEST(xa.shape()[2] == 4u);
    BOOST_TEST(xa.strides()[0] == 12);
    for_each_index(t.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(xa(i[0], i[1], i[2]) == element(t, i)); });
    // Writes go both ways.
    xa(1, 2, 3) = 7.0f;
    BOOST_TEST(t(1, 2, 3) == 7.0f);
    t(0, 1, 2) = -3.0f;
    BOOST_TEST(xa(0, 1, 2) == -3.0f);
    // Lazy xtensor expressions on the adaptor.
    xt::xarray<float> doubled = 2.0f * xa;
    BOOST_TEST(doubled(1, 2, 3) == 14.0f);
}

BOOST_AUTO_TEST_CASE(strided_and_broadcast_views_adapt_with_their_strides) {
    auto t = distinct<double, 3>({3, 4, 5});
    // Transposed and narrowed: not contiguous.
    const auto v = t.view().transpose(0, 2).narrow(1, 1, 2); // shape (5, 2, 3)
    auto xv = to_xtensor(v);
    BOOST_TEST(xv.data() == v.data());
    BOOST_TEST(xv.strides()[0] == 1);
    BOOST_TEST(xv.strides()[2] == 20);
    for_each_index(v.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(xv(i[0], i[1], i[2]) == element(v, i)); });
    // Element-wise expressions and reductions over the strided adaptor.
    xt::xarray<double> plus = xv + 1.0;
    for_each_index(v.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(plus(i[0], i[1], i[2]) == element(v, i) + 1.0); });
    // Broadcast view (stride 0) and an extent-1 axis.
    auto row = distinct<float, 2>({1, 4});
    const auto b = row.view().broadcast_to(shape_t<3>{3, 1, 4});
    auto xb = to_xtensor(b);
    BOOST_TEST(xb.strides()[0] == 0);
    BOOST_TEST(xb.strides()[1] == 0); // xtensor's convention for extent 1
    for_each_index(b.shape(),
                   [&](const shape_t<3>& i) { BOOST_TEST(xb(i[0], i[1], i[2]) == element(b, i)); });
    xt::xarray<float> sum_b =
        xb + xt::xarray<float>(xt::zeros<float>({3, 2, 4})); // xtensor broadcasts axis 1
    BOOST_TEST(sum_b.shape()[1] == 2u);
    BOOST_TEST(sum_b(2, 1, 3) == row(0, 3));
}

BOOST_AUTO_TEST_CASE(adaptor_keeps_memory_alive_and_respects_const) {
    auto xa = to_xtensor(distinct<float, 2>({2, 3})); // a temporary Tensor
    const auto ref = distinct<float, 2>({2, 3});
    for_each_index(ref.shape(), [&](const shape_t<2>& i) { BOOST_TEST(xa(i[0], i[1]) == element(ref, i)); });
    auto xc = to_xtensor(ref);
    static_assert(std::is_const_v<std::remove_pointer_t<decltype(xc.data())>>);
    BOOST_TEST(xc.data() == ref.data());
}

BOOST_AUTO_TEST_CASE(copies_both_ways) {
    auto t = distinct<float, 3>({2, 3, 4});
    xt::xarray<float> a = to_xarray(t);
    BOOST_TEST(a.data() != t.data());
    BOOST_TEST(a.dimension() == 3u);
    for_each_index(t.shape(), [&](const shape_t<3>& i) { BOOST_TEST(a(i[0], i[1], i[2]) == element(t, i)); });
    // Strided view to xarray: a row-major copy.
    xt::xarray<float> at = to_xarray(t.view().permute({2, 0, 1}));
    BOOST_TEST(at.shape()[0] == 4u);
    BOOST_TEST(at(3, 1, 2) == t(1, 2, 3));

    // Round trip.
    const Tensor<float, 3> back = from_xtensor<float, 3>(a);
    BOOST_TEST(back.data() != a.data());
    for_each_index(t.shape(), [&](const shape_t<3>& i) { BOOST_TEST(element(back, i) == element(t, i)); });
    // From a lazy expression, a view and with a conversion.
    const auto twice = from_xtensor<3>(a * 2.0f);
    static_assert(std::is_same_v<std::remove_const_t<decltype(twice)>, Tensor<float, 3>>);
    BOOST_TEST(twice(1, 2, 3) == 2.0f * t(1, 2, 3));
    const auto col = from_xtensor<double, 2>(xt::view(a, 1, xt::all(), xt::range(1, 3)));
    BOOST_TEST(col.shape() == (shape_t<2>{3, 2}));
    BOOST_TEST(col(2, 1) == static_cast<double>(t(1, 2, 2)));
    // From a column-major container.
    xt::xarray<int, xt::layout_type::column_major> cm = {{1, 2, 3}, {4, 5, 6}};
    const auto ci = from_xtensor<std::int64_t, 2>(cm);
    BOOST_TEST(ci(1, 0) == 4);
    BOOST_TEST(ci(0, 2) == 3);
    // The rank is checked.
    BOOST_CHECK_THROW((from_xtensor<float, 2>(a)), shape_error);
}

BOOST_AUTO_TEST_CASE(views_of_xtensor_containers_without_a_copy) {
    xt::xarray<float> a = xt::xarray<float>::from_shape({2, 3});
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.data()[i] = static_cast<float>(i);
    }
    auto v = view_of_xarray<2>(a);
    static_assert(std::is_same_v<decltype(v), TensorView<float, 2>>);
    BOOST_TEST(v.data() == a.data());
    BOOST_TEST(v.shape() == (shape_t<2>{2, 3}));
    BOOST_TEST(v(1, 2) == 5.0f);
    v(0, 1) = 42.0f;
    BOOST_TEST(a(0, 1) == 42.0f);
    // Used by cinediff expressions directly.
    const Tensor<float, 2> plus = v + 1.0f;
    BOOST_TEST(plus(1, 2) == 6.0f);

    const xt::xarray<float>& ca = a;
    auto cv = view_of_xarray<2>(ca);
    static_assert(std::is_same_v<decltype(cv), TensorView<const float, 2>>);

    xt::xtensor<double, 3> x3 = xt::xtensor<double, 3>::from_shape({2, 1, 4});
    auto v3 = view_of_xtensor(x3);
    static_assert(std::is_same_v<decltype(v3), TensorView<double, 3>>);
    BOOST_TEST(v3.data() == x3.data());
    BOOST_TEST(v3.is_contiguous());

    // Round trip without a copy: cinediff -> xtensor adaptor -> cinediff view.
    auto t = distinct<float, 2>({3, 2});
    xt::xarray<float> owned = to_xtensor(t); // a copy
    BOOST_TEST(view_of_xarray<2>(owned).data() == owned.data());

    // Errors: wrong rank, column-major layout.
    BOOST_CHECK_THROW(view_of_xarray<3>(a), shape_error);
    xt::xarray<float, xt::layout_type::column_major> cm =
        xt::xarray<float, xt::layout_type::column_major>::from_shape({2, 3});
    BOOST_CHECK_THROW(view_of_xarray<2>(cm), shape_error);
    // A column-major container with one non-unit axis is also row-major.
    xt::xarray<float, xt::layout_type::column_major> cm1 =
        xt::xarray<float, xt::layout_type::column_major>::from_shape({1, 3});
    BOOST_TEST(view_of_xarray<2>(cm1).data() == cm1.data());
}

BOOST_AUTO_TEST_SUITE_END()
