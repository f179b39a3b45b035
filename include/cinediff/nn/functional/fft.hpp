#pragma once

#include <string>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/fft.hpp>

// torch.fft.fft2 / ifft2 over the last two dimensions, differentiable. Complex values are a
// trailing dimension of 2 (torch.view_as_real layout):
//
//     auto spectrum = fft2(image);                         // (..., H, W) -> (..., H, W, 2)
//     auto back = ifft2(spectrum, {.norm = "ortho"});      // (..., H, W, 2) -> (..., H, W, 2)
//
// Gradients follow torch's convention for a real-valued loss: the gradient of a complex value is
// (dL/dRe, dL/dIm) in the same layout; the gradient of a real input is the real part of the
// adjoint transform. The `s` and `dim` arguments of torch are not supported (always dims -2, -1).
namespace cinediff::nn::functional {

struct fft_options {
    std::string norm = "backward"; // backward | ortho | forward
};
using fft2_options = fft_options;
using ifft2_options = fft_options;

// Real (..., H, W) -> complex (..., H, W, 2).
template <class T, std::size_t R>
requires(R >= 2) autograd::Variable<T, R + 1> fft2(const autograd::Variable<T, R>& input,
                                                   const fft2_options& options = {}) {
    const auto norm = kernels::parse_fft_norm(options.norm, "fft2");
    auto out = kernels::fft2_real_forward(input.value(), norm);
    return autograd::record(
        "fft2", std::move(out),
        [input, norm](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::fft2_real_backward(gy, norm));
        },
        input);
}

// Complex (..., H, W, 2) -> complex (..., H, W, 2): torch.fft.fft2 of a complex tensor.
template <class T, std::size_t R>
requires(R >= 3) autograd::Variable<T, R> fft2_complex(const autograd::Variable<T, R>& input,
                                                       const fft2_options& options = {}) {
    const auto norm = kernels::parse_fft_norm(options.norm, "fft2");
    auto out = kernels::fft2_complex_forward(input.value(), norm, false, "fft2");
    return autograd::record(
        "fft2", std::move(out),
        [input, norm](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::fft2_complex_backward(gy, norm, false));
        },
        input);
}

// Complex (..., H, W, 2) -> complex (..., H, W, 2): torch.fft.ifft2.
template <class T, std::size_t R>
requires(R >= 3) autograd::Variable<T, R> ifft2(const autograd::Variable<T, R>& input,
                                                const ifft2_options& options = {}) {
    const auto norm = kernels::parse_fft_norm(options.norm, "ifft2");
    auto out = kernels::fft2_complex_forward(input.value(), norm, true, "ifft2");
    return autograd::record(
        "ifft2", std::move(out),
        [input, norm](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::fft2_complex_backward(gy, norm, true));
        },
        input);
}

} // namespace cinediff::nn::functional
