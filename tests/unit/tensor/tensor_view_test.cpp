#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/tensor.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;

BOOST_AUTO_TEST_SUITE(tensor_views)

BOOST_AUTO_TEST_CASE(construction_and_row_major_layout) {
    Tensor<float, 3> t({2, 3, 4});
    BOOST_TEST(t.size() == 24);
    BOOST_TEST(t.strides() == (shape_t<3>{12, 4, 1}));
    BOOST_TEST(t(1, 2, 3) == 0.0f); // zero-filled
    t(1, 2, 3) = 5.0f;
    BOOST_TEST(t.data()[23] == 5.0f);
    BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % storage_alignment == 0u);
    BOOST_CHECK_THROW(t.at(2, 0, 0), shape_error);
    BOOST_CHECK_THROW((Tensor<float, 2>({2, 2}, {1.0f, 2.0f, 3.0f})), shape_error);
    BOOST_CHECK_THROW((Tensor<float, 1>(shape_t<1>{-1})), shape_error);
    Tensor<double, 0> s;
    BOOST_TEST(s.size() == 1);
}

BOOST_AUTO_TEST_CASE(copy_is_deep_move_is_free) {
    auto a = distinct<float, 2>({3, 4});
    Tensor<float, 2> b = a;
    b(0, 0) = 100.0f;
    BOOST_TEST(a(0, 0) != 100.0f);
    const float* p = a.data();
    Tensor<float, 2> c = std::move(a);
    BOOST_TEST(c.data() == p);
}

BOOST_AUTO_TEST_CASE(select_narrow_permute_transpose_share_memory) {
    auto t = distinct<float, 3>({2, 3, 4});
    auto s = t.select(1, 2); // t[:, 2, :]
    BOOST_TEST(s.shape() == (shape_t<2>{2, 4}));
    BOOST_TEST(s(1, 3) == t(1, 2, 3));
    s(0, 0) = 42.0f;
    BOOST_TEST(t(0, 2, 0) == 42.0f);
    BOOST_TEST(t.select(-1, -1)(1, 2) == t(1, 2, 3));
    BOOST_CHECK_THROW(t.select(1, 3), shape_error);
    BOOST_CHECK_THROW(t.select(3, 0), shape_error);

    auto n = t.narrow(2, 1, 2);
    BOOST_TEST(n.shape() == (shape_t<3>{2, 3, 2}));
    BOOST_TEST(n(1, 1, 1) == t(1, 1, 2));
    BOOST_TEST(!n.is_contiguous());
    BOOST_CHECK_THROW(t.narrow(2, 3, 2), shape_error);

    auto p = t.permute({2, 0, 1});
    BOOST_TEST(p.shape() == (shape_t<3>{4, 2, 3}));
    BOOST_TEST(p(3, 1, 2) == t(1, 2, 3));
    BOOST_TEST(p.data() == t.data());
    BOOST_CHECK_THROW(t.permute({0, 0, 1}), shape_error);

    auto tr = t.transpose(0, 2);
    BOOST_TEST(tr(3, 1, 1) == t(1, 1, 3));
}

BOOST_AUTO_TEST_CASE(squeeze_unsqueeze_broadcast) {
    auto t = distinct<float, 2>({3, 1});
    auto u = t.unsqueeze(0);
    BOOST_TEST(u.shape() == (shape_t<3>{1, 3, 1}));
    BOOST_TEST(u(0, 2, 0) == t(2, 0));
    auto e = t.unsqueeze(2);
    BOOST_TEST(e.shape() == (shape_t<3>{3, 1, 1}));
    auto q = t.squeeze(1);
    BOOST_TEST(q.shape() == (shape_t<1>{3}));
    BOOST_CHECK_THROW(t.squeeze(0), shape_error);

    auto b = t.broadcast_to(shape_t<3>{2, 3, 5});
    BOOST_TEST(b.strides()[0] == 0);
    BOOST_TEST(b.strides()[2] == 0);
    BOOST_TEST(b(1, 2, 4) == t(2, 0));
    BOOST_CHECK_THROW(t.broadcast_to(shape_t<2>{4, 5}), shape_error);
}

