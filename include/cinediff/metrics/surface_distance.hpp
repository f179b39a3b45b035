#pragma once

// Boundary-distance metrics of binary segmentation masks (2-D or 3-D, with voxel spacing). Host
// only. Argument order: (prediction, reference); non-zero = foreground.
//
// Surface of a mask = its foreground voxels with at least one face neighbour (4-connectivity in
// 2-D, 6 in 3-D) that is background or outside the array (mask XOR binary_erosion(mask) with
// scipy's default cross structure and border_value 0). Distances are Euclidean in physical units
// (voxel index * spacing), from every point of one set to the nearest point of the other, through
// the exact distance transform of distance_transform.hpp.
//
//   hausdorff_distance(P, G, {percentile q}) = max( Q_q(d(S_P -> S_G)), Q_q(d(S_G -> S_P)) )
//       q = 100: the classic Hausdorff distance (= scipy directed_hausdorff both ways, max);
//       q = 95: HD95 as MONAI's compute_hausdorff_distance (max of the two directed 95th
//       percentiles, NumPy 'linear' percentile).
//   average_surface_distance(P, G)            = mean d(S_P -> S_G)   (directed, MedPy's asd)
//   average_symmetric_surface_distance(P, G)  = (sum d(S_P -> S_G) + sum d(S_G -> S_P)) / (|S_P| + |S_G|)
//   g2re(P, G) = mean over reference points of the distance to the nearest prediction point
//   r2ge(P, G) = mean over prediction points of the distance to the nearest reference point
//       (SF-VD's "Ground truth to Result Error" / "Result to Ground truth Error", Wu et al. 2008);
//       points = all foreground voxels by default (thin structures such as guidewires), or the
//       surfaces with point_set::surface.
// Empty masks: both empty -> every distance is 0; exactly one empty -> +inf.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/metrics/distance_transform.hpp>
#include <cinediff/metrics/special_functions.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

enum class point_set { surface, foreground };

struct surface_distance_options {
    std::vector<double> spacing{}; // per axis; empty = 1
    double percentile = 100.0;     // hausdorff_distance only
};

struct directional_distance_options {
    std::vector<double> spacing{};
    point_set points = point_set::foreground;
};

// Surface voxels (1) of a mask.
template <class T, std::size_t R>
Tensor<std::uint8_t, R> mask_surface(const Tensor<T, R>& mask) {
    Tensor<std::uint8_t, R> s(mask.shape());
    const auto shape = mask.shape();
    const auto strides = contiguous_strides(shape);
    for (index_t i = 0; i < mask.size(); ++i) {
        if (mask.data()[i] == T(0)) {
            continue;
        }
        bool boundary = false;
        index_t rem = i;
        for (std::size_t d = 0; d < R && !boundary; ++d) {
            const index_t c = rem / strides[d];
            rem %= strides[d];
            if (c == 0 || c == shape[d] - 1 || mask.data()[i - strides[d]] == T(0) ||
                mask.data()[i + strides[d]] == T(0)) {
                boundary = true;
            }
        }
        s.data()[i] = boundary ? 1 : 0;
    }
    return s;
}

namespace detail {

template <class T, std::size_t R>
Tensor<std::uint8_t, R> as_points(const Tensor<T, R>& mask, point_set points) {
    if (points == point_set::surface) {
        return mask_surface(mask);
    }
    Tensor<std::uint8_t, R> s(mask.shape());
    for (index_t i = 0; i < mask.size(); ++i) {
        s.data()[i] = mask.data()[i] != T(0) ? 1 : 0;
    }
    return s;
}

// Distances from every point of `from` (row-major order) to the nearest point of `to`.
template <std::size_t R>
std::vector<double> directed_distances(const Tensor<std::uint8_t, R>& from, const Tensor<std::uint8_t, R>& to,
                                       const std::vector<double>& spacing) {
    const auto dt = squared_distance_transform(to, spacing);
    std::vector<double> out;
    for (index_t i = 0; i < from.size(); ++i) {
        if (from.data()[i] != 0) {
            out.push_back(std::sqrt(dt.data()[i]));
        }
    }
    return out;
}

template <class T, class U, std::size_t R>
void check_masks(const Tensor<T, R>& a, const Tensor<U, R>& b, const std::vector<double>& spacing,
                 const char* what) {
    static_assert(R == 2 || R == 3, "segmentation distances take 2-D or 3-D masks");
    if (a.shape() != b.shape()) {
        throw shape_error(std::string(what) + ": prediction " + shape_to_string(a.shape()) +
                          " and reference " + shape_to_string(b.shape()) + " differ in shape");
    }
    if (!spacing.empty() && spacing.size() != R) {
        throw std::invalid_argument(std::string(what) + ": spacing needs " + std::to_string(R) + " values");
    }
}

inline double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) {
        s += x;
    }
    return s / static_cast<double>(v.size());
}

} // namespace detail

