#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/nn/kernels/fft.hpp>
#include <cinediff/tensor/tensor.hpp>

// Focal frequency loss (Jiang et al., "Focal Frequency Loss for Image Reconstruction and
// Synthesis", ICCV 2021), following the official implementation
// (github.com/EndlessSora/focal-frequency-loss, FocalFrequencyLoss.forward with matrix=None):
//
//   1. pred and target (N, C, H, W) are cut into patch_factor² patches, stacked as
//      (N, P, C, h, w) with P = patch_factor² (patch p = i·patch_factor + j covers rows
//      [i·h, (i+1)·h) and columns [j·w, (j+1)·w));
//   2. F = fft2(patches, norm="ortho") as (…, h, w, 2); with ave_spectrum, F is averaged over N;
//   3. d = |F_pred - F_target|² (summed over real and imaginary parts);
//   4. the weight matrix W = sqrt(d)^alpha, log(W + 1) with log_matrix, divided by its maximum
//      (over (h, w) for every (n, p, c); over everything with batch_matrix), NaN -> 0, clamped to
//      [0, 1] and detached: no gradient flows through W;
//   5. loss = loss_weight · mean(W · d).
//
// The gradient is therefore that of loss_weight · mean(W · d) with W fixed: ∂/∂F_pred =
// 2 loss_weight W (F_pred - F_target) / count, carried back through the adjoint FFT.
namespace cinediff::nn::kernels {

struct focal_frequency_state {
    double value = 0;
    index_t count = 0; // elements of W · d
};

namespace detail {

// Copies (N, C, H, W) images to (N, P, C, h, w) patches (to_patches) or patches back to images.
template <class T>
void ffl_patch_copy(const T* from, T* to, index_t n, index_t c, index_t height, index_t width, index_t factor,
                    bool to_patches) {
    const index_t ph = height / factor, pw = width / factor, planes = n * factor * factor * c;
    backend::parallel_for(planes, ph * pw, [&](index_t plane) {
        const index_t ci = plane % c;
        const index_t p = (plane / c) % (factor * factor);
        const index_t ni = plane / (c * factor * factor);
        const index_t i = p / factor, j = p % factor;
        for (index_t y = 0; y < ph; ++y) {
            for (index_t x = 0; x < pw; ++x) {
                const index_t image = ((ni * c + ci) * height + i * ph + y) * width + j * pw + x;
                const index_t patch = (plane * ph + y) * pw + x;
                if (to_patches) {
                    to[patch] = from[image];
                } else {
                    to[image] = from[patch];
                }
            }
        }
    });
}

template <class T>
Tensor<T, 5> to_patches(const Tensor<T, 4>& x, index_t factor) {
    Tensor<T, 5> out(
        shape_t<5>{x.shape(0), factor * factor, x.shape(1), x.shape(2) / factor, x.shape(3) / factor});
    ffl_patch_copy(x.data(), out.data(), x.shape(0), x.shape(1), x.shape(2), x.shape(3), factor, true);
    return out;
}

template <class T>
Tensor<T, 4> from_patches(const Tensor<T, 5>& patches, const shape_t<4>& shape, index_t factor) {
    Tensor<T, 4> out(shape);
    ffl_patch_copy(patches.data(), out.data(), shape[0], shape[1], shape[2], shape[3], factor, false);
    return out;
}

} // namespace detail

inline void check_focal_frequency_arguments(const shape_t<4>& pred, const shape_t<4>& target,
                                            index_t patch_factor, double alpha) {
    if (pred != target) {
        throw shape_error("focal_frequency_loss: target of shape " + shape_to_string(target) +
                          " does not match pred of shape " + shape_to_string(pred));
    }
    if (patch_factor < 1) {
        throw std::invalid_argument("focal_frequency_loss: patch_factor must be at least 1, got " +
                                    std::to_string(patch_factor));
    }
    if (pred[2] % patch_factor != 0 || pred[3] % patch_factor != 0) {
        throw shape_error("focal_frequency_loss: patch_factor " + std::to_string(patch_factor) +
                          " must divide the image size " + std::to_string(pred[2]) + "x" +
                          std::to_string(pred[3]));
    }
    if (!(alpha >= 0)) {
        throw std::invalid_argument("focal_frequency_loss: alpha must be non-negative, got " +
                                    std::to_string(alpha));
    }
}

// Forward. Returns loss_weight · mean(W · d) in state.value; when `weighted_difference` is not
// null it receives W · (F_pred - F_target) of shape (N', P, C, h, w, 2) (N' = 1 with ave_spectrum),
// all the backward needs.
template <class T>
focal_frequency_state focal_frequency_forward(const Tensor<T, 4>& pred, const Tensor<T, 4>& target,
                                              double alpha, index_t patch_factor, bool ave_spectrum,
                                              bool log_matrix, bool batch_matrix, double loss_weight,
                                              Tensor<T, 6>* weighted_difference) {
    static_assert(std::is_floating_point_v<T>, "cinediff: focal_frequency_loss computes in float or double");
    check_focal_frequency_arguments(pred.shape(), target.shape(), patch_factor, alpha);
    auto fp = fft2_real_forward(detail::to_patches(pred, patch_factor), fft_norm::ortho);
    const auto ft = fft2_real_forward(detail::to_patches(target, patch_factor), fft_norm::ortho);
    // D = F_pred - F_target (averaged over the batch with ave_spectrum), in double.
    const index_t batch = pred.shape(0);
    const index_t per_sample = fp.size() / std::max<index_t>(batch, 1);
    const index_t samples = ave_spectrum ? std::min<index_t>(batch, 1) : batch;
    shape_t<6> dshape = fp.shape();
    dshape[0] = samples;
    std::vector<double> diff(static_cast<std::size_t>(samples * per_sample));
    if (ave_spectrum) {
        for (index_t k = 0; k < per_sample; ++k) {
            double s = 0;
            for (index_t b = 0; b < batch; ++b) {
                s += static_cast<double>(fp.data()[b * per_sample + k]) -
                     static_cast<double>(ft.data()[b * per_sample + k]);
            }
            diff[static_cast<std::size_t>(k)] = s / static_cast<double>(batch);
        }
    } else {
        for (index_t k = 0; k < fp.size(); ++k) {
            diff[static_cast<std::size_t>(k)] =
                static_cast<double>(fp.data()[k]) - static_cast<double>(ft.data()[k]);
        }
    }
    const index_t plane = dshape[3] * dshape[4];
    const index_t count = samples * per_sample / 2;
    const index_t planes = plane == 0 ? 0 : count / plane;
    std::vector<double> dist(static_cast<std::size_t>(count)), weight(dist.size());
    for (index_t k = 0; k < count; ++k) {
        const double re = diff[static_cast<std::size_t>(2 * k)],
                     im = diff[static_cast<std::size_t>(2 * k + 1)];
        dist[static_cast<std::size_t>(k)] = re * re + im * im;
        double w = std::pow(std::sqrt(dist[static_cast<std::size_t>(k)]), alpha);
        if (log_matrix) {
            w = std::log(w + 1.0);
        }
        weight[static_cast<std::size_t>(k)] = w;
    }
    auto normalise = [&](index_t begin, index_t end, double m) {
        for (index_t k = begin; k < end; ++k) {
            double w = weight[static_cast<std::size_t>(k)] / m;
            w = std::isnan(w) ? 0.0 : std::clamp(w, 0.0, 1.0);
            weight[static_cast<std::size_t>(k)] = w;
        }
    };
    auto max_of = [&](index_t begin, index_t end) {
        double m = -std::numeric_limits<double>::infinity();
        for (index_t k = begin; k < end; ++k) {
            const double w = weight[static_cast<std::size_t>(k)];
            m = (w > m || std::isnan(w)) && !std::isnan(m) ? w : m;
        }
        return m;
    };
    if (batch_matrix) {
        normalise(0, count, max_of(0, count));
    } else {
        for (index_t q = 0; q < planes; ++q) {
            normalise(q * plane, (q + 1) * plane, max_of(q * plane, (q + 1) * plane));
        }
    }
    double total = 0;
    for (index_t k = 0; k < count; ++k) {
        total += weight[static_cast<std::size_t>(k)] * dist[static_cast<std::size_t>(k)];
    }
    if (weighted_difference) {
        *weighted_difference = Tensor<T, 6>(dshape);
        T* wd = weighted_difference->data();
        for (index_t k = 0; k < count; ++k) {
            const double w = weight[static_cast<std::size_t>(k)];
            wd[2 * k] = static_cast<T>(w * diff[static_cast<std::size_t>(2 * k)]);
            wd[2 * k + 1] = static_cast<T>(w * diff[static_cast<std::size_t>(2 * k + 1)]);
        }
    }
    return {loss_weight * total / static_cast<double>(count), count};
}

// Gradient with respect to pred (the target's is its negative) for a loss gradient `grad`:
// F-gradient 2 · grad · loss_weight · W·D / count (divided by N and repeated over the batch with
// ave_spectrum), through the adjoint of the ortho FFT and the patching.
template <class T>
Tensor<T, 4> focal_frequency_backward(const Tensor<T, 6>& weighted_difference, const shape_t<4>& pred_shape,
                                      index_t patch_factor, bool ave_spectrum, double loss_weight,
                                      index_t count, double grad) {
    shape_t<6> fshape = weighted_difference.shape();
    fshape[0] = pred_shape[0];
    Tensor<T, 6> gf(fshape);
    const index_t per_sample =
        weighted_difference.size() / std::max<index_t>(weighted_difference.shape(0), 1);
    const double scale = 2.0 * grad * loss_weight / static_cast<double>(count) /
                         (ave_spectrum ? static_cast<double>(pred_shape[0]) : 1.0);
    for (index_t k = 0; k < gf.size(); ++k) {
        gf.data()[k] = static_cast<T>(
            scale * static_cast<double>(weighted_difference.data()[ave_spectrum ? k % per_sample : k]));
    }
    return detail::from_patches(fft2_real_backward(gf, fft_norm::ortho), pred_shape, patch_factor);
}

} // namespace cinediff::nn::kernels
