#pragma once

// Percentile-bootstrap confidence intervals of any metric computed on a test set. Host only.
//
// Resample b (b = 0 .. n_resamples-1) draws n indices uniformly with replacement from [0, n): the
// Philox stream stream_id("metrics/bootstrap", b) under `seed`, fill_randint(0, n). Every resample
// is a pure function of (seed, b), so results do not depend on threads or on the order in which
// resamples are evaluated. The interval is the (1-confidence)/2 and (1+confidence)/2 percentiles
// (NumPy 'linear' interpolation) of the metric over the valid resamples.
//
// Invalid resamples: when the metric throws std::invalid_argument (e.g. AUROC of a resample that
// holds a single class) or returns NaN, the resample is skipped and counted in `skipped`; the
// percentiles use the remaining ones (common practice, e.g. in the seeds' evaluation scripts).
// If every resample is skipped, lower and upper are NaN.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/metrics/special_functions.hpp>
#include <cinediff/tensor/random.hpp>

namespace cinediff::metrics {

struct bootstrap_options {
    index_t n_resamples = 2000;
    double confidence = 0.95;
    std::uint64_t seed = 0;
    // Evaluate resamples on several OpenMP threads (the metric must then be thread-safe). The result
    // is the same either way.
    bool parallel = false;
};

struct bootstrap_result {
    double estimate =
        std::numeric_limits<double>::quiet_NaN(); // metric on the full test set (NaN if invalid)
    double lower = std::numeric_limits<double>::quiet_NaN();
    double upper = std::numeric_limits<double>::quiet_NaN();
    index_t valid = 0;          // resamples that gave a finite value
    index_t skipped = 0;        // resamples where the metric threw std::invalid_argument or gave NaN
    std::vector<double> values; // metric of every resample in resample order, NaN where skipped
};

// The indices of resample b (the exact definition used by bootstrap_ci).
inline std::vector<index_t> bootstrap_indices(index_t n, index_t b, std::uint64_t seed) {
    std::vector<index_t> idx(static_cast<std::size_t>(n));
    if (n > 0) {
        philox_generator gen(seed, stream_id("metrics/bootstrap", static_cast<std::uint64_t>(b)));
        fill_randint(std::span<index_t>(idx), gen, 0, n);
    }
    return idx;
}

// metric(indices) computes the metric on the test-set samples listed in `indices` (length n, with
// repeats); bootstrap_ci calls it once with 0 .. n-1 for the estimate and once per resample.
template <class Metric>
bootstrap_result bootstrap_ci(Metric&& metric, index_t n, const bootstrap_options& options = {}) {
    if (n <= 0) {
        throw std::invalid_argument("bootstrap_ci: the test set is empty");
    }
    if (options.n_resamples < 1) {
        throw std::invalid_argument("bootstrap_ci: n_resamples must be >= 1");
    }
    if (!(options.confidence > 0.0 && options.confidence < 1.0)) {
        throw std::invalid_argument("bootstrap_ci: confidence must be in (0, 1), got " +
                                    std::to_string(options.confidence));
    }
    auto evaluate = [&](std::span<const index_t> idx) {
        try {
            return static_cast<double>(metric(idx));
        } catch (const std::invalid_argument&) {
            return std::numeric_limits<double>::quiet_NaN();
        }
    };
    bootstrap_result r;
    {
        std::vector<index_t> all(static_cast<std::size_t>(n));
        for (index_t i = 0; i < n; ++i) {
            all[static_cast<std::size_t>(i)] = i;
        }
        r.estimate = evaluate(all);
    }
    r.values.assign(static_cast<std::size_t>(options.n_resamples), 0.0);
    auto one = [&](index_t b) {
        const auto idx = bootstrap_indices(n, b, options.seed);
        r.values[static_cast<std::size_t>(b)] = evaluate(idx);
    };
    if (options.parallel) {
        backend::parallel_for(options.n_resamples, backend::parallel_grain, one);
    } else {
        for (index_t b = 0; b < options.n_resamples; ++b) {
            one(b);
        }
    }
    std::vector<double> valid;
    valid.reserve(r.values.size());
    for (double v : r.values) {
        if (std::isnan(v)) {
            ++r.skipped;
        } else {
            valid.push_back(v);
        }
    }
    r.valid = static_cast<index_t>(valid.size());
    if (!valid.empty()) {
        std::sort(valid.begin(), valid.end());
        const double alpha = (1.0 - options.confidence) / 2.0;
        r.lower = percentile_sorted(valid, 100.0 * alpha);
        r.upper = percentile_sorted(valid, 100.0 * (1.0 - alpha));
    }
    return r;
}

} // namespace cinediff::metrics
