#pragma once

// Region-overlap metrics of binary segmentation masks (2-D or 3-D; any element type, non-zero =
// foreground). Host only. Argument order: (prediction, reference).
//
//   TP = |P ∩ G|, FP = |P \ G|, FN = |G \ P|
//   Dice = 2 TP / (2 TP + FP + FN),  IoU = TP / (TP + FP + FN),
//   sensitivity = TP / (TP + FN),    precision = TP / (TP + FP)
// Empty masks: both empty -> every metric is 1 (perfect agreement). Otherwise a 0/0 ratio
// (sensitivity with an empty reference, precision with an empty prediction) is NaN; Dice and IoU
// are then 0.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

struct overlap_result {
    std::int64_t tp = 0, fp = 0, fn = 0;
    double dice = 1, iou = 1, sensitivity = 1, precision = 1;
};

template <class T, class U, std::size_t R>
overlap_result overlap(const Tensor<T, R>& prediction, const Tensor<U, R>& reference) {
    if (prediction.shape() != reference.shape()) {
        throw shape_error("overlap: prediction " + shape_to_string(prediction.shape()) + " and reference " +
                          shape_to_string(reference.shape()) + " differ in shape");
    }
    overlap_result r;
    for (index_t i = 0; i < prediction.size(); ++i) {
        const bool p = prediction.data()[i] != T(0);
        const bool g = reference.data()[i] != U(0);
        r.tp += p && g ? 1 : 0;
        r.fp += p && !g ? 1 : 0;
        r.fn += !p && g ? 1 : 0;
    }
    if (r.tp + r.fp + r.fn == 0) {
        return r; // both empty
    }
    const auto tp = static_cast<double>(r.tp);
    const auto fp = static_cast<double>(r.fp);
    const auto fn = static_cast<double>(r.fn);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.dice = 2 * tp / (2 * tp + fp + fn);
    r.iou = tp / (tp + fp + fn);
    r.sensitivity = tp + fn > 0 ? tp / (tp + fn) : nan;
    r.precision = tp + fp > 0 ? tp / (tp + fp) : nan;
    return r;
}

template <class T, class U, std::size_t R>
double dice(const Tensor<T, R>& prediction, const Tensor<U, R>& reference) {
    return overlap(prediction, reference).dice;
}
template <class T, class U, std::size_t R>
double iou(const Tensor<T, R>& prediction, const Tensor<U, R>& reference) {
    return overlap(prediction, reference).iou;
}
template <class T, class U, std::size_t R>
double segmentation_sensitivity(const Tensor<T, R>& prediction, const Tensor<U, R>& reference) {
    return overlap(prediction, reference).sensitivity;
}
template <class T, class U, std::size_t R>
double segmentation_precision(const Tensor<T, R>& prediction, const Tensor<U, R>& reference) {
    return overlap(prediction, reference).precision;
}

} // namespace cinediff::metrics
