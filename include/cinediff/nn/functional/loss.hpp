#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/autograd/reduce.hpp>
#include <cinediff/nn/kernels/loss.hpp>

// Differentiable losses with torch.nn.functional's names, argument names and defaults
// (PyTorch 1.13).
//
// Reduction. torch picks the result's shape at run time (reduction='none' keeps the input's
// shape); here ranks are static, so every loss comes as two functions:
//
//     auto l = mse_loss(x, y);                                   // reduction mean: rank 0
//     auto s = mse_loss(x, y, {.reduction = reduction::sum});    // rank 0
//     auto e = mse_loss_none(x, y);                              // reduction='none': unreduced
//
// `<op>(…, options)` returns a rank-0 Variable and honours options.reduction (mean or sum;
// batchmean for kl_div only); `<op>_none(…, options)` returns the unreduced losses and reads every
// option except `reduction`. Options are `<op>_options` structs whose fields are torch's keyword
// arguments, in torch's order; tensor-valued options (class weights) are constants: no gradient
// flows to them, as in torch.
//
// mse_loss, l1_loss, smooth_l1_loss and kl_div are fused expressions (one forward loop, one node,
// backward by dual numbers) followed by autograd::sum / mean; cross_entropy, nll_loss and
// binary_cross_entropy_with_logits are hand-written kernels (nn/kernels/loss.hpp) with a closed-form
// backward. Gradients reach every Variable argument that requires them, targets included (torch
// also differentiates these targets), except class-index targets. Input and target must have the
// same shape (torch's broadcasting of mismatched shapes, which it warns about, is not supported).
namespace cinediff::nn::functional {

enum class reduction {
    mean,     // the mean over elements (weighted by the target classes' weights where torch does)
    sum,      // the sum
    batchmean // kl_div only: the sum divided by the batch size input.shape(0)
};

struct mse_loss_options {
    functional::reduction reduction = functional::reduction::mean;
};
struct l1_loss_options {
    functional::reduction reduction = functional::reduction::mean;
};
struct smooth_l1_loss_options {
    functional::reduction reduction = functional::reduction::mean;
    double beta = 1.0;
};
struct kl_div_options {
    functional::reduction reduction = functional::reduction::mean;
    bool log_target = false;
};

template <class T>
struct cross_entropy_options {
    std::optional<Tensor<T, 1>> weight{}; // one weight per class, or none
    std::int64_t ignore_index = -100;     // class-index targets only
    functional::reduction reduction = functional::reduction::mean;
    double label_smoothing = 0.0;
};

template <class T>
struct nll_loss_options {
    std::optional<Tensor<T, 1>> weight{}; // one weight per class, or none
    std::int64_t ignore_index = -100;
    functional::reduction reduction = functional::reduction::mean;
};

template <class T, std::size_t R>
struct binary_cross_entropy_with_logits_options {
    // Broadcast to the input's shape (same rank; extents of 1 broadcast), e.g. (1, C, 1, 1).
    std::optional<Tensor<T, R>> weight{};
    functional::reduction reduction = functional::reduction::mean;
    // One weight of positive examples per class, applied along the class dim (dim 1; dim 0 for a
    // rank-1 input). For an (N, C) input this is torch's pos_weight of shape (C); for
    // (N, C, d1, ...) it is torch's pos_weight of shape (C, 1, ..., 1).
    std::optional<Tensor<T, 1>> pos_weight{};
};

namespace detail {

template <class T, std::size_t R>
void check_same_shape(const autograd::Variable<T, R>& input, const autograd::Variable<T, R>& target,
                      const char* op) {
    if (input.shape() != target.shape()) {
        throw shape_error(std::string(op) + ": target of shape " + shape_to_string(target.shape()) +
                          " does not match input of shape " + shape_to_string(input.shape()));
    }
}

// The factor a sum of losses is multiplied by: 1 / mean_denominator for mean, 1 for sum.
inline double reduction_scale(reduction r, double mean_denominator, const char* op) {
    switch (r) {
    case reduction::mean:
        return 1.0 / mean_denominator;
    case reduction::sum:
        return 1.0;
    default:
        throw std::invalid_argument(std::string(op) + ": reduction 'batchmean' is only supported by kl_div");
    }
}

// Reduces unreduced losses with autograd's sum / mean (and kl_div's batchmean).
template <class T, std::size_t R>
autograd::Variable<T, 0> reduce_loss(const autograd::Variable<T, R>& losses, reduction r, const char* op,
                                     bool batchmean_allowed = false) {
    switch (r) {
    case reduction::mean:
        return autograd::mean(losses);
    case reduction::sum:
        return autograd::sum(losses);
    default:
        if (!batchmean_allowed) {
            throw std::invalid_argument(std::string(op) +
                                        ": reduction 'batchmean' is only supported by kl_div");
        }
        if constexpr (R == 0) {
            return autograd::sum(losses);
        } else {
            const T batch = static_cast<T>(losses.shape(0));
            return autograd::Variable<T, 0>(autograd::sum(losses) / batch);
        }
    }
}

// Records a rank-0 loss whose per-element losses come from a kernel: value = sum * scale
// (sum / denominator for a mean); backward(gy_pointer, stride 0, scale * gy) is called with the
// scaled gradient.
template <class T, std::size_t R, class Backward, class... Inputs>
autograd::Variable<T, 0> record_reduced(const char* name, const Tensor<T, R>& losses, reduction r,
                                        double mean_denominator, Backward&& backward,
                                        const Inputs&... inputs) {
    const double scale = reduction_scale(r, mean_denominator, name);
    const double total = kernels::sum_in_double(losses);
    const double value = r == reduction::mean ? total / mean_denominator : total;
    return autograd::record(
        name, Tensor<T, 0>(shape_t<0>{}, static_cast<T>(value)),
        [b = std::forward<Backward>(backward), scale](const auto&, const Tensor<T, 0>& gy) {
            b(gy.data(), index_t(0), scale);
        },
        inputs...);
}

template <class T>
std::shared_ptr<const Tensor<T, 1>> shared_optional(const std::optional<Tensor<T, 1>>& t) {
    return t ? std::make_shared<const Tensor<T, 1>>(*t) : nullptr;
}

} // namespace detail

// ---- mse_loss, l1_loss, smooth_l1_loss ------------------------------------------------------------

// (input - target)²
template <class T, std::size_t R>
autograd::Variable<T, R> mse_loss_none(const autograd::Variable<T, R>& input,
                                       const autograd::Variable<T, R>& target,
                                       const mse_loss_options& /*options*/ = {}) {
    detail::check_same_shape(input, target, "mse_loss");
    return autograd::square(input - target);
}
template <class T, std::size_t R>
autograd::Variable<T, 0> mse_loss(const autograd::Variable<T, R>& input,
                                  const autograd::Variable<T, R>& target,
                                  const mse_loss_options& options = {}) {
    return detail::reduce_loss(mse_loss_none(input, target), options.reduction, "mse_loss");
}

// |input - target| (gradient sign(input - target), 0 where they are equal, as in torch)
template <class T, std::size_t R>
autograd::Variable<T, R> l1_loss_none(const autograd::Variable<T, R>& input,
                                      const autograd::Variable<T, R>& target,
                                      const l1_loss_options& /*options*/ = {}) {
    detail::check_same_shape(input, target, "l1_loss");
    return autograd::abs(input - target);
}
template <class T, std::size_t R>
autograd::Variable<T, 0> l1_loss(const autograd::Variable<T, R>& input,
                                 const autograd::Variable<T, R>& target,
                                 const l1_loss_options& options = {}) {
    return detail::reduce_loss(l1_loss_none(input, target), options.reduction, "l1_loss");
}

// 0.5 d² / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is l1_loss.
template <class T, std::size_t R>
autograd::Variable<T, R> smooth_l1_loss_none(const autograd::Variable<T, R>& input,
                                             const autograd::Variable<T, R>& target,
                                             const smooth_l1_loss_options& options = {}) {
    detail::check_same_shape(input, target, "smooth_l1_loss");
    if (!(options.beta >= 0)) {
        throw std::invalid_argument("smooth_l1_loss: beta must be non-negative, got " +
                                    std::to_string(options.beta));
    }
    if (options.beta == 0) {
        return autograd::abs(input - target);
    }
    const auto d = input - target;
    const T beta = static_cast<T>(options.beta);
    return autograd::where(cinediff::abs(input.value() - target.value()) < beta,
                           autograd::square(d) * (T(0.5) / beta), autograd::abs(d) - T(0.5) * beta);
}
template <class T, std::size_t R>
autograd::Variable<T, 0> smooth_l1_loss(const autograd::Variable<T, R>& input,
                                        const autograd::Variable<T, R>& target,
                                        const smooth_l1_loss_options& options = {}) {
    return detail::reduce_loss(smooth_l1_loss_none(input, target, options), options.reduction,
                               "smooth_l1_loss");
}

// ---- kl_div ------------------------------------------------------------------------------------
//
// input: log-probabilities. target: probabilities (xlogy(target, target) - target · input), or
// log-probabilities with log_target (exp(target) · (target - input)). reduction mean averages over
// every element (torch's 'mean'); batchmean divides the sum by input.shape(0) (the KL divergence).
// The target's gradient where target == 0 (probabilities) is 0; torch gives NaN there.
template <class T, std::size_t R>
autograd::Variable<T, R> kl_div_none(const autograd::Variable<T, R>& input,
                                     const autograd::Variable<T, R>& target,
                                     const kl_div_options& options = {}) {
    detail::check_same_shape(input, target, "kl_div");
    if (options.log_target) {
        return autograd::exp(target) * (target - input);
    }
    return autograd::where(target.value() == T(0), T(0), target * autograd::log(target)) - target * input;
}
template <class T, std::size_t R>
autograd::Variable<T, 0> kl_div(const autograd::Variable<T, R>& input, const autograd::Variable<T, R>& target,
                                const kl_div_options& options = {}) {
    return detail::reduce_loss(kl_div_none(input, target, options), options.reduction, "kl_div", true);
}

// ---- cross_entropy -----------------------------------------------------------------------------
//
// input: unnormalised logits (N, C) or (N, C, d1, ..., dk). target: class indices (N, d1, ..., dk)
// of any integer type, or class probabilities of the input's shape (a Variable: it gets a
// gradient). With class indices, the mean divides by the sum of the weights of the targets that are
// not ignored (by their count without weights); with probabilities, by N · d1 · ... · dk.
// label_smoothing ε mixes the target with the uniform distribution: (1 - ε) target + ε / C.
// torch's unbatched form (input (C), target ()) is not supported: add a batch dim of 1.

template <class T, std::size_t R, class I>
requires std::is_integral_v<I> autograd::Variable<T, R - 1>
cross_entropy_none(const autograd::Variable<T, R>& input, const Tensor<I, R - 1>& target,
                   const cross_entropy_options<T>& options = {}) {
    const auto weight = detail::shared_optional(options.weight);
    const std::int64_t ignore = options.ignore_index;
    const double ls = options.label_smoothing;
    auto losses = kernels::cross_entropy_forward(input.value(), target, weight.get(), ignore, ls, nullptr);
    return autograd::record(
        "cross_entropy", std::move(losses),
        [input, target, weight, ignore, ls](const auto&, const Tensor<T, R - 1>& gy) {
            input.accumulate_grad(kernels::cross_entropy_backward(input.value(), target, weight.get(), ignore,
                                                                  ls, gy.data(), 1, 1.0));
        },
        input);
}

template <class T, std::size_t R, class I>
requires std::is_integral_v<I> autograd::Variable<T, 0>
cross_entropy(const autograd::Variable<T, R>& input, const Tensor<I, R - 1>& target,
              const cross_entropy_options<T>& options = {}) {
    const auto weight = detail::shared_optional(options.weight);
    const std::int64_t ignore = options.ignore_index;
    const double ls = options.label_smoothing;
    double total_weight = 0;
    const auto losses =
        kernels::cross_entropy_forward(input.value(), target, weight.get(), ignore, ls, &total_weight);
    return detail::record_reduced(
        "cross_entropy", losses, options.reduction, total_weight,
        [input, target, weight, ignore, ls](const T* gy, index_t stride, double scale) {
            input.accumulate_grad(kernels::cross_entropy_backward(input.value(), target, weight.get(), ignore,
                                                                  ls, gy, stride, scale));
        },
        input);
}

namespace detail {

template <class T, std::size_t R>
auto cross_entropy_probs_backward_fn(const autograd::Variable<T, R>& input,
                                     const autograd::Variable<T, R>& target,
                                     std::shared_ptr<const Tensor<T, 1>> weight, double ls) {
    return [input, target, weight, ls](const T* gy, index_t stride, double scale) {
        std::optional<Tensor<T, R>> gx, gt;
        if (input.requires_grad()) {
            gx.emplace(input.shape());
        }
        if (target.requires_grad()) {
            gt.emplace(target.shape());
        }
        kernels::cross_entropy_probs_backward(input.value(), target.value(), weight.get(), ls, gy, stride,
                                              scale, gx ? &*gx : nullptr, gt ? &*gt : nullptr);
        if (gx) {
            input.accumulate_grad(*gx);
        }
        if (gt) {
            target.accumulate_grad(*gt);
        }
    };
}

inline void check_no_ignore_index(std::int64_t ignore_index) {
    if (ignore_index >= 0) {
        throw std::invalid_argument("cross_entropy: ignore_index (" + std::to_string(ignore_index) +
                                    ") is not supported for a probability target");
    }
}

} // namespace detail

template <class T, std::size_t R>
autograd::Variable<T, R - 1> cross_entropy_none(const autograd::Variable<T, R>& input,
                                                const autograd::Variable<T, R>& target,
                                                const cross_entropy_options<T>& options = {}) {
    detail::check_no_ignore_index(options.ignore_index);
    const auto weight = detail::shared_optional(options.weight);
    auto losses = kernels::cross_entropy_probs_forward(input.value(), target.value(), weight.get(),
                                                       options.label_smoothing);
    return autograd::record(
        "cross_entropy", std::move(losses),
        [b = detail::cross_entropy_probs_backward_fn(input, target, weight, options.label_smoothing)](
            const auto&, const Tensor<T, R - 1>& gy) { b(gy.data(), 1, 1.0); },
        input, target);
}

template <class T, std::size_t R>
autograd::Variable<T, 0> cross_entropy(const autograd::Variable<T, R>& input,
                                       const autograd::Variable<T, R>& target,
                                       const cross_entropy_options<T>& options = {}) {
    detail::check_no_ignore_index(options.ignore_index);
    const auto weight = detail::shared_optional(options.weight);
    const auto losses = kernels::cross_entropy_probs_forward(input.value(), target.value(), weight.get(),
                                                             options.label_smoothing);
    return detail::record_reduced(
        "cross_entropy", losses, options.reduction, static_cast<double>(losses.size()),
        detail::cross_entropy_probs_backward_fn(input, target, weight, options.label_smoothing), input,
        target);
}

// ---- nll_loss ----------------------------------------------------------------------------------
//
// input: log-probabilities (N, C) or (N, C, d1, ..., dk); target: class indices (N, d1, ..., dk).
// The mean divides by the sum of the weights of the targets that are not ignored.

template <class T, std::size_t R, class I>
requires std::is_integral_v<I> autograd::Variable<T, R - 1>
nll_loss_none(const autograd::Variable<T, R>& input, const Tensor<I, R - 1>& target,
              const nll_loss_options<T>& options = {}) {
    const auto weight = detail::shared_optional(options.weight);
    const std::int64_t ignore = options.ignore_index;
    auto losses = kernels::nll_loss_forward(input.value(), target, weight.get(), ignore, nullptr);
    return autograd::record(
        "nll_loss", std::move(losses),
        [input, target, weight, ignore](const auto&, const Tensor<T, R - 1>& gy) {
            input.accumulate_grad(
                kernels::nll_loss_backward(input.shape(), target, weight.get(), ignore, gy.data(), 1, 1.0));
        },
        input);
}

template <class T, std::size_t R, class I>
requires std::is_integral_v<I> autograd::Variable<T, 0> nll_loss(const autograd::Variable<T, R>& input,
                                                                 const Tensor<I, R - 1>& target,
                                                                 const nll_loss_options<T>& options = {}) {
    const auto weight = detail::shared_optional(options.weight);
    const std::int64_t ignore = options.ignore_index;
    double total_weight = 0;
    const auto losses = kernels::nll_loss_forward(input.value(), target, weight.get(), ignore, &total_weight);
    return detail::record_reduced(
        "nll_loss", losses, options.reduction, total_weight,
        [input, target, weight, ignore](const T* gy, index_t stride, double scale) {
            input.accumulate_grad(
                kernels::nll_loss_backward(input.shape(), target, weight.get(), ignore, gy, stride, scale));
        },
        input);
}

// ---- binary_cross_entropy_with_logits ----------------------------------------------------------
//
// weight · [(1 - target) · input + l · log(1 + exp(-input))], l = (pos_weight - 1) · target + 1,
// computed without overflow for any input. Gradients reach input and target.

namespace detail {

struct bce_constants {
    template <class T, std::size_t R>
    static std::shared_ptr<const Tensor<T, R>> weight(const binary_cross_entropy_with_logits_options<T, R>& o,
                                                      const shape_t<R>& shape) {
        if (!o.weight) {
            return nullptr;
        }
        for (std::size_t d = 0; d < R; ++d) {
            if (o.weight->shape(d) != shape[d] && o.weight->shape(d) != 1) {
                throw shape_error("binary_cross_entropy_with_logits: weight of shape " +
                                  shape_to_string(o.weight->shape()) +
                                  " does not broadcast to input of shape " + shape_to_string(shape));
            }
        }
        if (o.weight->shape() == shape) {
            return std::make_shared<const Tensor<T, R>>(*o.weight);
        }
        return std::make_shared<const Tensor<T, R>>(o.weight->broadcast_to(shape));
    }
    template <class T, std::size_t R>
    static std::shared_ptr<const Tensor<T, 1>>
    pos_weight(const binary_cross_entropy_with_logits_options<T, R>& o, const shape_t<R>& shape) {
        if (!o.pos_weight) {
            return nullptr;
        }
        const index_t classes = kernels::bce_layout(shape).classes;
        if (o.pos_weight->size() != classes) {
            throw shape_error("binary_cross_entropy_with_logits: pos_weight has " +
                              std::to_string(o.pos_weight->size()) + " elements for " +
                              std::to_string(classes) + " classes (dim " + std::to_string(R == 1 ? 0 : 1) +
                              " of input " + shape_to_string(shape) + ")");
        }
        return std::make_shared<const Tensor<T, 1>>(*o.pos_weight);
    }
};

template <class T, std::size_t R>
auto bce_backward_fn(const autograd::Variable<T, R>& input, const autograd::Variable<T, R>& target,
                     std::shared_ptr<const Tensor<T, R>> weight,
                     std::shared_ptr<const Tensor<T, 1>> pos_weight) {
    return [input, target, weight, pos_weight](const T* gy, index_t stride, double scale) {
        std::optional<Tensor<T, R>> gx, gt;
        if (input.requires_grad()) {
            gx.emplace(input.shape());
        }
        if (target.requires_grad()) {
            gt.emplace(target.shape());
        }
        kernels::binary_cross_entropy_with_logits_backward(input.value(), target.value(), weight.get(),
                                                           pos_weight.get(), gy, stride, scale,
                                                           gx ? &*gx : nullptr, gt ? &*gt : nullptr);
        if (gx) {
            input.accumulate_grad(*gx);
        }
        if (gt) {
            target.accumulate_grad(*gt);
        }
    };
}

} // namespace detail

template <class T, std::size_t R>
autograd::Variable<T, R>
binary_cross_entropy_with_logits_none(const autograd::Variable<T, R>& input,
                                      const autograd::Variable<T, R>& target,
                                      const binary_cross_entropy_with_logits_options<T, R>& options = {}) {
    detail::check_same_shape(input, target, "binary_cross_entropy_with_logits");
    const auto weight = detail::bce_constants::weight(options, input.shape());
    const auto pos_weight = detail::bce_constants::pos_weight(options, input.shape());
    auto losses = kernels::binary_cross_entropy_with_logits_forward(input.value(), target.value(),
                                                                    weight.get(), pos_weight.get());
    return autograd::record(
        "binary_cross_entropy_with_logits", std::move(losses),
        [b = detail::bce_backward_fn(input, target, weight, pos_weight)](
            const auto&, const Tensor<T, R>& gy) { b(gy.data(), 1, 1.0); },
        input, target);
}

template <class T, std::size_t R>
autograd::Variable<T, 0>
binary_cross_entropy_with_logits(const autograd::Variable<T, R>& input,
                                 const autograd::Variable<T, R>& target,
                                 const binary_cross_entropy_with_logits_options<T, R>& options = {}) {
    detail::check_same_shape(input, target, "binary_cross_entropy_with_logits");
    const auto weight = detail::bce_constants::weight(options, input.shape());
    const auto pos_weight = detail::bce_constants::pos_weight(options, input.shape());
    const auto losses = kernels::binary_cross_entropy_with_logits_forward(input.value(), target.value(),
                                                                          weight.get(), pos_weight.get());
    return detail::record_reduced("binary_cross_entropy_with_logits", losses, options.reduction,
                                  static_cast<double>(losses.size()),
                                  detail::bce_backward_fn(input, target, weight, pos_weight), input, target);
}

} // namespace cinediff::nn::functional
