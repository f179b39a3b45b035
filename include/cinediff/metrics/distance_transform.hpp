#pragma once

// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012, "Distance transforms of
// sampled functions": separable lower envelopes of parabolas), with per-axis voxel spacing. Host
// only.
//
// squared_distance_transform(features, spacing) gives, for every voxel x, min over feature voxels
// p of sum_d (spacing_d (x_d - p_d))^2 — +inf everywhere when there is no feature voxel. The 1-D
// pass along each axis is exact; the minimum over parabolas is attained at a feature voxel, so the
// result equals the brute-force minimum up to floating-point rounding of the sums.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

namespace detail {

// In place: f[q] <- min_p w (q - p)^2 + f[p] over the n entries at f[0], f[stride], ...
// v, z: scratch of n and n + 1 entries.
inline void edt_1d(double* f, index_t n, index_t stride, double w, std::vector<double>& tmp,
                   std::vector<index_t>& v, std::vector<double>& z) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    for (index_t q = 0; q < n; ++q) {
        tmp[static_cast<std::size_t>(q)] = f[q * stride];
    }
    index_t k = -1;
    for (index_t q = 0; q < n; ++q) {
        const double fq = tmp[static_cast<std::size_t>(q)];
        if (fq == inf) {
            continue;
        }
        if (k < 0) {
            k = 0;
            v[0] = q;
            z[0] = -inf;
            z[1] = inf;
            continue;
        }
        double s;
        for (;;) {
            const index_t p = v[static_cast<std::size_t>(k)];
            const double fp = tmp[static_cast<std::size_t>(p)];
            const auto dq = static_cast<double>(q);
            const auto dp = static_cast<double>(p);
            s = ((fq + w * dq * dq) - (fp + w * dp * dp)) / (2.0 * w * (dq - dp));
            if (s <= z[static_cast<std::size_t>(k)]) {
                --k; // z[0] = -inf, so k never drops below 0 here
            } else {
                break;
            }
        }
        ++k;
        v[static_cast<std::size_t>(k)] = q;
        z[static_cast<std::size_t>(k)] = s;
        z[static_cast<std::size_t>(k + 1)] = inf;
    }
    if (k < 0) {
        return; // no finite entry: all stay +inf
    }
    k = 0;
    for (index_t q = 0; q < n; ++q) {
        while (z[static_cast<std::size_t>(k + 1)] < static_cast<double>(q)) {
            ++k;
        }
        const index_t p = v[static_cast<std::size_t>(k)];
        const auto dq = static_cast<double>(q - p);
        f[q * stride] = w * dq * dq + tmp[static_cast<std::size_t>(p)];
    }
}

} // namespace detail

// features: non-zero = feature voxel. spacing: one value per axis (empty = all 1).
template <class T, std::size_t R>
Tensor<double, R> squared_distance_transform(const Tensor<T, R>& features,
                                             const std::vector<double>& spacing = {}) {
    if (!spacing.empty() && spacing.size() != R) {
        throw std::invalid_argument("distance_transform: spacing has " + std::to_string(spacing.size()) +
                                    " values for " + std::to_string(R) + " axes");
    }
    for (double s : spacing) {
        if (!(s > 0) || !std::isfinite(s)) {
            throw std::invalid_argument("distance_transform: spacing must be positive and finite");
        }
    }
    Tensor<double, R> d(features.shape());
    for (index_t i = 0; i < d.size(); ++i) {
        d.data()[i] = features.data()[i] != T(0) ? 0.0 : std::numeric_limits<double>::infinity();
    }
    const auto shape = features.shape();
    const auto strides = contiguous_strides(shape);
    for (std::size_t axis = 0; axis < R; ++axis) {
        const index_t n = shape[axis];
        if (n == 0) {
            return d;
        }
        const double sp = spacing.empty() ? 1.0 : spacing[axis];
        const double w = sp * sp;
        const index_t lines = d.size() / n;
        const index_t stride = strides[axis];
        backend::parallel_for(lines, n, [&](index_t line) {
            // line -> start offset: split into the index below the axis (inner) and above (outer)
            const index_t inner = line % stride;
            const index_t outer = line / stride;
            const index_t start = outer * stride * n + inner;
            thread_local std::vector<double> tmp, z;
            thread_local std::vector<index_t> v;
            tmp.resize(static_cast<std::size_t>(n));
            v.resize(static_cast<std::size_t>(n));
            z.resize(static_cast<std::size_t>(n + 1));
            detail::edt_1d(d.data() + start, n, stride, w, tmp, v, z);
        });
    }
    return d;
}

template <class T, std::size_t R>
Tensor<double, R> distance_transform(const Tensor<T, R>& features, const std::vector<double>& spacing = {}) {
    auto d = squared_distance_transform(features, spacing);
    for (index_t i = 0; i < d.size(); ++i) {
        d.data()[i] = std::sqrt(d.data()[i]);
    }
    return d;
}

} // namespace cinediff::metrics
