#pragma once

// Paired (related-samples) t-test, as scipy.stats.ttest_rel (SciPy 1.10), two-sided. Host only.
//
// d = a - b, n = |d|, df = n - 1, t = mean(d) / sqrt(var(d, ddof=1) / n),
// p = 2 * P(T_df > |t|) through the regularized incomplete beta function.
// Edge cases (as SciPy): empty input or n = 1 -> t = NaN, p = NaN; all differences equal and
// non-zero -> t = +-inf, p = 0; all differences zero -> t = NaN, p = NaN.

#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include <cinediff/metrics/special_functions.hpp>

namespace cinediff::metrics {

struct paired_t_test_result {
    double statistic = std::numeric_limits<double>::quiet_NaN();
    double pvalue = std::numeric_limits<double>::quiet_NaN();
    double df = std::numeric_limits<double>::quiet_NaN();
};

inline paired_t_test_result paired_t_test(std::span<const double> a, std::span<const double> b) {
    if (a.size() != b.size()) {
        throw std::invalid_argument("paired_t_test: the samples have different lengths (" +
                                    std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
    }
    paired_t_test_result r;
    const auto n = static_cast<double>(a.size());
    r.df = n - 1;
    if (a.size() < 2) {
        if (a.empty()) {
            r.df = std::numeric_limits<double>::quiet_NaN();
        }
        return r;
    }
    double mean = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        mean += a[i] - b[i];
    }
    mean /= n;
    double ss = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double e = (a[i] - b[i]) - mean;
        ss += e * e;
    }
    const double var = ss / (n - 1);
    const double denom = std::sqrt(var / n);
    if (denom == 0) {
        if (mean == 0) {
            return r; // NaN, NaN
        }
        r.statistic =
            mean > 0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
        r.pvalue = 0.0;
        return r;
    }
    r.statistic = mean / denom;
    r.pvalue = student_t_two_sided(r.statistic, r.df);
    return r;
}

} // namespace cinediff::metrics
