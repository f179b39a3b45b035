#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/conv.hpp>

// Differentiable convolutions with torch.nn.functional's names, argument names and defaults:
//
//     auto y = conv2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}});
//     auto z = conv3d(x, w, std::nullopt, {.padding = {0, 1, 1}, .causal = true});  // causal in time
//     auto u = conv_transpose2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}});
//
// Inputs are batched: (batch, channels, spatial...). Kernels: nn/kernels/conv.hpp.
namespace cinediff::nn::functional {

using conv1d_options = kernels::conv_options<1>;
using conv2d_options = kernels::conv_options<2>;
using conv3d_options = kernels::conv_options<3>;
using conv_transpose1d_options = kernels::conv_transpose_options<1>;
using conv_transpose2d_options = kernels::conv_transpose_options<2>;
using conv_transpose3d_options = kernels::conv_transpose_options<3>;

template <class T>
using optional_bias = std::type_identity_t<std::optional<autograd::Variable<T, 1>>>;

namespace detail {

template <std::size_t N, bool Transposed, class T, class Options>
autograd::Variable<T, N + 2>
conv(const char* op, const autograd::Variable<T, N + 2>& input, const autograd::Variable<T, N + 2>& weight,
     const std::optional<autograd::Variable<T, 1>>& bias, const Options& options) {
    const Tensor<T, 1>* bias_value = bias ? &bias->value() : nullptr;
    auto out = [&] {
        if constexpr (Transposed) {
            return kernels::conv_transpose_forward<N>(input.value(), weight.value(), bias_value, options);
        } else {
            return kernels::conv_forward<N>(input.value(), weight.value(), bias_value, options);
        }
    }();
    // An absent bias stands in as an empty Variable that does not require grad.
    const autograd::Variable<T, 1> b = bias ? *bias : autograd::Variable<T, 1>();
    return autograd::record(
        op, std::move(out),
        [input, weight, b, options](const auto&, const auto& gy) {
            const kernels::grad_request need{input.requires_grad(), weight.requires_grad(),
                                             b.requires_grad()};
            auto g = [&] {
                if constexpr (Transposed) {
                    return kernels::conv_transpose_backward<N>(input.value(), weight.value(), gy, options,
                                                               need);
                } else {
                    return kernels::conv_backward<N>(input.value(), weight.value(), gy, options, need);
                }
            }();
            if (g.input) {
                input.accumulate_grad(*g.input);
            }
            if (g.weight) {
                weight.accumulate_grad(*g.weight);
            }
            if (g.bias) {
                b.accumulate_grad(*g.bias);
            }
        },
        input, weight, b);
}

} // namespace detail

// torch.nn.functional.conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
// input (batch, C_in, L), weight (C_out, C_in / groups, k).
template <class T>
autograd::Variable<T, 3> conv1d(const autograd::Variable<T, 3>& input, const autograd::Variable<T, 3>& weight,
                                const optional_bias<T>& bias = std::nullopt,
                                const conv1d_options& options = {}) {
    return detail::conv<1, false>("conv1d", input, weight, bias, options);
}

// torch.nn.functional.conv2d: input (batch, C_in, H, W), weight (C_out, C_in / groups, kH, kW).
template <class T>
autograd::Variable<T, 4> conv2d(const autograd::Variable<T, 4>& input, const autograd::Variable<T, 4>& weight,
                                const optional_bias<T>& bias = std::nullopt,
                                const conv2d_options& options = {}) {
    return detail::conv<2, false>("conv2d", input, weight, bias, options);
}

// torch.nn.functional.conv3d: input (batch, C_in, T, H, W), weight (C_out, C_in / groups, kT, kH, kW).
// `causal = true` pads time by (kT - 1) * dilation on the past side only (video generators).
template <class T>
autograd::Variable<T, 5> conv3d(const autograd::Variable<T, 5>& input, const autograd::Variable<T, 5>& weight,
                                const optional_bias<T>& bias = std::nullopt,
                                const conv3d_options& options = {}) {
    return detail::conv<3, false>("conv3d", input, weight, bias, options);
}

// torch.nn.functional.conv_transpose1d(input, weight, bias=None, stride=1, padding=0,
// output_padding=0, groups=1, dilation=1): weight (C_in, C_out / groups, k).
template <class T>
autograd::Variable<T, 3>
conv_transpose1d(const autograd::Variable<T, 3>& input, const autograd::Variable<T, 3>& weight,
                 const optional_bias<T>& bias = std::nullopt, const conv_transpose1d_options& options = {}) {
    return detail::conv<1, true>("conv_transpose1d", input, weight, bias, options);
}

// torch.nn.functional.conv_transpose2d: weight (C_in, C_out / groups, kH, kW).
template <class T>
autograd::Variable<T, 4>
conv_transpose2d(const autograd::Variable<T, 4>& input, const autograd::Variable<T, 4>& weight,
                 const optional_bias<T>& bias = std::nullopt, const conv_transpose2d_options& options = {}) {
    return detail::conv<2, true>("conv_transpose2d", input, weight, bias, options);
}

// torch.nn.functional.conv_transpose3d: weight (C_in, C_out / groups, kT, kH, kW).
template <class T>
autograd::Variable<T, 5>
conv_transpose3d(const autograd::Variable<T, 5>& input, const autograd::Variable<T, 5>& weight,
                 const optional_bias<T>& bias = std::nullopt, const conv_transpose3d_options& options = {}) {
    return detail::conv<3, true>("conv_transpose3d", input, weight, bias, options);
}

} // namespace cinediff::nn::functional