// Both directed distance sets between two point sets: from_prediction[i] = distance of the i-th
// prediction point (row-major) to the reference points, and vice versa.
struct directed_distance_sets {
    std::vector<double> from_prediction;
    std::vector<double> from_reference;
};

template <class T, class U, std::size_t R>
directed_distance_sets surface_distances(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
                                         const std::vector<double>& spacing = {},
                                         point_set points = point_set::surface) {
    detail::check_masks(prediction, reference, spacing, "surface_distances");
    const auto sp = detail::as_points(prediction, points);
    const auto sg = detail::as_points(reference, points);
    return {detail::directed_distances(sp, sg, spacing), detail::directed_distances(sg, sp, spacing)};
}

namespace detail {

// 0 when both sets are empty, +inf when exactly one is; otherwise nullopt-like NaN marker.
inline double empty_convention(const directed_distance_sets& d) {
    const bool ep = d.from_prediction.empty();
    const bool eg = d.from_reference.empty();
    if (ep && eg) {
        return 0.0;
    }
    if (ep || eg) {
        return std::numeric_limits<double>::infinity();
    }
    return std::numeric_limits<double>::quiet_NaN();
}

} // namespace detail

template <class T, class U, std::size_t R>
double hausdorff_distance(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
                          const surface_distance_options& options = {}) {
    if (!(options.percentile >= 0 && options.percentile <= 100)) {
        throw std::invalid_argument("hausdorff_distance: percentile must be in [0, 100]");
    }
    const auto d = surface_distances(prediction, reference, options.spacing, point_set::surface);
    const double e = detail::empty_convention(d);
    if (!std::isnan(e)) {
        return e;
    }
    return std::max(percentile(d.from_prediction, options.percentile),
                    percentile(d.from_reference, options.percentile));
}

template <class T, class U, std::size_t R>
double average_surface_distance(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
                                const surface_distance_options& options = {}) {
    const auto d = surface_distances(prediction, reference, options.spacing, point_set::surface);
    const double e = detail::empty_convention(d);
    return std::isnan(e) ? detail::mean_of(d.from_prediction) : e;
}

template <class T, class U, std::size_t R>
double average_symmetric_surface_distance(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
                                          const surface_distance_options& options = {}) {
    const auto d = surface_distances(prediction, reference, options.spacing, point_set::surface);
    const double e = detail::empty_convention(d);
    if (!std::isnan(e)) {
        return e;
    }
    double s = 0;
    for (double x : d.from_prediction) {
        s += x;
    }
    for (double x : d.from_reference) {
        s += x;
    }
    return s / static_cast<double>(d.from_prediction.size() + d.from_reference.size());
}

// Ground truth to Result Error: mean distance from reference points to the nearest prediction point.
template <class T, class U, std::size_t R>
double g2re(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
            const directional_distance_options& options = {}) {
    const auto d = surface_distances(prediction, reference, options.spacing, options.points);
    const double e = detail::empty_convention(d);
    return std::isnan(e) ? detail::mean_of(d.from_reference) : e;
}

// Result to Ground truth Error: mean distance from prediction points to the nearest reference point.
template <class T, class U, std::size_t R>
double r2ge(const Tensor<T, R>& prediction, const Tensor<U, R>& reference,
            const directional_distance_options& options = {}) {
    const auto d = surface_distances(prediction, reference, options.spacing, options.points);
    const double e = detail::empty_convention(d);
    return std::isnan(e) ? detail::mean_of(d.from_prediction) : e;
}

} // namespace cinediff::metrics
