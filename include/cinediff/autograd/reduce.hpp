#pragma once

#include <cinediff/autograd/expression.hpp>

// Differentiable reductions: sum and mean over everything or over chosen axes. The backward
// broadcasts the output gradient back over the reduced axes (one fused loop).
namespace cinediff::autograd {

// A Variable as it is; a differentiable expression evaluated (one fused node).
template <class E>
requires differentiable<E>
auto to_variable(const E& e) {
    if constexpr (is_variable<std::remove_cvref_t<E>>::value) {
        return e;
    } else {
        return e.as_variable();
    }
}

namespace detail {

// A view of `g` (the reduced gradient, reduced axes kept as extent 1) broadcast to `shape`.
template <class T, std::size_t R>
TensorView<const T, R> expand_kept(const Tensor<T, R>& g, const shape_t<R>& shape) {
    return TensorView<const T, R>(g.view()).template broadcast_to<R>(shape);
}

template <std::size_t R, std::size_t N>
shape_t<R> kept_dims_shape(const shape_t<R>& shape, const index_t (&axes)[N]) {
    shape_t<R> out = shape;
    for (index_t a : axes) {
        out[normalize_axis(a, R, "reduce")] = 1;
    }
    return out;
}

} // namespace detail

// Sum of all elements as a rank-0 Variable.
template <class E>
requires differentiable<E>
auto sum(const E& e) {
    const auto x = to_variable(e);
    using T = typename decltype(x)::value_type;
    constexpr std::size_t R = decltype(x)::rank;
    return record(
        "sum", Tensor<T, 0>(shape_t<0>{}, static_cast<T>(cinediff::sum(x.value()))),
        [x](const auto&, const Tensor<T, 0>& gy) { x.accumulate_grad(Tensor<T, R>(x.shape(), gy())); }, x);
}

// Mean of all elements as a rank-0 Variable.
template <class E>
requires differentiable<E>
auto mean(const E& e) {
    const auto x = to_variable(e);
    using T = typename decltype(x)::value_type;
    constexpr std::size_t R = decltype(x)::rank;
    const T n = static_cast<T>(x.size());
    return record(
        "mean",
        Tensor<T, 0>(shape_t<0>{}, static_cast<T>(cinediff::sum(x.value()) / static_cast<double>(x.size()))),
        [x, n](const auto&, const Tensor<T, 0>& gy) { x.accumulate_grad(Tensor<T, R>(x.shape(), gy() / n)); },
        x);
}

// Sum over `axes`; with keep_dims the reduced axes stay with extent 1.
template <class E, std::size_t N>
requires differentiable<E>
auto sum(const E& e, const index_t (&axes)[N], keep_dims_t) {
    const auto x = to_variable(e);
    using T = typename decltype(x)::value_type;
    constexpr std::size_t R = decltype(x)::rank;
    return record(
        "sum", cinediff::sum(x.value(), axes, keep_dims),
        [x](const auto&, const Tensor<T, R>& gy) { x.accumulate_grad(detail::expand_kept(gy, x.shape())); },
        x);
}

template <class E, std::size_t N>
requires differentiable<E>
auto mean(const E& e, const index_t (&axes)[N], keep_dims_t) {
    const auto x = to_variable(e);
    using T = typename decltype(x)::value_type;
    constexpr std::size_t R = decltype(x)::rank;
    const auto kept = detail::kept_dims_shape(x.shape(), axes);
    const T scale = static_cast<T>(static_cast<double>(numel(kept)) / static_cast<double>(x.size()));
    return record(
        "mean", cinediff::mean(x.value(), axes, keep_dims),
        [x, scale](const auto&, const Tensor<T, R>& gy) {
            x.accumulate_grad(detail::expand_kept(gy, x.shape()) * scale);
        },
        x);
}

// Without keep_dims: the reduced axes are dropped (rank R - N).
template <class E, std::size_t N>
requires differentiable<E>
auto sum(const E& e, const index_t (&axes)[N]) {
    return squeeze_axes(sum(e, axes, keep_dims), axes);
}
template <class E, std::size_t N>
requires differentiable<E>
auto mean(const E& e, const index_t (&axes)[N]) {
    return squeeze_axes(mean(e, axes, keep_dims), axes);
}

// Reshapes a Variable (a view of the same elements in row-major order; the gradient is reshaped
// back). One extent may be -1.
template <class E, std::size_t NewRank>
requires differentiable<E>
auto reshape(const E& e, const shape_t<NewRank>& shape) {
    const auto x = to_variable(e);
    using T = typename decltype(x)::value_type;
    Tensor<T, NewRank> value = x.value().reshape(shape).contiguous();
    return record(
        "reshape", std::move(value),
        [x](const auto&, const Tensor<T, NewRank>& gy) { x.accumulate_grad(gy.reshape(x.shape())); }, x);
}

// Drops the given extent-1 axes.
template <class T, std::size_t R, std::size_t N>
Variable<T, R - N> squeeze_axes(const Variable<T, R>& x, const index_t (&axes)[N]) {
    std::array<bool, R> drop{};
    for (index_t a : axes) {
        drop[normalize_axis(a, R, "squeeze")] = true;
    }
    shape_t<R - N> shape{};
    for (std::size_t d = 0, k = 0; d < R; ++d) {
        if (!drop[d]) {
            shape[k++] = x.shape(d);
        } else if (x.shape(d) != 1) {
            throw shape_error("squeeze: axis " + std::to_string(d) + " has extent " +
                              std::to_string(x.shape(d)));
        }
    }
    return reshape(x, shape);
}

} // namespace cinediff::autograd
