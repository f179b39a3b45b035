#include <omp.h>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/tensor.hpp>

#include "test_util.hpp"

using namespace cinediff;
using cinediff::test::distinct;
using cinediff::test::element;
using cinediff::test::for_each_index;

namespace {

double naive_sigmoid(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

// Element of `t` (shape S) at the broadcast position of output index `idx` (rank R >= rank of t).
template <class V, std::size_t R>
double broadcast_read(const V& v, const shape_t<R>& idx) {
    constexpr std::size_t r = std::remove_cvref_t<decltype(v.shape())>().size();
    shape_t<r> sub{};
    for (std::size_t d = 0; d < r; ++d) {
        const index_t i = idx[R - r + d];
        sub[d] = v.shape()[d] == 1 ? 0 : i;
    }
    return static_cast<double>(element(v, sub));
}

} // namespace

BOOST_AUTO_TEST_SUITE(expressions)

BOOST_AUTO_TEST_CASE(fused_expression_matches_naive_loop) {
    const auto a = distinct<float, 4>({2, 3, 4, 5}, 0.1);
    const auto b = distinct<float, 4>({2, 3, 4, 5}, 0.7);
    Tensor<float, 4> y = a * sigmoid(b) + 1.0f;
    for_each_index(y.shape(), [&](const auto& i) {
        const double expected = element(a, i) * naive_sigmoid(element(b, i)) + 1.0;
        BOOST_TEST(element(y, i) == expected, boost::test_tools::tolerance(1e-6));
    });
}

BOOST_AUTO_TEST_CASE(numpy_broadcasting) {
    const auto x = distinct<double, 5>({2, 3, 4, 5, 6});
    const auto bias = distinct<double, 5>({1, 3, 1, 1, 1}, 1.0);
    const auto row = distinct<double, 1>({6}, 2.0);
    const auto col = distinct<double, 2>({5, 1}, 3.0);
    Tensor<double, 5> y = (x - bias) * row + col / 2.0;
    for_each_index(y.shape(), [&](const auto& i) {
        const double expected =
            (element(x, i) - broadcast_read(bias.view(), i)) * broadcast_read(row.view(), i) +
            broadcast_read(col.view(), i) / 2.0;
        BOOST_TEST(element(y, i) == expected, boost::test_tools::tolerance(1e-14));
    });
    BOOST_CHECK_THROW((void)(x + distinct<double, 1>({5})), shape_error);
}

BOOST_AUTO_TEST_CASE(strided_operands_take_the_row_path) {
    const auto a = distinct<float, 3>({4, 5, 6});
    const auto t = a.permute({2, 0, 1}); // non-contiguous
    Tensor<float, 3> y = t * 2.0f + t.narrow(1, 0, 4) * 0.0f;
    for_each_index(y.shape(), [&](const auto& i) { BOOST_TEST(element(y, i) == 2.0f * element(t, i)); });
    // Writing into a non-contiguous destination view.
    Tensor<float, 3> dst({6, 4, 5});
    auto dv = dst.view().permute({1, 2, 0});
    assign(dv, a + 1.0f);
    for_each_index(a.shape(), [&](const auto& i) { BOOST_TEST(element(dv, i) == element(a, i) + 1.0f); });
}

BOOST_AUTO_TEST_CASE(every_elementwise_function) {
    const auto x = distinct<double, 2>({7, 9}, 0.3, 2.0);
    const auto y = distinct<double, 2>({7, 9}, 1.3, 2.0);
    const auto pos = eval(abs(x) + 0.5);
    struct check {
        const char* name;
        Tensor<double, 2> got;
        double (*ref)(double, double);
    };
    const check checks[] = {
        {"add", x + y, [](double a, double b) { return a + b; }},
        {"sub", x - y, [](double a, double b) { return a - b; }},
        {"mul", x * y, [](double a, double b) { return a * b; }},
        {"div", x / y, [](double a, double b) { return a / b; }},
        {"neg", -x, [](double a, double) { return -a; }},
        {"abs", abs(x), [](double a, double) { return std::abs(a); }},
        {"exp", exp(x), [](double a, double) { return std::exp(a); }},
        {"tanh", tanh(x), [](double a, double) { return std::tanh(a); }},
        {"sigmoid", sigmoid(x), [](double a, double) { return naive_sigmoid(a); }},
        {"erf", erf(x), [](double a, double) { return std::erf(a); }},
        {"square", square(x), [](double a, double) { return a * a; }},
        {"max", maximum(x, y), [](double a, double b) { return std::max(a, b); }},
        {"min", minimum(x, y), [](double a, double b) { return std::min(a, b); }},
        {"clamp", clamp(x, -0.5, 0.25), [](double a, double) { return std::clamp(a, -0.5, 0.25); }},
        {"where", where(x > y, x, y * 2.0), [](double a, double b) { return a > b ? a : b * 2.0; }},
        {"sin", sin(x), [](double a, double) { return std::sin(a); }},
    };
    for (const auto& c : checks) {
        for_each_index(x.shape(), [&](const auto& i) {
            BOOST_TEST_CONTEXT(c.name) {
                BOOST_TEST(element(c.got, i) == c.ref(element(x, i), element(y, i)),
                           boost::test_tools::tolerance(1e-15));
            }
        });
    }
    const Tensor<double, 2> l = log(pos), s = sqrt(pos), r = rsqrt(pos), p = pow(pos, 1.7);
    for_each_index(x.shape(), [&](const auto& i) {
        const double v = element(pos, i);
        BOOST_TEST(element(l, i) == std::log(v), boost::test_tools::tolerance(1e-15));
        BOOST_TEST(element(s, i) == std::sqrt(v), boost::test_tools::tolerance(1e-15));
        BOOST_TEST(element(r, i) == 1.0 / std::sqrt(v), boost::test_tools::tolerance(1e-15));
        BOOST_TEST(element(p, i) == std::pow(v, 1.7), boost::test_tools::tolerance(1e-14));
    });
}

BOOST_AUTO_TEST_CASE(comparisons_give_bool_tensors_and_nan_propagates) {
    Tensor<float, 1> a({4}, {1.0f, 2.0f, NAN, 4.0f});
    Tensor<float, 1> b({4}, {2.0f, 2.0f, 0.0f, NAN});
    Tensor<bool, 1> lt = a < b;
    BOOST_TEST(lt(0));
    BOOST_TEST(!lt(1));
    Tensor<bool, 1> eq = a == b;
    BOOST_TEST(eq(1));
    Tensor<float, 1> m = maximum(a, b);
    BOOST_TEST(m(0) == 2.0f);
    BOOST_TEST(std::isnan(m(2)));
    BOOST_TEST(std::isnan(m(3)));
    Tensor<float, 1> c = clamp(a, 0.0, 1.5);
    BOOST_TEST(std::isnan(c(2)));
    BOOST_TEST(c(3) == 1.5f);
    Tensor<bool, 1> n = isnan(a) || !(a > 1.5f);
    BOOST_TEST((n(0) && !n(1) && n(2) && !n(3)));
}

BOOST_AUTO_TEST_CASE(expressions_kept_in_auto_do_not_dangle) {
    auto make = [] {
        auto a = distinct<float, 2>({3, 4});
        auto b = distinct<float, 1>({4}, 1.0);
        return a * sigmoid(b) + 1.0f; // a and b die here; the expression keeps their memory
    };
    auto e = make();
    Tensor<float, 2> y = e;
    const auto a = distinct<float, 2>({3, 4});
    const auto b = distinct<float, 1>({4}, 1.0);
    for_each_index(y.shape(), [&](const auto& i) {
        BOOST_TEST(element(y, i) == element(a, i) * naive_sigmoid(b(i[1])) + 1.0,
                   boost::test_tools::tolerance(1e-6));
    });
    // An rvalue tensor operand is moved into the expression.
    auto e2 = distinct<float, 1>({3}) + 1.0f;
    Tensor<float, 1> y2 = e2;
    BOOST_TEST(y2(2) == static_cast<float>(std::sin(0.74)) + 1.0f);
}

BOOST_AUTO_TEST_CASE(aliasing_assignments_are_correct) {
    auto x = distinct<float, 2>({4, 4});
    const Tensor<float, 2> original = x;
    // In place, element for element: fine without a temporary.
    x = x * 2.0f + 1.0f;
    BOOST_TEST(x(3, 2) == original(3, 2) * 2.0f + 1.0f);
    // Reading the transpose of the destination needs a temporary.
    Tensor<float, 2> y = original;
    assign(y.view(), y.transpose(0, 1) + 0.0f);
    for_each_index(y.shape(), [&](const auto& i) { BOOST_TEST(y(i[0], i[1]) == original(i[1], i[0])); });
    // Shifted window of itself.
    Tensor<float, 1> s({5}, {0, 1, 2, 3, 4});
    assign(s.view().narrow(0, 1, 4), s.narrow(0, 0, 4) + 0.0f);
    BOOST_TEST(s(4) == 3.0f);
    BOOST_TEST(s(1) == 0.0f);
    // Compound assignment.
    Tensor<float, 2> z = original;
    z += original;
    z *= 0.5f;
    BOOST_TEST(z(1, 1) == original(1, 1));
}

BOOST_AUTO_TEST_CASE(assignment_broadcasts_into_destination) {
    Tensor<float, 3> t({2, 3, 4});
    t = 3.0f;
    BOOST_TEST(t(1, 2, 3) == 3.0f);
    assign(t.view(), distinct<float, 1>({4}));
    BOOST_TEST(t(1, 1, 2) == static_cast<float>(std::sin(0.74)));
    BOOST_CHECK_THROW(assign(t.view(), distinct<float, 1>({3})), shape_error);
    // Rebinding assignment of another shape.
    t = distinct<float, 3>({1, 1, 2});
    BOOST_TEST(t.shape() == (shape_t<3>{1, 1, 2}));
}

BOOST_AUTO_TEST_CASE(storage_types_compute_in_float) {
    Tensor<float, 1> f({4}, {0.1f, 1.0f / 3.0f, -2.5f, 1000.0f});
    Tensor<bfloat16, 1> b = cast<bfloat16>(f);
    Tensor<float16, 1> h = cast<float16>(f);
    Tensor<float, 1> back = cast<float>(b) * 2.0f;
    BOOST_TEST(b(0).bits == 0x3dcd);
    BOOST_TEST(h(1).bits == 0x3555);
    BOOST_TEST(back(2) == -5.0f);
    Tensor<float, 1> mixed = cast<float>(h) + cast<float>(b);
    BOOST_TEST(mixed(3) == 2000.0f);
    Tensor<double, 1> d = cast<double>(f);
    BOOST_TEST(d(0) == static_cast<double>(0.1f));
}

BOOST_AUTO_TEST_CASE(results_do_not_depend_on_thread_count) {
    const auto a = distinct<float, 3>({64, 64, 33}, 0.2);
    const auto b = distinct<float, 3>({64, 1, 33}, 0.9);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    Tensor<float, 3> y1 = a * sigmoid(b) + tanh(a.permute({0, 2, 1}).permute({0, 2, 1}));
    omp_set_num_threads(2);
    Tensor<float, 3> y2 = a * sigmoid(b) + tanh(a.permute({0, 2, 1}).permute({0, 2, 1}));
    omp_set_num_threads(saved);
    BOOST_TEST(std::memcmp(y1.data(), y2.data(), sizeof(float) * static_cast<std::size_t>(y1.size())) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
