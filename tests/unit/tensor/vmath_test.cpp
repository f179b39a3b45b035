// Accuracy of the vectorisable exp / sigmoid / tanh (tensor/vmath.hpp) against references in
// higher precision, their special values, and that the vectorised loops compute exactly what the
// scalar functions do.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/tensor.hpp>
#include <cinediff/tensor/vmath.hpp>

using namespace cinediff;

namespace {

// |got - ref| in units of the spacing of F at ref (the subnormal spacing near 0). Exact matches
// of infinities count 0; any other disagreement about inf or NaN counts as infinitely wrong.
template <class F>
double ulp_error(F got, long double ref) {
    if (std::isnan(ref) || std::isnan(got)) {
        return std::isnan(ref) && std::isnan(got) ? 0.0 : INFINITY;
    }
    const F rounded = static_cast<F>(ref);
    if (std::isinf(rounded) || std::isinf(got)) {
        return rounded == got ? 0.0 : INFINITY;
    }
    const F a = std::abs(rounded);
    const F spacing = a == F(0) ? std::numeric_limits<F>::denorm_min()
                                : std::nextafter(a, std::numeric_limits<F>::infinity()) - a;
    return static_cast<double>(std::abs(static_cast<long double>(got) - ref) / spacing);
}

struct worst {
    double ulp = 0;
    double at = 0;
    void add(double e, double x) {
        if (e > ulp) {
            ulp = e;
            at = x;
        }
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(vmath_accuracy)

// Every 251st float bit pattern: all of [-inf, inf], NaNs, subnormals, overflow and underflow.
BOOST_AUTO_TEST_CASE(float_sweep_exp_sigmoid_tanh) {
    worst e, s, t;
    for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 251) {
        const float x = std::bit_cast<float>(static_cast<std::uint32_t>(b));
        const double xd = x;
        e.add(ulp_error(vmath::exp(x), std::exp(xd)), xd);
        s.add(ulp_error(vmath::sigmoid(x), 1.0 / (1.0 + std::exp(-xd))), xd);
        t.add(ulp_error(vmath::tanh(x), std::tanh(xd)), xd);
    }
    BOOST_TEST_MESSAGE("float max ulp: exp " << e.ulp << " at " << e.at << ", sigmoid " << s.ulp << " at "
                                             << s.at << ", tanh " << t.ulp << " at " << t.at);
    BOOST_TEST(e.ulp <= 1.0);
    BOOST_TEST(s.ulp <= 2.5);
    BOOST_TEST(t.ulp <= 2.0);
}

BOOST_AUTO_TEST_CASE(double_sweep_exp_sigmoid_tanh) {
    worst e, s, t;
    const long n = 4000000;
    for (long i = 0; i <= n; ++i) {
        const double f = static_cast<double>(i) / static_cast<double>(n);
        const double x = -746.0 + 1456.0 * f; // [-746, 710]: underflow to overflow
        const double y = -40.0 + 80.0 * f;    // sigmoid / tanh: the range where they vary
        const long double xl = x, yl = y;
        e.add(ulp_error(vmath::exp(x), std::exp(xl)), x);
        s.add(ulp_error(vmath::sigmoid(y), 1.0L / (1.0L + std::exp(-yl))), y);
        t.add(ulp_error(vmath::tanh(y), std::tanh(yl)), y);
    }
    // Near 0 (tanh's polynomial branch, sigmoid around 1/2), logarithmically.
    for (double y = 1e-300; y < 2.0; y *= 1.001) {
        for (const double v : {y, -y}) {
            t.add(ulp_error(vmath::tanh(v), std::tanh(static_cast<long double>(v))), v);
            s.add(ulp_error(vmath::sigmoid(v), 1.0L / (1.0L + std::exp(-static_cast<long double>(v)))), v);
        }
    }
    BOOST_TEST_MESSAGE("double max ulp: exp " << e.ulp << " at " << e.at << ", sigmoid " << s.ulp << " at "
                                              << s.at << ", tanh " << t.ulp << " at " << t.at);
    BOOST_TEST(e.ulp <= 2.0);
    BOOST_TEST(s.ulp <= 3.0);
    BOOST_TEST(t.ulp <= 2.0);
}

BOOST_AUTO_TEST_CASE(special_values_as_std) {
    const float fin = std::numeric_limits<float>::infinity();
    const double din = std::numeric_limits<double>::infinity();
    BOOST_TEST(std::isnan(vmath::exp(std::numeric_limits<float>::quiet_NaN())));
    BOOST_TEST(std::isnan(vmath::exp(std::numeric_limits<double>::quiet_NaN())));
    BOOST_TEST(vmath::exp(fin) == fin);
    BOOST_TEST(vmath::exp(-fin) == 0.0f);
    BOOST_TEST(vmath::exp(din) == din);
    BOOST_TEST(vmath::exp(-din) == 0.0);
    BOOST_TEST(vmath::exp(0.0f) == 1.0f);
    BOOST_TEST(vmath::exp(-0.0) == 1.0);
    // Overflow and underflow thresholds, and subnormal results.
    for (const float x : {88.72f, 88.7228f, 88.7229f, 88.73f, 100.0f, 1e30f, -87.33f, -87.4f, -95.0f,
                          -103.27f, -103.28f, -103.97f, -103.98f, -104.0f, -200.0f, -1e30f}) {
        BOOST_TEST(ulp_error(vmath::exp(x), std::exp(static_cast<double>(x))) <= 1.0, "exp(" << x << ")");
        BOOST_TEST(std::isinf(vmath::exp(x)) == std::isinf(std::exp(x)), "exp(" << x << ")");
    }
    for (const double x : {709.78, 709.7827, 709.79, 800.0, 1e300, -708.39, -708.4, -720.0, -744.4, -745.13,
                           -745.14, -746.0, -1e300}) {
        BOOST_TEST(ulp_error(vmath::exp(x), std::exp(static_cast<long double>(x))) <= 2.0,
                   "exp(" << x << ")");
        BOOST_TEST(std::isinf(vmath::exp(x)) == std::isinf(std::exp(x)), "exp(" << x << ")");
    }
    BOOST_TEST(vmath::sigmoid(fin) == 1.0f);
    BOOST_TEST(vmath::sigmoid(-fin) == 0.0f);
    BOOST_TEST(vmath::sigmoid(-din) == 0.0);
    BOOST_TEST(std::isnan(vmath::sigmoid(std::numeric_limits<float>::quiet_NaN())));
    BOOST_TEST(vmath::tanh(fin) == 1.0f);
    BOOST_TEST(vmath::tanh(-din) == -1.0);
    BOOST_TEST(std::signbit(vmath::tanh(-0.0f)));
    BOOST_TEST(std::signbit(vmath::tanh(-0.0)));
    BOOST_TEST(std::isnan(vmath::tanh(std::numeric_limits<double>::quiet_NaN())));
}

// The expression executor's vectorised loops (flat and tiled) give exactly the scalar results.
BOOST_AUTO_TEST_CASE(vectorised_loops_match_scalar_functions) {
    Tensor<float, 2> x({37, 129});
    Tensor<double, 2> xd(x.shape());
    for (index_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>(-120.0 + 230.0 * std::sin(0.731 * static_cast<double>(i)));
        xd.data()[i] = -750.0 + 1470.0 * std::sin(0.731 * static_cast<double>(i));
    }
    const Tensor<float, 2> e = exp(x), s = sigmoid(x), t = tanh(x);
    const Tensor<double, 2> ed = exp(xd), sd = sigmoid(xd), td = tanh(xd * 0.05);
    // Strided path: a transposed operand.
    const Tensor<float, 2> e_transposed = exp(x.view().transpose(0, 1));
    const Tensor<float, 2> et = e_transposed.view().transpose(0, 1).contiguous();
    bool same = true;
    for (index_t i = 0; i < x.size(); ++i) {
        const float v = x.data()[i];
        const double vd = xd.data()[i];
        same =
            same && std::bit_cast<std::uint32_t>(e.data()[i]) == std::bit_cast<std::uint32_t>(vmath::exp(v));
        same =
            same && std::bit_cast<std::uint32_t>(et.data()[i]) == std::bit_cast<std::uint32_t>(vmath::exp(v));
        same = same &&
               std::bit_cast<std::uint32_t>(s.data()[i]) == std::bit_cast<std::uint32_t>(vmath::sigmoid(v));
        same =
            same && std::bit_cast<std::uint32_t>(t.data()[i]) == std::bit_cast<std::uint32_t>(vmath::tanh(v));
        same = same &&
               std::bit_cast<std::uint64_t>(ed.data()[i]) == std::bit_cast<std::uint64_t>(vmath::exp(vd));
        same = same &&
               std::bit_cast<std::uint64_t>(sd.data()[i]) == std::bit_cast<std::uint64_t>(vmath::sigmoid(vd));
        same = same && std::bit_cast<std::uint64_t>(td.data()[i]) ==
                           std::bit_cast<std::uint64_t>(vmath::tanh(vd * 0.05));
    }
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_SUITE_END()
