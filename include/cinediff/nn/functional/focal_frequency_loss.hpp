#pragma once

#include <memory>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/focal_frequency_loss.hpp>

// Focal frequency loss (Jiang et al. 2021) with the arguments of the official FocalFrequencyLoss
// module: see nn/kernels/focal_frequency_loss.hpp for the formula.
//
//     auto l = focal_frequency_loss(pred, target);                       // (N, C, H, W) each
//     auto l2 = focal_frequency_loss(pred, target, {.patch_factor = 2, .log_matrix = true});
//
// Returns loss_weight · mean(W · d) as a rank-0 Variable (the official code has no other
// reduction); gradients reach pred and target (the weight matrix W is detached). The official
// optional precomputed `matrix` argument is not supported.
namespace cinediff::nn::functional {

struct focal_frequency_loss_options {
    double loss_weight = 1.0;
    double alpha = 1.0;
    index_t patch_factor = 1;
    bool ave_spectrum = false;
    bool log_matrix = false;
    bool batch_matrix = false;
};

template <class T>
autograd::Variable<T, 0> focal_frequency_loss(const autograd::Variable<T, 4>& pred,
                                              const autograd::Variable<T, 4>& target,
                                              const focal_frequency_loss_options& options = {}) {
    const bool needs_grad = autograd::is_grad_enabled() && (pred.requires_grad() || target.requires_grad());
    auto wd = std::make_shared<Tensor<T, 6>>();
    const auto state = kernels::focal_frequency_forward(
        pred.value(), target.value(), options.alpha, options.patch_factor, options.ave_spectrum,
        options.log_matrix, options.batch_matrix, options.loss_weight, needs_grad ? wd.get() : nullptr);
    return autograd::record(
        "focal_frequency_loss", Tensor<T, 0>(shape_t<0>{}, static_cast<T>(state.value)),
        [pred, target, wd, options, count = state.count](const auto&, const Tensor<T, 0>& gy) {
            const auto g = kernels::focal_frequency_backward(*wd, pred.shape(), options.patch_factor,
                                                             options.ave_spectrum, options.loss_weight, count,
                                                             static_cast<double>(gy()));
            if (pred.requires_grad()) {
                pred.accumulate_grad(g);
            }
            if (target.requires_grad()) {
                target.accumulate_grad(-g);
            }
        },
        pred, target);
}

} // namespace cinediff::nn::functional
