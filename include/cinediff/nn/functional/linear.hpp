#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/linear.hpp>

// Differentiable dense products with torch's names and arguments:
//
//     auto y = linear(x, weight, bias);   // x (..., in), weight (out, in), bias (out)
//     auto z = matmul(a, b);              // batch axes broadcast as in torch.matmul (ranks >= 2)
//     auto w = bmm(a, b);                 // (B, n, m) x (B, m, p), no broadcasting
namespace cinediff::nn::functional {

// torch.nn.functional.linear(input, weight, bias=None): input (..., in_features), weight
// (out_features, in_features), bias (out_features).
template <class T, std::size_t R>
autograd::Variable<T, R>
linear(const autograd::Variable<T, R>& input, const autograd::Variable<T, 2>& weight,
       const std::type_identity_t<std::optional<autograd::Variable<T, 1>>>& bias = std::nullopt) {
    auto out = kernels::linear_forward(input.value(), weight.value(), bias ? &bias->value() : nullptr);
    // A bias that is absent stands in as an empty Variable that does not require grad.
    const autograd::Variable<T, 1> b = bias ? *bias : autograd::Variable<T, 1>();
    return autograd::record(
        "linear", std::move(out),
        [input, weight, b](const auto&, const auto& gy) {
            kernels::grad_request need{input.requires_grad(), weight.requires_grad(), b.requires_grad()};
            auto g = kernels::linear_backward(input.value(), weight.value(), gy, need);
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

namespace detail {

template <class T, std::size_t RA, std::size_t RB>
autograd::Variable<T, kernels::matmul_plan<RA, RB>::rank>
matmul(const char* op, const autograd::Variable<T, RA>& a, const autograd::Variable<T, RB>& b) {
    auto out = kernels::matmul_forward(a.value(), b.value(), op);
    return autograd::record(
        op, std::move(out),
        [a, b, op](const auto&, const auto& gy) {
            auto g =
                kernels::matmul_backward(a.value(), b.value(), gy, a.requires_grad(), b.requires_grad(), op);
            if (g.input) {
                a.accumulate_grad(*g.input);
            }
            if (g.other) {
                b.accumulate_grad(*g.other);
            }
        },
        a, b);
}

} // namespace detail

// torch.matmul(input, other) for operands of rank >= 2: matrix products over the last two axes,
// the leading (batch) axes broadcast; the result has the larger rank.
template <class T, std::size_t RA, std::size_t RB>
autograd::Variable<T, kernels::matmul_plan<RA, RB>::rank> matmul(const autograd::Variable<T, RA>& input,
                                                                 const autograd::Variable<T, RB>& other) {
    return detail::matmul("matmul", input, other);
}

// torch.bmm(input, mat2): (B, n, m) x (B, m, p) -> (B, n, p); batch extents must be equal.
template <class T>
autograd::Variable<T, 3> bmm(const autograd::Variable<T, 3>& input, const autograd::Variable<T, 3>& mat2) {
    if (input.shape(0) != mat2.shape(0)) {
        throw shape_error("bmm: input of shape " + shape_to_string(input.shape()) + " and mat2 of shape " +
                          shape_to_string(mat2.shape()) + " have different batch sizes");
    }
    return detail::matmul("bmm", input, mat2);
}

} // namespace cinediff::nn::functional
