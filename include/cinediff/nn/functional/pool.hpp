#pragma once

#include <utility>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/pool.hpp>

// Differentiable pooling with torch.nn.functional's names and arguments:
//
//     auto y = avg_pool2d(x, {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode =
//     true}); auto m = max_pool3d(x, {.kernel_size = {2, 2, 2}}); auto a = adaptive_avg_pool2d(x, {7, 7});
//
// Inputs are batched (N, C, spatial...) or unbatched (C, spatial...), as in torch.
namespace cinediff::nn::functional {

using avg_pool1d_options = kernels::avg_pool_options<1>;
using avg_pool2d_options = kernels::avg_pool_options<2>;
using avg_pool3d_options = kernels::avg_pool_options<3>;
using max_pool1d_options = kernels::max_pool_options<1>;
using max_pool2d_options = kernels::max_pool_options<2>;
using max_pool3d_options = kernels::max_pool_options<3>;

namespace detail {

template <std::size_t N, class T, std::size_t R>
autograd::Variable<T, R> avg_pool(const char* op, const autograd::Variable<T, R>& input,
                                  const kernels::avg_pool_options<N>& options) {
    auto out = kernels::avg_pool_forward<N>(input.value(), options, op);
    return autograd::record(
        op, std::move(out),
        [input, options, op](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::avg_pool_backward<N>(gy, input.shape(), options, op));
        },
        input);
}

template <std::size_t N, class T, std::size_t R>
std::pair<autograd::Variable<T, R>, Tensor<std::int64_t, R>>
max_pool(const char* op, const autograd::Variable<T, R>& input, const kernels::max_pool_options<N>& options) {
    Tensor<std::int64_t, R> indices;
    auto out = kernels::max_pool_forward<N>(input.value(), options, &indices, op);
    auto y = autograd::record(
        op, std::move(out),
        [input, indices](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::max_pool_backward<N>(gy, indices, input.shape()));
        },
        input);
    return {std::move(y), std::move(indices)};
}

template <std::size_t N, class T, std::size_t R>
autograd::Variable<T, R> adaptive_avg_pool(const char* op, const autograd::Variable<T, R>& input,
                                           const shape_t<N>& output_size) {
    auto out = kernels::adaptive_avg_pool_forward<N>(input.value(), output_size, op);
    return autograd::record(
        op, std::move(out),
        [input](const auto&, const auto& gy) {
            input.accumulate_grad(kernels::adaptive_avg_pool_backward<N>(gy, input.shape()));
        },
        input);
}

} // namespace detail

// ---- avg_pool ----------------------------------------------------------------------------------
template <class T, std::size_t R>
requires(R == 2 || R == 3) autograd::Variable<T, R> avg_pool1d(const autograd::Variable<T, R>& input,
                                                               const avg_pool1d_options& options) {
    return detail::avg_pool<1>("avg_pool1d", input, options);
}
template <class T, std::size_t R>
requires(R == 3 || R == 4) autograd::Variable<T, R> avg_pool2d(const autograd::Variable<T, R>& input,
                                                               const avg_pool2d_options& options) {
    return detail::avg_pool<2>("avg_pool2d", input, options);
}
template <class T, std::size_t R>
requires(R == 4 || R == 5) autograd::Variable<T, R> avg_pool3d(const autograd::Variable<T, R>& input,
                                                               const avg_pool3d_options& options) {
    return detail::avg_pool<3>("avg_pool3d", input, options);
}

// ---- max_pool: gradients flow to each window's first maximum -------------------------------------
template <class T, std::size_t R>
requires(R == 2 || R == 3) autograd::Variable<T, R> max_pool1d(const autograd::Variable<T, R>& input,
                                                               const max_pool1d_options& options) {
    return detail::max_pool<1>("max_pool1d", input, options).first;
}
template <class T, std::size_t R>
requires(R == 3 || R == 4) autograd::Variable<T, R> max_pool2d(const autograd::Variable<T, R>& input,
                                                               const max_pool2d_options& options) {
    return detail::max_pool<2>("max_pool2d", input, options).first;
}
template <class T, std::size_t R>
requires(R == 4 || R == 5) autograd::Variable<T, R> max_pool3d(const autograd::Variable<T, R>& input,
                                                               const max_pool3d_options& options) {
    return detail::max_pool<3>("max_pool3d", input, options).first;
}
// return_indices=True: also the flat spatial index of each maximum within its plane (as torch).
template <class T, std::size_t R>
requires(R == 2 || R == 3)
    std::pair<autograd::Variable<T, R>, Tensor<std::int64_t, R>> max_pool1d_with_indices(
        const autograd::Variable<T, R>& input, const max_pool1d_options& options) {
    return detail::max_pool<1>("max_pool1d", input, options);
}
template <class T, std::size_t R>
requires(R == 3 || R == 4)
    std::pair<autograd::Variable<T, R>, Tensor<std::int64_t, R>> max_pool2d_with_indices(
        const autograd::Variable<T, R>& input, const max_pool2d_options& options) {
    return detail::max_pool<2>("max_pool2d", input, options);
}
template <class T, std::size_t R>
requires(R == 4 || R == 5)
    std::pair<autograd::Variable<T, R>, Tensor<std::int64_t, R>> max_pool3d_with_indices(
        const autograd::Variable<T, R>& input, const max_pool3d_options& options) {
    return detail::max_pool<3>("max_pool3d", input, options);
}

// ---- adaptive_avg_pool ---------------------------------------------------------------------------
template <class T, std::size_t R>
requires(R == 2 || R == 3) autograd::Variable<T, R> adaptive_avg_pool1d(const autograd::Variable<T, R>& input,
                                                                        const shape_t<1>& output_size) {
    return detail::adaptive_avg_pool<1>("adaptive_avg_pool1d", input, output_size);
}
template <class T, std::size_t R>
requires(R == 3 || R == 4) autograd::Variable<T, R> adaptive_avg_pool2d(const autograd::Variable<T, R>& input,
                                                                        const shape_t<2>& output_size) {
    return detail::adaptive_avg_pool<2>("adaptive_avg_pool2d", input, output_size);
}
template <class T, std::size_t R>
requires(R == 4 || R == 5) autograd::Variable<T, R> adaptive_avg_pool3d(const autograd::Variable<T, R>& input,
                                                                        const shape_t<3>& output_size) {
    return detail::adaptive_avg_pool<3>("adaptive_avg_pool3d", input, output_size);
}

} // namespace cinediff::nn::functional
