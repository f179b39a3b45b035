#include <boost/test/unit_test.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/autograd/reduce.hpp>

#include "test_util.hpp"

using namespace cinediff;
using namespace cinediff::autograd;
using cinediff::test::distinct;

BOOST_AUTO_TEST_SUITE(differentiable_reductions)

BOOST_AUTO_TEST_CASE(sum_and_mean_values_and_gradients) {
    Variable<double, 3> x(distinct<double, 3>({2, 3, 4}), true);
    auto total = sum(x * x);
    BOOST_TEST(total.value()() == cinediff::sum(x.value() * x.value()), boost::test_tools::tolerance(1e-14));
    total.backward();
    BOOST_TEST(x.grad()(1, 2, 3) == 2 * x.value()(1, 2, 3), boost::test_tools::tolerance(1e-14));
    x.zero_grad();
    auto m = mean(x);
    m.backward();
    BOOST_TEST(x.grad()(0, 0, 0) == 1.0 / 24.0, boost::test_tools::tolerance(1e-14));
    const auto axes_sum = sum(x, {0, 2});
    BOOST_TEST(axes_sum.shape() == (shape_t<1>{3}));
}

BOOST_AUTO_TEST_CASE(gradcheck_axis_reductions_and_reshape) {
    auto x = Variable<double, 3>(distinct<double, 3>({2, 3, 4}, 0.3), true);
    auto check = [&](const char* name, auto f) {
        const auto r = gradcheck(f, std::make_tuple(x));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check("sum_axes", [](const auto& a) { return sum(a * a, {1}); });
    check("mean_axes_keep", [](const auto& a) { return mean(exp(a), {0, 2}, keep_dims); });
    check("sum_all", [](const auto& a) { return sum(tanh(a)); });
    check("mean_all", [](const auto& a) { return mean(a * a * a); });
    check("reshape", [](const auto& a) { return reshape(a * 2.0, shape_t<2>{6, -1}); });
    check("broadcast_back", [](const auto& a) {
        // x - mean(x) along an axis: the keep_dims result broadcasts in a fused expression.
        const Variable<double, 3> mu = mean(a, {2}, keep_dims);
        return Variable<double, 3>(square(a - mu));
    });
}

BOOST_AUTO_TEST_SUITE_END()