BOOST_AUTO_TEST_CASE(reshape_is_a_view_when_strides_allow) {
    auto t = distinct<float, 3>({2, 3, 4});
    auto r = t.reshape(shape_t<2>{6, -1});
    BOOST_TEST(r.shape() == (shape_t<2>{6, 4}));
    BOOST_TEST(r.data() == t.data());
    BOOST_TEST(r(5, 3) == t(1, 2, 3));

    // Merging axes 1 and 2 of a view that narrowed axis 0 needs no copy.
    auto n = t.narrow(0, 1, 1).reshape(shape_t<2>{3, 4});
    BOOST_TEST(n(2, 1) == t(1, 2, 1));

    // A transposed view cannot be flattened without a copy.
    auto p = t.permute({0, 2, 1});
    BOOST_CHECK_THROW(p.reshape(shape_t<1>{24}), shape_error);
    // ...but splitting one of its axes can.
    auto split = p.reshape(shape_t<4>{2, 2, 2, 3});
    BOOST_TEST(split(1, 1, 0, 2) == t(1, 2, 2));
    auto c = p.contiguous();
    BOOST_TEST(c.view().is_contiguous());
    BOOST_TEST(c.reshape(shape_t<1>{24})(23) == t(1, 2, 3));

    BOOST_CHECK_THROW(t.reshape(shape_t<2>{5, -1}), shape_error);
    BOOST_CHECK_THROW(t.reshape(shape_t<2>{5, 5}), shape_error);
}

BOOST_AUTO_TEST_CASE(views_keep_memory_alive) {
    TensorView<float, 2> v;
    {
        auto t = distinct<float, 2>({4, 4});
        v = t.transpose(0, 1);
    }
    // The tensor is gone; the view still owns its memory (ASan would flag a dangling read).
    BOOST_TEST(v(1, 0) == static_cast<float>(std::sin(0.37 * 1)));
    auto from_temporary = distinct<float, 1>({3}).view();
    BOOST_TEST(from_temporary(2) == static_cast<float>(std::sin(0.37 * 2)));
}

BOOST_AUTO_TEST_CASE(read_only_views) {
    const auto t = distinct<float, 2>({2, 2});
    TensorView<const float, 2> v = t.view();
    BOOST_TEST(v(1, 1) == t(1, 1));
    auto m = distinct<float, 2>({2, 2});
    TensorView<const float, 2> converted = m.view();
    BOOST_TEST(converted.data() == m.data());
}

BOOST_AUTO_TEST_CASE(half_precision_storage_round_trips) {
    // Bit patterns checked against numpy.float16 and torch.bfloat16.
    BOOST_TEST(float16(1.0f).bits == 0x3c00);
    BOOST_TEST(float16(-2.0f).bits == 0xc000);
    BOOST_TEST(float16(65504.0f).bits == 0x7bff);
    BOOST_TEST(float16(65520.0f).bits == 0x7c00);               // rounds to +inf
    BOOST_TEST(float16(5.960464477539063e-08f).bits == 0x0001); // smallest subnormal
    BOOST_TEST(float16(0.1f).bits == 0x2e66);
    BOOST_TEST(static_cast<float>(float16::from_bits(0x0001)) == 5.960464477539063e-08f);
    BOOST_TEST(static_cast<float>(float16::from_bits(0x3555)) == 0.333251953125f);
    BOOST_TEST(std::isnan(static_cast<float>(float16(NAN))));
    BOOST_TEST(bfloat16(1.0f).bits == 0x3f80);
    BOOST_TEST(bfloat16(0.1f).bits == 0x3dcd);        // round to nearest even
    BOOST_TEST(bfloat16(1.00390625f).bits == 0x3f80); // exactly halfway: ties to even
    BOOST_TEST(std::isnan(static_cast<float>(bfloat16(NAN))));
    for (std::uint32_t b = 0; b < 0x7c00; b += 7) { // every 7th finite positive half survives a round trip
        const auto h = float16::from_bits(static_cast<std::uint16_t>(b));
        BOOST_TEST(float16(static_cast<float>(h)).bits == b);
    }
}

BOOST_AUTO_TEST_SUITE_END()
