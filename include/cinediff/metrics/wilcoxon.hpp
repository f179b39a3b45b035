#pragma once

// Wilcoxon signed-rank test, as scipy.stats.wilcoxon in SciPy 1.10 (Debian 12) with its defaults:
// zero_method='wilcox', correction=False, alternative='two-sided', method='auto'. Host only.
//
// d = x - y (or x alone). Mode: 'exact' when len(d) <= 50 (zeros included), else the normal
// approximation; any zero difference forces the approximation (SciPy warns). SciPy 1.10 keeps the
// exact mode when |d| values are tied (newer SciPy does not): the ranks are average ranks and r+ is
// truncated to an integer before reading the exact distribution — reproduced here on purpose.
//   ranks r = average ranks of |d| (zeros removed first in approx mode), r+ / r- = rank sums of
//   positive / negative d, statistic T = min(r+, r-).
//   exact:  pmf of r+ under H0 from counting subsets of {1..n} (count(s) / 2^n, exact in double
//           for n <= 50); p = 1 if int(r+) is the centre n(n+1)/4 (floored), else
//           min(1, 2 * min(P(R+ <= r+), P(R+ >= r+))).
//   approx: z = (T - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - sum_ties t(t^2-1)/48), p = 2 * sf(|z|),
//           n = number of non-zero differences.
// Edge cases (as SciPy): empty input -> NaN, NaN; all differences zero -> std::invalid_argument.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/metrics/special_functions.hpp>

namespace cinediff::metrics {

enum class wilcoxon_method { automatic, exact, approx };

struct wilcoxon_options {
    wilcoxon_method method = wilcoxon_method::automatic;
};

struct wilcoxon_result {
    double statistic = std::numeric_limits<double>::quiet_NaN();
    double pvalue = std::numeric_limits<double>::quiet_NaN();
    bool exact = false;                                           // which mode was used
    double zstatistic = std::numeric_limits<double>::quiet_NaN(); // approx mode only
};

// P(R+ = s) for s = 0 .. n(n+1)/2 under H0, from the number of subsets of {1..n} summing to s.
inline std::vector<double> wilcoxon_null_pmf(int n) {
    if (n < 0 || n > 1000) {
        throw std::invalid_argument("wilcoxon_null_pmf: n out of range");
    }
    const std::size_t top = static_cast<std::size_t>(n) * static_cast<std::size_t>(n + 1) / 2;
    std::vector<double> count(top + 1, 0.0);
    count[0] = 1.0;
    std::size_t reach = 0;
    for (int k = 1; k <= n; ++k) {
        reach += static_cast<std::size_t>(k);
        for (std::size_t s = reach; s >= static_cast<std::size_t>(k); --s) {
            count[s] += count[s - static_cast<std::size_t>(k)];
        }
    }
    const double scale = std::ldexp(1.0, -n);
    for (double& c : count) {
        c *= scale;
    }
    return count;
}

namespace detail {

// Average ranks (1-based) of v, as scipy.stats.rankdata(method='average').
inline std::vector<double> average_ranks(std::span<const double> v) {
    const std::size_t n = v.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]]) {
            ++j;
        }
        const double avg = 0.5 * static_cast<double>(i + j) + 1.0;
        for (std::size_t k = i; k <= j; ++k) {
            r[order[k]] = avg;
        }
        i = j + 1;
    }
    return r;
}

} // namespace detail

inline wilcoxon_result wilcoxon(std::span<const double> x, std::span<const double> y = {},
                                const wilcoxon_options& options = {}) {
    std::vector<double> d(x.begin(), x.end());
    if (!y.empty()) {
        if (y.size() != x.size()) {
            throw std::invalid_argument("wilcoxon: the samples have different lengths (" +
                                        std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
        }
        for (std::size_t i = 0; i < d.size(); ++i) {
            d[i] = x[i] - y[i];
        }
    }
    wilcoxon_result r;
    if (d.empty()) {
        return r;
    }
    bool exact = options.method == wilcoxon_method::exact ||
                 (options.method == wilcoxon_method::automatic && d.size() <= 50);
    const auto zeros = static_cast<std::size_t>(std::count(d.begin(), d.end(), 0.0));
    if (zeros > 0 && exact) {
        exact = false;
    }
    if (!exact) {
        if (zeros == d.size()) {
            throw std::invalid_argument(
                "wilcoxon: zero_method 'wilcox' does not work if x - y is zero for all "
                "elements");
        }
        d.erase(std::remove(d.begin(), d.end(), 0.0), d.end());
    }
    const std::size_t n = d.size();
    std::vector<double> absd(n);
    for (std::size_t i = 0; i < n; ++i) {
        absd[i] = std::abs(d[i]);
    }
    const auto ranks = detail::average_ranks(absd);
    double r_plus = 0, r_minus = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (d[i] > 0) {
            r_plus += ranks[i];
        } else if (d[i] < 0) {
            r_minus += ranks[i];
        }
    }
    r.statistic = std::min(r_plus, r_minus);
    r.exact = exact;
    const auto nd = static_cast<double>(n);
    if (!exact) {
        const double mn = nd * (nd + 1.0) * 0.25;
        double se = nd * (nd + 1.0) * (2.0 * nd + 1.0);
        // tie correction: groups of equal ranks
        std::vector<double> sorted = ranks;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t i = 0; i < n;) {
            std::size_t j = i;
            while (j + 1 < n && sorted[j + 1] == sorted[i]) {
                ++j;
            }
            const double t = static_cast<double>(j - i + 1);
            if (t > 1) {
                se -= 0.5 * (t * (t * t - 1.0));
            }
            i = j + 1;
        }
        se = std::sqrt(se / 24.0);
        const double z = (r.statistic - mn) / se;
        r.zstatistic = z;
        r.pvalue = 2.0 * normal_sf(std::abs(z));
        return r;
    }
    const auto pmf = wilcoxon_null_pmf(static_cast<int>(n));
    const auto rp = static_cast<std::size_t>(r_plus); // truncation as SciPy's int(r_plus)
    if (rp == (pmf.size() - 1) / 2) {
        r.pvalue = 1.0;
    } else {
        double p_less = 0, p_greater = 0;
        for (std::size_t s = 0; s <= rp; ++s) {
            p_less += pmf[s];
        }
        for (std::size_t s = rp; s < pmf.size(); ++s) {
            p_greater += pmf[s];
        }
        r.pvalue = std::clamp(2.0 * std::min(p_less, p_greater), 0.0, 1.0);
    }
    return r;
}

} // namespace cinediff::metrics
