#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/norm.hpp>

// Differentiable normalisations with torch.nn.functional's names, argument names and defaults
// (PyTorch 1.13). Each records one graph node whose backward is the fused closed form of
// nn/kernels/norm.hpp.
//
//     auto y = group_norm(x, 8, weight, bias);              // x: (N, C, ...)
//     auto z = layer_norm(h, {512}, ln_weight, ln_bias);    // over the last dim(s)
//     auto r = rms_norm(h, {512}, rms_weight);              // Mamba / T5
//     auto b = batch_norm(x, &running_mean, &running_var, weight, bias, /*training=*/true);
//
// Optional parameters are std::optional<Variable>; running statistics are plain tensors (buffers)
// passed by pointer (nullptr for None) and updated in place, as in PyTorch.
namespace cinediff::nn::functional {

// An optional Variable argument; a non-deduced context, so that std::nullopt and plain Variables
// can be passed.
template <class T, std::size_t R>
using optional_variable = std::type_identity_t<std::optional<autograd::Variable<T, R>>>;

namespace detail {

template <class T, std::size_t R>
const Tensor<T, R>* value_or_null(const std::optional<autograd::Variable<T, R>>& v) {
    return v ? &v->value() : nullptr;
}

template <class T, std::size_t R>
autograd::Variable<T, R> or_dummy(const std::optional<autograd::Variable<T, R>>& v) {
    return v ? *v : autograd::Variable<T, R>();
}

template <class T, std::size_t R>
bool wants_grad(const std::optional<autograd::Variable<T, R>>& v) {
    return v && v->requires_grad();
}

// Hands the gradients of a normalisation to input, weight and bias.
template <class T, std::size_t R, std::size_t W, class Result>
void distribute(const Result& g, const autograd::Variable<T, R>& input,
                const std::optional<autograd::Variable<T, W>>& weight,
                const std::optional<autograd::Variable<T, W>>& bias) {
    if (input.requires_grad()) {
        input.accumulate_grad(g.grad_input);
    }
    if (wants_grad(weight)) {
        weight->accumulate_grad(g.grad_weight);
    }
    if (wants_grad(bias)) {
        bias->accumulate_grad(g.grad_bias);
    }
}

template <class T, std::size_t R, std::size_t W>
kernels::norm_grad_mask grad_mask(const autograd::Variable<T, R>& input,
                                  const std::optional<autograd::Variable<T, W>>& weight,
                                  const std::optional<autograd::Variable<T, W>>& bias) {
    return {input.requires_grad(), wants_grad(weight), wants_grad(bias)};
}

template <std::size_t K>
shape_t<K> to_shape(const index_t (&s)[K]) {
    shape_t<K> out{};
    for (std::size_t d = 0; d < K; ++d) {
        out[d] = s[d];
    }
    return out;
}

} // namespace detail

// F.group_norm(input, num_groups, weight=None, bias=None, eps=1e-05); input (N, C, *).
template <class T, std::size_t R>
autograd::Variable<T, R> group_norm(const autograd::Variable<T, R>& input, index_t num_groups,
                                    const optional_variable<T, 1>& weight = std::nullopt,
                                    const optional_variable<T, 1>& bias = std::nullopt, double eps = 1e-5) {
    auto f = kernels::group_norm_forward(input.value(), num_groups, detail::value_or_null(weight),
                                         detail::value_or_null(bias), eps);
    return autograd::record(
        "group_norm", std::move(f.output),
        [input, weight, bias, num_groups, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g = kernels::group_norm_backward(input.value(), gy, stats, num_groups,
                                                        detail::value_or_null(weight),
                                                        detail::grad_mask(input, weight, bias));
            detail::distribute(g, input, weight, bias);
        },
        input, detail::or_dummy(weight), detail::or_dummy(bias));
}

// F.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05): normalises over the
// last K dims, which must equal normalized_shape; weight and bias have shape normalized_shape.
template <class T, std::size_t R, std::size_t K>
autograd::Variable<T, R> layer_norm(const autograd::Variable<T, R>& input, const shape_t<K>& normalized_shape,
                                    const optional_variable<T, K>& weight = std::nullopt,
                                    const optional_variable<T, K>& bias = std::nullopt, double eps = 1e-5) {
    auto f = kernels::layer_norm_forward(input.value(), normalized_shape, detail::value_or_null(weight),
                                         detail::value_or_null(bias), eps);
    return autograd::record(
        "layer_norm", std::move(f.output),
        [input, weight, bias, normalized_shape, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g = kernels::layer_norm_backward(input.value(), gy, stats, normalized_shape,
                                                        detail::value_or_null(weight),
                                                        detail::grad_mask(input, weight, bias));
            detail::distribute(g, input, weight, bias);
        },
        input, detail::or_dummy(weight), detail::or_dummy(bias));
}
// layer_norm(x, {512}, w, b): normalized_shape as a braced list.
template <class T, std::size_t R, std::size_t K>
autograd::Variable<T, R> layer_norm(const autograd::Variable<T, R>& input,
                                    const index_t (&normalized_shape)[K],
                                    const optional_variable<T, K>& weight = std::nullopt,
                                    const optional_variable<T, K>& bias = std::nullopt, double eps = 1e-5) {
    return layer_norm(input, detail::to_shape(normalized_shape), weight, bias, eps);
}

// RMSNorm as in Mamba and T5: input * rsqrt(mean(input^2 over the last K dims) + eps) * weight.
// Named and ordered as torch 2.4's F.rms_norm(input, normalized_shape, weight=None, eps=None),
// except that eps defaults to 1e-5 (Mamba's) instead of the dtype's machine epsilon.
template <class T, std::size_t R, std::size_t K>
autograd::Variable<T, R> rms_norm(const autograd::Variable<T, R>& input, const shape_t<K>& normalized_shape,
                                  const optional_variable<T, K>& weight = std::nullopt, double eps = 1e-5) {
    auto f = kernels::rms_norm_forward(input.value(), normalized_shape, detail::value_or_null(weight), eps);
    return autograd::record(
        "rms_norm", std::move(f.output),
        [input, weight, normalized_shape, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g = kernels::rms_norm_backward(
                input.value(), gy, stats, normalized_shape, detail::value_or_null(weight),
                {input.requires_grad(), detail::wants_grad(weight), false});
            detail::distribute(g, input, weight, std::optional<autograd::Variable<T, K>>());
        },
        input, detail::or_dummy(weight));
}
template <class T, std::size_t R, std::size_t K>
autograd::Variable<T, R> rms_norm(const autograd::Variable<T, R>& input, const index_t (&normalized_shape)[K],
                                  const optional_variable<T, K>& weight = std::nullopt, double eps = 1e-5) {
    return rms_norm(input, detail::to_shape(normalized_shape), weight, eps);
}

// F.batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
// momentum=0.1, eps=1e-05); input (N, C, *). In training the batch statistics normalise and the
// running estimates (if given) are updated in place; otherwise the running estimates normalise.
template <class T, std::size_t R>
autograd::Variable<T, R>
batch_norm(const autograd::Variable<T, R>& input, kernels::tensor_arg<T, 1>* running_mean,
           kernels::tensor_arg<T, 1>* running_var, const optional_variable<T, 1>& weight = std::nullopt,
           const optional_variable<T, 1>& bias = std::nullopt, bool training = false, double momentum = 0.1,
           double eps = 1e-5) {
    auto f =
        kernels::batch_norm_forward(input.value(), running_mean, running_var, detail::value_or_null(weight),
                                    detail::value_or_null(bias), training, momentum, eps);
    return autograd::record(
        "batch_norm", std::move(f.output),
        [input, weight, bias, training, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g =
                kernels::batch_norm_backward(input.value(), gy, stats, detail::value_or_null(weight),
                                             training, detail::grad_mask(input, weight, bias));
            detail::distribute(g, input, weight, bias);
        },
        input, detail::or_dummy(weight), detail::or_dummy(bias));
}

// F.instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
// use_input_stats=True, momentum=0.1, eps=1e-05); input (N, C, *).
template <class T, std::size_t R>
autograd::Variable<T, R>
instance_norm(const autograd::Variable<T, R>& input, kernels::tensor_arg<T, 1>* running_mean = nullptr,
              kernels::tensor_arg<T, 1>* running_var = nullptr,
              const optional_variable<T, 1>& weight = std::nullopt,
              const optional_variable<T, 1>& bias = std::nullopt, bool use_input_stats = true,
              double momentum = 0.1, double eps = 1e-5) {
    auto f = kernels::instance_norm_forward(input.value(), running_mean, running_var,
                                            detail::value_or_null(weight), detail::value_or_null(bias),
                                            use_input_stats, momentum, eps);
    return autograd::record(
        "instance_norm", std::move(f.output),
        [input, weight, bias, use_input_stats, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g =
                kernels::instance_norm_backward(input.value(), gy, stats, detail::value_or_null(weight),
                                                use_input_stats, detail::grad_mask(input, weight, bias));
            detail::distribute(g, input, weight, bias);
        },
        input, detail::or_dummy(weight), detail::or_dummy(bias));
}

// Adaptive instance normalisation (Huang & Belongie 2017):
//
//     adain(content, style_mean, style_std) = (content - μ_c) / sqrt(σ²_c + eps) * style_std + style_mean
//
// with μ_c, σ²_c the mean and biased variance of content over its spatial positions per (n, c)
// (exactly instance_norm(content, eps=eps) without affine), and style_mean, style_std of shape
// (N, C). All three are differentiable.
template <class T, std::size_t R>
autograd::Variable<T, R> adain(const autograd::Variable<T, R>& content,
                               const autograd::Variable<T, 2>& style_mean,
                               const autograd::Variable<T, 2>& style_std, double eps = 1e-5) {
    auto f = kernels::adain_forward(content.value(), style_mean.value(), style_std.value(), eps);
    return autograd::record(
        "adain", std::move(f.output),
        [content, style_mean, style_std, stats = std::move(f.stats)](const auto&, const auto& gy) {
            const auto g = kernels::adain_backward(
                content.value(), gy, stats, style_std.value(),
                {content.requires_grad(), style_std.requires_grad(), style_mean.requires_grad()});
            if (content.requires_grad()) {
                content.accumulate_grad(g.grad_input);
            }
            if (style_std.requires_grad()) {
                style_std.accumulate_grad(g.grad_weight);
            }
            if (style_mean.requires_grad()) {
                style_mean.accumulate_grad(g.grad_bias);
            }
        },
        content, style_mean, style_std);
}

// The style statistics of adain: per (n, c) over the spatial positions, mean and
// std = sqrt(biased variance + eps). Both differentiable with respect to input.
template <class T, std::size_t R>
std::pair<autograd::Variable<T, 2>, autograd::Variable<T, 2>>
channel_mean_std(const autograd::Variable<T, R>& input, double eps = 1e-5) {
    auto m = kernels::channel_mean_std_forward(input.value(), eps);
    auto mean = autograd::record(
        "channel_mean", std::move(m.mean),
        [input, eps](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::channel_mean_std_backward(input.value(), &gy, nullptr, eps));
        },
        input);
    auto stdv = autograd::record(
        "channel_std", std::move(m.std),
        [input, eps](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::channel_mean_std_backward(input.value(), nullptr, &gy, eps));
        },
        input);
    return {std::move(mean), std::move(stdv)};
}

// adain(content, style): the style's statistics from channel_mean_std(style, eps); content and
// style need the same (N, C) but may differ in spatial size. Differentiable in both.
template <class T, std::size_t R, std::size_t RS>
autograd::Variable<T, R> adain(const autograd::Variable<T, R>& content,
                               const autograd::Variable<T, RS>& style, double eps = 1e-5) {
    const auto [mean, stdv] = channel_mean_std(style, eps);
    return adain(content, mean, stdv, eps);
}

} // namespace cinediff::nn::functional
