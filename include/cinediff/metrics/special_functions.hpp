#pragma once

// Special functions behind the p-values of metrics/: the regularized incomplete beta function (for
// Student's t and the binomial), the normal and chi-square(1) tails (through std::erfc), and
// percentiles with NumPy's default ('linear') interpolation. Host only.
//
// Accuracy: the incomplete beta is evaluated by its continued fraction (modified Lentz), switching
// to I_x(a, b) = 1 - I_{1-x}(b, a) where x > (a + 1) / (a + b + 2) so that the fraction converges
// fast; the prefactor x^a (1-x)^b / (a B(a, b)) goes through lgamma. Relative error is ~1e-14 for
// the parameters that tests use (a, b up to a few thousand); see docs/metrics.md.

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace cinediff::metrics {

// Statistic and p-value of a hypothesis test (mcnemar, wilcoxon; paired_t_test adds df).
struct test_result {
    double statistic = std::numeric_limits<double>::quiet_NaN();
    double pvalue = std::numeric_limits<double>::quiet_NaN();
};

namespace detail {

// Continued fraction of I_x(a, b) (the part after the prefactor), modified Lentz.
inline double incomplete_beta_fraction(double a, double b, double x) {
    constexpr double tiny = 1e-300;
    constexpr double eps = 1e-16;
    const double qab = a + b;
    const double qap = a + 1.0;
    const double qam = a - 1.0;
    double c = 1.0;
    double d = 1.0 - qab * x / qap;
    if (std::abs(d) < tiny) {
        d = tiny;
    }
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 100000; ++m) {
        const double m2 = 2.0 * m;
        // even step: d_{2m}
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (std::abs(d) < tiny) {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if (std::abs(c) < tiny) {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        // odd step: d_{2m+1}
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (std::abs(d) < tiny) {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if (std::abs(c) < tiny) {
            c = tiny;
        }
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (std::abs(del - 1.0) < eps) {
            return h;
        }
    }
    return h; // not reached for the parameter ranges used here
}

} // namespace detail

// Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
inline double incomplete_beta(double a, double b, double x) {
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0)) {
        if (std::isnan(a) || std::isnan(b) || std::isnan(x)) {
            return std::numeric_limits<double>::quiet_NaN();
        }
        throw std::invalid_argument(
            "incomplete_beta: need a > 0, b > 0 and x in [0, 1], got a = " + std::to_string(a) +
            ", b = " + std::to_string(b) + ", x = " + std::to_string(x));
    }
    if (x == 0.0) {
        return 0.0;
    }
    if (x == 1.0) {
        return 1.0;
    }
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) {
        return std::exp(log_front) * detail::incomplete_beta_fraction(a, b, x) / a;
    }
    return 1.0 - std::exp(log_front) * detail::incomplete_beta_fraction(b, a, 1.0 - x) / b;
}

// Complement 1 - I_x(a, b) = I_{1-x}(b, a), computed without cancellation.
inline double incomplete_beta_complement(double a, double b, double x) {
    return incomplete_beta(b, a, 1.0 - x);
}

// P(T > t) for Student's t with `df` degrees of freedom (df > 0).
inline double student_t_sf(double t, double df) {
    if (std::isnan(t) || !(df > 0.0)) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (std::isinf(t)) {
        return t > 0 ? 0.0 : 1.0;
    }
    // P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2); x is formed directly (not as 1 - y), so
    // small tails keep their relative accuracy.
    const double t2 = t * t;
    const double two_sided = incomplete_beta(0.5 * df, 0.5, df / (df + t2));
    return t > 0 ? 0.5 * two_sided : 1.0 - 0.5 * two_sided;
}

// Two-sided p-value P(|T| >= |t|) of Student's t.
inline double student_t_two_sided(double t, double df) {
    if (std::isnan(t) || !(df > 0.0)) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return 2.0 * student_t_sf(std::abs(t), df);
}

// Standard normal upper tail P(Z > z) = erfc(z / sqrt 2) / 2.
inline double normal_sf(double z) {
    return 0.5 * std::erfc(z / std::sqrt(2.0));
}
inline double normal_cdf(double z) {
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// Chi-square with one degree of freedom: P(X > x) = erfc(sqrt(x / 2)).
inline double chi2_1_sf(double x) {
    if (std::isnan(x)) {
        return x;
    }
    if (x <= 0.0) {
        return 1.0;
    }
    return std::erfc(std::sqrt(0.5 * x));
}

// Binomial CDF P(X <= k), X ~ Bin(n, p) = I_{1-p}(n - k, k + 1) (as SciPy's bdtr).
inline double binomial_cdf(long long k, long long n, double p) {
    if (k < 0) {
        return 0.0;
    }
    if (k >= n) {
        return 1.0;
    }
    if (p <= 0.0) {
        return 1.0;
    }
    if (p >= 1.0) {
        return 0.0;
    }
    return incomplete_beta(static_cast<double>(n - k), static_cast<double>(k + 1), 1.0 - p);
}

// q-th percentile (q in [0, 100]) with NumPy's default linear interpolation between closest ranks
// (numpy.percentile(..., method='linear')). `sorted` must be ascending and non-empty.
inline double percentile_sorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) {
        throw std::invalid_argument("percentile: empty input");
    }
    if (!(q >= 0.0 && q <= 100.0)) {
        throw std::invalid_argument("percentile: q = " + std::to_string(q) + " is not in [0, 100]");
    }
    const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double t = pos - static_cast<double>(lo);
    const double a = sorted[lo];
    const double b = sorted[hi];
    // NumPy's _lerp: a + (b - a) t, evaluated from the nearer end for t >= 0.5.
    const double diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// Percentile of unsorted values (copied and sorted).
inline double percentile(std::span<const double> values, double q) {
    std::vector<double> s(values.begin(), values.end());
    std::sort(s.begin(), s.end());
    return percentile_sorted(s, q);
}

} // namespace cinediff::metrics
