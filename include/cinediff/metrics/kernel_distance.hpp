#pragma once

// Kernel distance (squared maximum mean discrepancy with KID's polynomial kernel), host only.
//
//   k(x, y) = (x . y / D + 1)^3
//   MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
//             - 2 sum_{i, j} k(x_i, y_j) / (m n)
// (the unbiased estimator of Gretton et al. 2012, as KID, Bińkowski et al. 2018). With subsets > 0,
// the estimate is averaged over `subsets` random subsets of `subset_size` samples drawn without
// replacement from each set (the KID protocol, e.g. 100 subsets of 1000); subset s of x uses the
// first min(subset_size, m) entries of permutation(m) from stream_id("metrics/kid/x", s) under
// `seed` (y: "metrics/kid/y"). `std` is the standard deviation over subsets (ddof = 0; 0 without
// subsets).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/tensor/random.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

struct kernel_distance_options {
    index_t subsets = 0;        // 0: one estimate on the full sets
    index_t subset_size = 1000; // capped at the set sizes
    std::uint64_t seed = 0;
};

struct kernel_distance_result {
    double mean = 0;
    double std = 0;
};

namespace detail {

inline double kid_kernel(const double* a, const double* b, index_t d) {
    double dot = 0;
    for (index_t j = 0; j < d; ++j) {
        dot += a[j] * b[j];
    }
    const double v = dot / static_cast<double>(d) + 1.0;
    return v * v * v;
}

inline double mmd2_unbiased(const Tensor<double, 2>& x, const std::vector<index_t>& ix,
                            const Tensor<double, 2>& y, const std::vector<index_t>& iy) {
    const index_t d = x.shape(1);
    const auto m = static_cast<double>(ix.size());
    const auto n = static_cast<double>(iy.size());
    double kxx = 0, kyy = 0, kxy = 0;
    for (std::size_t i = 0; i < ix.size(); ++i) {
        for (std::size_t j = i + 1; j < ix.size(); ++j) {
            kxx += kid_kernel(x.data() + ix[i] * d, x.data() + ix[j] * d, d);
        }
    }
    for (std::size_t i = 0; i < iy.size(); ++i) {
        for (std::size_t j = i + 1; j < iy.size(); ++j) {
            kyy += kid_kernel(y.data() + iy[i] * d, y.data() + iy[j] * d, d);
        }
    }
    for (index_t i : ix) {
        for (index_t j : iy) {
            kxy += kid_kernel(x.data() + i * d, y.data() + j * d, d);
        }
    }
    return 2.0 * kxx / (m * (m - 1.0)) + 2.0 * kyy / (n * (n - 1.0)) - 2.0 * kxy / (m * n);
}

} // namespace detail

// Kernel distance between features x (m, D) and y (n, D); m, n >= 2.
inline kernel_distance_result kernel_distance(const Tensor<double, 2>& x, const Tensor<double, 2>& y,
                                              const kernel_distance_options& options = {}) {
    const index_t m = x.shape(0);
    const index_t n = y.shape(0);
    if (x.shape(1) != y.shape(1) || x.shape(1) < 1) {
        throw std::invalid_argument("kernel_distance: feature dimensions differ or are empty");
    }
    if (m < 2 || n < 2) {
        throw std::invalid_argument("kernel_distance: need at least 2 samples in each set");
    }
    kernel_distance_result r;
    if (options.subsets <= 0) {
        std::vector<index_t> ix(static_cast<std::size_t>(m)), iy(static_cast<std::size_t>(n));
        for (index_t i = 0; i < m; ++i) {
            ix[static_cast<std::size_t>(i)] = i;
        }
        for (index_t i = 0; i < n; ++i) {
            iy[static_cast<std::size_t>(i)] = i;
        }
        r.mean = detail::mmd2_unbiased(x, ix, y, iy);
        return r;
    }
    if (options.subset_size < 2) {
        throw std::invalid_argument("kernel_distance: subset_size must be >= 2");
    }
    const philox_generator base(options.seed);
    std::vector<double> values;
    for (index_t s = 0; s < options.subsets; ++s) {
        auto gx = base.stream("metrics/kid/x", static_cast<std::uint64_t>(s));
        auto gy = base.stream("metrics/kid/y", static_cast<std::uint64_t>(s));
        auto ix = permutation(m, gx);
        auto iy = permutation(n, gy);
        ix.resize(static_cast<std::size_t>(std::min(options.subset_size, m)));
        iy.resize(static_cast<std::size_t>(std::min(options.subset_size, n)));
        values.push_back(detail::mmd2_unbiased(x, ix, y, iy));
    }
    double mean = 0;
    for (double v : values) {
        mean += v;
    }
    mean /= static_cast<double>(values.size());
    double var = 0;
    for (double v : values) {
        var += (v - mean) * (v - mean);
    }
    r.mean = mean;
    r.std = std::sqrt(var / static_cast<double>(values.size()));
    return r;
}

} // namespace cinediff::metrics
