#pragma once

// McNemar's test of two classifiers on the same test set, as
// statsmodels.stats.contingency_tables.mcnemar (0.13). Host only.
//
// Table [[n00, n01], [n10, n11]] of paired outcomes (see mcnemar_table);
// only the discordant counts b = n01 and c = n10 enter.
//   exact = true:  statistic = min(b, c), p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))
//   exact = false: statistic = (|b - c| - correction)^2 / (b + c), p = chi2_1.sf(statistic)
// Edge case (documented deviation): b + c = 0 gives statistic 0 and p = 1 in both modes
// (statsmodels gives inf / 0 in the chi-square mode, an artefact of the continuity correction).
// Note that, as statsmodels, the corrected statistic is not clamped: b = c > 0 gives 1 / (b + c).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <cinediff/metrics/special_functions.hpp>

namespace cinediff::metrics {

struct mcnemar_options {
    bool exact = true;      // binomial test (statsmodels' default); false: chi-square
    bool correction = true; // continuity correction of the chi-square statistic
};

// From the 2x2 table, row-major {n00, n01, n10, n11}.
inline test_result mcnemar(const std::array<std::int64_t, 4>& table, const mcnemar_options& options = {}) {
    for (auto v : table) {
        if (v < 0) {
            throw std::invalid_argument("mcnemar: negative count in the table");
        }
    }
    const auto b = static_cast<double>(table[1]);
    const auto c = static_cast<double>(table[2]);
    test_result r;
    if (b + c == 0) {
        r.statistic = 0;
        r.pvalue = 1;
        return r;
    }
    if (options.exact) {
        r.statistic = std::min(b, c);
        r.pvalue = std::min(1.0, 2.0 * binomial_cdf(std::min(table[1], table[2]), table[1] + table[2], 0.5));
    } else {
        const double corr = options.correction ? 1.0 : 0.0;
        const double d = std::abs(b - c) - corr;
        r.statistic = d * d / (b + c);
        r.pvalue = chi2_1_sf(r.statistic);
    }
    return r;
}

// The paired table of two classifiers against the truth: rows = A correct / wrong, columns = B
// correct / wrong, so n01 = A right and B wrong, n10 = A wrong and B right.
inline std::array<std::int64_t, 4> mcnemar_table(std::span<const std::int64_t> y_true,
                                                 std::span<const std::int64_t> pred_a,
                                                 std::span<const std::int64_t> pred_b) {
    if (pred_a.size() != y_true.size() || pred_b.size() != y_true.size()) {
        throw std::invalid_argument("mcnemar: y_true, pred_a and pred_b must have the same length (" +
                                    std::to_string(y_true.size()) + ", " + std::to_string(pred_a.size()) +
                                    ", " + std::to_string(pred_b.size()) + ")");
    }
    std::array<std::int64_t, 4> t{0, 0, 0, 0};
    for (std::size_t i = 0; i < y_true.size(); ++i) {
        const int a_wrong = pred_a[i] == y_true[i] ? 0 : 1;
        const int b_wrong = pred_b[i] == y_true[i] ? 0 : 1;
        ++t[static_cast<std::size_t>(2 * a_wrong + b_wrong)];
    }
    return t;
}

inline test_result mcnemar(std::span<const std::int64_t> y_true, std::span<const std::int64_t> pred_a,
                           std::span<const std::int64_t> pred_b, const mcnemar_options& options = {}) {
    return mcnemar(mcnemar_table(y_true, pred_a, pred_b), options);
}

} // namespace cinediff::metrics
