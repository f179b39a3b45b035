#pragma once

// Dynamic Smoothness (Ctrl-GenAug §4.2, after VBench's motion smoothness, Huang et al. 2024): how
// well every odd frame is predicted by interpolating its two neighbours. Host only.
//
//   frames x_0 .. x_{F-1} with values in [0, max_value];
//   for every odd i with i + 1 < F:  x^_i = interpolate(x_{i-1}, x_{i+1});
//   MAE = mean over those i of mean_pixels |x^_i - x_i|;
//   score = (max_value - MAE) / max_value       (higher = smoother; VBench: max_value 255).
// The paper's interpolator is a learned frame-interpolation network (AMT, Li et al. 2023); pass it
// as `interpolate`. Without one, the pixel-wise midpoint (x_{i-1} + x_{i+1}) / 2 is used. VBench
// computes |.| on uint8 frames after rounding; here frames stay in double. Needs F >= 3.

#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

using frame_interpolator = std::function<void(std::span<const double> previous, std::span<const double> next,
                                              std::span<double> out)>;

struct dynamic_smoothness_options {
    double max_value = 255.0;
    frame_interpolator interpolate{}; // empty: midpoint
};

struct dynamic_smoothness_result {
    double score = 0; // (max_value - mae) / max_value
    double mae = 0;
};

// frames: (F, ...) — axis 0 indexes frames, the other axes are the pixels of one frame.
template <class T, std::size_t R>
requires(R >= 2) dynamic_smoothness_result
    dynamic_smoothness(const Tensor<T, R>& frames, const dynamic_smoothness_options& options = {}) {
    const index_t f = frames.shape(0);
    if (f < 3) {
        throw std::invalid_argument("dynamic_smoothness: need at least 3 frames, got " + std::to_string(f));
    }
    if (!(options.max_value > 0)) {
        throw std::invalid_argument("dynamic_smoothness: max_value must be > 0");
    }
    const index_t p = frames.size() / f;
    if (p < 1) {
        throw std::invalid_argument("dynamic_smoothness: frames are empty");
    }
    const auto us = static_cast<std::size_t>(p);
    std::vector<double> prev(us), next(us), out(us);
    double total = 0;
    index_t count = 0;
    for (index_t i = 1; i + 1 < f; i += 2) {
        for (index_t j = 0; j < p; ++j) {
            prev[static_cast<std::size_t>(j)] = static_cast<double>(frames.data()[(i - 1) * p + j]);
            next[static_cast<std::size_t>(j)] = static_cast<double>(frames.data()[(i + 1) * p + j]);
        }
        if (options.interpolate) {
            options.interpolate(prev, next, out);
        } else {
            for (std::size_t j = 0; j < us; ++j) {
                out[j] = 0.5 * (prev[j] + next[j]);
            }
        }
        double s = 0;
        for (index_t j = 0; j < p; ++j) {
            s += std::abs(out[static_cast<std::size_t>(j)] - static_cast<double>(frames.data()[i * p + j]));
        }
        total += s / static_cast<double>(p);
        ++count;
    }
    dynamic_smoothness_result r;
    r.mae = total / static_cast<double>(count);
    r.score = (options.max_value - r.mae) / options.max_value;
    return r;
}

} // namespace cinediff::metrics
