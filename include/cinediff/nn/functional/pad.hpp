#pragma once

#include <string>
#include <vector>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/pad.hpp>

// torch.nn.functional.pad(input, pad, mode='constant', value=0):
//
//     auto y = pad(x, {1, 1, 2, 2});                                 // W by 1 each side, H by 2
//     auto r = pad(x, {2, 2, 2, 2}, {.mode = "reflect"});
//     auto c = pad(x, {-1, -1});                                     // negative pads crop
namespace cinediff::nn::functional {

struct pad_options {
    std::string mode = "constant"; // constant | reflect | replicate | circular
    double value = 0;              // the fill of constant padding
};

template <class T, std::size_t R>
requires(R >= 1) autograd::Variable<T, R> pad(const autograd::Variable<T, R>& input,
                                              const std::vector<index_t>& pad,
                                              const pad_options& options = {}) {
    const auto mode = kernels::parse_pad_mode(options.mode);
    if (mode != kernels::pad_mode::constant && options.value != 0) {
        throw std::invalid_argument(std::string("pad: padding mode '") + options.mode +
                                    "' doesn't take in value argument");
    }
    auto plan = kernels::make_pad_plan<R>(input.shape(), pad, mode);
    auto out = kernels::pad_forward(input.value(), plan, options.value);
    return autograd::record(
        "pad", std::move(out),
        [input, p = std::move(plan)](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::pad_backward(gy, input.shape(), p));
        },
        input);
}

} // namespace cinediff::nn::functional
