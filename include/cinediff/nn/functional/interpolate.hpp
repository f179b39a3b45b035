#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/functional/pool.hpp>
#include <cinediff/nn/kernels/interpolate.hpp>

// torch.nn.functional.interpolate on (batch, channels, spatial...) Variables:
//
//     auto up = interpolate(x, {.scale_factor = {2.0}, .mode = "bilinear", .align_corners = false});
//     auto to = interpolate(x, {.size = {16, 16, 16}, .mode = "trilinear"});
//
// Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' (4-D), 'trilinear' (5-D) and
// 'area' (adaptive average pooling). 'bicubic' and antialias are not implemented.
namespace cinediff::nn::functional {

struct interpolate_options {
    std::vector<index_t> size{};        // output spatial size: one value for every dimension, or one each
    std::vector<double> scale_factor{}; // multiplier of the spatial size: one value, or one each
    std::string mode = "nearest";
    std::optional<bool> align_corners{};          // linear modes only; default false
    std::optional<bool> recompute_scale_factor{}; // true: the kernel uses in / out, not scale_factor
};

namespace detail {

template <std::size_t N>
std::vector<double> per_dim(const std::vector<double>& v) {
    return v.size() == 1 ? std::vector<double>(N, v[0]) : v;
}

} // namespace detail

template <class T, std::size_t R>
requires(R >= 3 && R <= 5) autograd::Variable<T, R> interpolate(const autograd::Variable<T, R>& input,
                                                                const interpolate_options& options) {
    constexpr std::size_t N = R - 2;
    const std::string& m = options.mode;
    const bool linear_family = m == "linear" || m == "bilinear" || m == "trilinear";
    if (!(linear_family || m == "nearest" || m == "nearest-exact" || m == "area")) {
        throw std::invalid_argument(
            "interpolate: mode '" + m +
            "' is not supported (supported: nearest, nearest-exact, linear, bilinear, "
            "trilinear, area)");
    }
    if (options.align_corners && !linear_family) {
        throw std::invalid_argument(
            "interpolate: align_corners can only be set with the interpolating modes linear | bilinear | "
            "trilinear, not with mode '" +
            m + "'");
    }
    if (linear_family) {
        const std::size_t needed = m == "linear" ? 3 : m == "bilinear" ? 4 : 5;
        if (needed != R) {
            throw shape_error("interpolate: got " + std::to_string(R) + "D input of shape " +
                              shape_to_string(input.shape()) + ", but " + m + " mode needs " +
                              std::to_string(needed) + "D input");
        }
    }
    if (!options.size.empty() && !options.scale_factor.empty()) {
        throw std::invalid_argument("interpolate: only one of size or scale_factor should be defined");
    }
    if (options.size.empty() && options.scale_factor.empty()) {
        throw std::invalid_argument("interpolate: either size or scale_factor should be defined");
    }
    if (!options.size.empty() && options.recompute_scale_factor.value_or(false)) {
        throw std::invalid_argument(
            "interpolate: recompute_scale_factor is not meaningful with an explicit size");
    }
    shape_t<N> out_size{};
    std::array<std::optional<double>, N> scales{};
    if (!options.size.empty()) {
        if (options.size.size() != 1 && options.size.size() != N) {
            throw shape_error("interpolate: size " + shape_to_string(options.size) + " for input of shape " +
                              shape_to_string(input.shape()) + ": expected 1 or " + std::to_string(N) +
                              " values");
        }
        for (std::size_t d = 0; d < N; ++d) {
            out_size[d] = options.size.size() == 1 ? options.size[0] : options.size[d];
        }
    } else {
        if (options.scale_factor.size() != 1 && options.scale_factor.size() != N) {
            throw shape_error("interpolate: scale_factor has " + std::to_string(options.scale_factor.size()) +
                              " values for input of shape " + shape_to_string(input.shape()) +
                              ": expected 1 or " + std::to_string(N));
        }
        const auto sf = detail::per_dim<N>(options.scale_factor);
        for (std::size_t d = 0; d < N; ++d) {
            if (!(sf[d] > 0)) {
                throw std::invalid_argument("interpolate: scale_factor " + std::to_string(sf[d]) +
                                            " must be positive");
            }
            out_size[d] = static_cast<index_t>(std::floor(static_cast<double>(input.shape(d + 2)) * sf[d]));
            if (!options.recompute_scale_factor.value_or(false)) {
                scales[d] = sf[d];
            }
        }
    }
    for (std::size_t d = 0; d < N; ++d) {
        if (out_size[d] <= 0 || input.shape(d + 2) <= 0) {
            throw shape_error("interpolate: input of shape " + shape_to_string(input.shape()) +
                              " and output size " + shape_to_string(out_size) +
                              ": input and output sizes should be greater than 0");
        }
    }
    if (m == "area") {
        return detail::adaptive_avg_pool<N>("interpolate", input, out_size);
    }
    const auto mode = linear_family    ? kernels::interpolate_mode::linear
                      : m == "nearest" ? kernels::interpolate_mode::nearest
                                       : kernels::interpolate_mode::nearest_exact;
    const bool align = options.align_corners.value_or(false);
    auto out = kernels::interpolate_forward<N, T>(input.value(), out_size, mode, align, scales);
    return autograd::record(
        "interpolate", std::move(out),
        [input, mode, align, scales](const auto&, const auto& gy) {
            input.accumulate_grad(
                kernels::interpolate_backward<N, T>(gy, input.shape(), mode, align, scales));
        },
        input);
}

} // namespace cinediff::nn::functional
