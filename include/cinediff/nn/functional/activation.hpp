#pragma once

#include <string_view>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/nn/kernels/activation.hpp>

// Differentiable activations with torch.nn.functional's names, argument names and defaults
// (PyTorch 1.13). The element-wise ones are fused expressions (one forward loop, one graph node,
// backward by dual numbers; see autograd/expression.hpp); softmax and log_softmax record a
// hand-written backward. Gradient conventions follow PyTorch: relu'(0) = 0, leaky_relu'(0) =
// negative_slope, softplus' = 1 above the threshold.
namespace cinediff::nn::functional {

template <class T, std::size_t R>
autograd::Variable<T, R> relu(const autograd::Variable<T, R>& input) {
    return kernels::detail::relu_of(input);
}

template <class T, std::size_t R>
autograd::Variable<T, R> leaky_relu(const autograd::Variable<T, R>& input, double negative_slope = 0.01) {
    return kernels::detail::leaky_relu_of(input, negative_slope);
}

// Overflow-free: finite value and gradient for any input (see kernels::detail::sigmoid_of).
template <class T, std::size_t R>
autograd::Variable<T, R> sigmoid(const autograd::Variable<T, R>& input) {
    return kernels::detail::sigmoid_of(input);
}

template <class T, std::size_t R>
autograd::Variable<T, R> tanh(const autograd::Variable<T, R>& input) {
    return autograd::tanh(input);
}

template <class T, std::size_t R>
autograd::Variable<T, R> silu(const autograd::Variable<T, R>& input) {
    return kernels::detail::silu_of(input);
}

// approximate: "none" (erf) or "tanh".
template <class T, std::size_t R>
autograd::Variable<T, R> gelu(const autograd::Variable<T, R>& input, std::string_view approximate = "none") {
    kernels::detail::check_gelu_approximate(approximate);
    if (approximate == "tanh") {
        return kernels::detail::gelu_tanh_of(input);
    }
    return kernels::detail::gelu_erf_of(input);
}

// input where beta * input > threshold, else log(1 + exp(beta * input)) / beta.
template <class T, std::size_t R>
autograd::Variable<T, R> softplus(const autograd::Variable<T, R>& input, double beta = 1,
                                  double threshold = 20) {
    return kernels::detail::softplus_of(input, beta, threshold);
}

template <class T, std::size_t R>
autograd::Variable<T, R> softmax(const autograd::Variable<T, R>& input, index_t dim) {
    return autograd::record(
        "softmax", kernels::softmax_forward(input.value(), dim),
        [input, dim](const auto& y, const auto& gy) {
            input.accumulate_grad(kernels::softmax_backward(y, gy, dim));
        },
        input);
}

template <class T, std::size_t R>
autograd::Variable<T, R> log_softmax(const autograd::Variable<T, R>& input, index_t dim) {
    return autograd::record(
        "log_softmax", kernels::log_softmax_forward(input.value(), dim),
        [input, dim](const auto& y, const auto& gy) {
            input.accumulate_grad(kernels::log_softmax_backward(y, gy, dim));
        },
        input);
}

} // namespace cinediff::nn::functional
