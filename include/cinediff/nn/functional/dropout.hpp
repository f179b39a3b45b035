#pragma once

#include <stdexcept>
#include <string>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/tensor/random_tensor.hpp>

// F.dropout(input, p=0.5, training=True) with cinediff's Philox generator.
//
//     auto h = dropout(x, gen, 0.1);             // training
//     auto h = dropout(x, gen, 0.1, false);      // evaluation: returns input itself
//
// Each element is kept with probability 1 - p and then scaled by 1 / (1 - p); the mask is a pure
// function of the generator's (seed, stream, offset) and the element's index (fill_bernoulli), so
// it is the same for any thread count, and the generator advances by ceil(size / 4) Philox blocks.
// The gradient is grad_output * mask * scale. PyTorch's RNG is not reproduced.
namespace cinediff::nn::kernels {

// The scaled keep mask: 1 / (1 - p) with probability 1 - p, else 0 (all zeros for p = 1).
template <class T, std::size_t R>
Tensor<T, R> dropout_mask(const shape_t<R>& shape, double p, philox_generator& generator) {
    static_assert(std::is_floating_point_v<T>, "cinediff: dropout computes in float or double");
    if (!(p >= 0.0 && p <= 1.0)) {
        throw std::invalid_argument("dropout: probability has to be between 0 and 1, but got " +
                                    std::to_string(p));
    }
    Tensor<T, R> mask(shape);
    if (p == 1.0) {
        return mask;
    }
    fill_bernoulli(mask, generator, 1.0 - p);
    mask *= T(1) / static_cast<T>(1.0 - p);
    return mask;
}

} // namespace cinediff::nn::kernels

namespace cinediff::nn::functional {

template <class T, std::size_t R>
autograd::Variable<T, R> dropout(const autograd::Variable<T, R>& input, philox_generator& generator,
                                 double p = 0.5, bool training = true) {
    if (!(p >= 0.0 && p <= 1.0)) {
        throw std::invalid_argument("dropout: probability has to be between 0 and 1, but got " +
                                    std::to_string(p));
    }
    if (!training || p == 0.0) {
        return input;
    }
    const Tensor<T, R> mask = kernels::dropout_mask<T>(input.shape(), p, generator);
    return input * mask;
}

} // namespace cinediff::nn::functional
