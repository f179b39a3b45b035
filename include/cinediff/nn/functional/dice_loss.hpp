#pragma once

#include <string>

#include <cinediff/autograd/reduce.hpp>
#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/functional/loss.hpp>

// Soft Dice loss for segmentation (no torch.nn.functional counterpart; the definition is ours).
//
// input: (N, C, d1, ..., dk) scores, target: probabilities or one-hot masks of the same shape.
// With p = activation(input) (identity, sigmoid, or softmax over the class dim 1) and g = target,
// for every (batch n, class c), sums running over the spatial positions s:
//
//     dice_loss[n, c] = 1 - (2 Σ_s p·g + smooth) / (Σ_s p + Σ_s g + smooth)
//
// dice_loss_none returns that (N, C) matrix; dice_loss its mean over (n, c) (reduction mean) or
// its sum (reduction sum). Gradients reach input and target; they are composed from autograd
// operations (activation, reshape, sum over the spatial axis, one fused expression).
namespace cinediff::nn::functional {

enum class dice_activation {
    none,    // input already holds probabilities
    sigmoid, // multi-label: sigmoid of each logit
    softmax  // multi-class: softmax over the class dim
};

struct dice_loss_options {
    functional::reduction reduction = functional::reduction::mean;
    double smooth = 1.0;
    dice_activation activation = dice_activation::none;
};

template <class T, std::size_t R>
requires(R >= 2) autograd::Variable<T, 2> dice_loss_none(const autograd::Variable<T, R>& input,
                                                         const autograd::Variable<T, R>& target,
                                                         const dice_loss_options& options = {}) {
    detail::check_same_shape(input, target, "dice_loss");
    const auto probs = [&]() -> autograd::Variable<T, R> {
        switch (options.activation) {
        case dice_activation::sigmoid:
            return sigmoid(input);
        case dice_activation::softmax:
            return softmax(input, 1);
        default:
            return input;
        }
    }();
    const shape_t<3> flat{input.shape(0), input.shape(1), -1};
    const auto p = autograd::reshape(probs, flat);
    const auto g = autograd::reshape(target, flat);
    const autograd::Variable<T, 2> intersection = autograd::sum(p * g, {2});
    const autograd::Variable<T, 2> p_sum = autograd::sum(p, {2});
    const autograd::Variable<T, 2> g_sum = autograd::sum(g, {2});
    const T smooth = static_cast<T>(options.smooth);
    return 1 - (2 * intersection + smooth) / (p_sum + g_sum + smooth);
}

template <class T, std::size_t R>
requires(R >= 2) autograd::Variable<T, 0> dice_loss(const autograd::Variable<T, R>& input,
                                                    const autograd::Variable<T, R>& target,
                                                    const dice_loss_options& options = {}) {
    return detail::reduce_loss(dice_loss_none(input, target, options), options.reduction, "dice_loss");
}

} // namespace cinediff::nn::functional
