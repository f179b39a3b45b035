#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Embedding lookups (forward and deterministic backward) and the sinusoidal timestep embedding
// of diffusers.
namespace cinediff::nn::kernels {

// Attributes of F.embedding (max_norm, norm_type and sparse are not supported).
struct embedding_options {
    std::optional<index_t> padding_idx =
        std::nullopt;                // this row gets no gradient; negative counts from the end
    bool scale_grad_by_freq = false; // divide each row's gradient by its count in the batch
};

namespace detail {

inline std::optional<index_t> resolve_padding_idx(const std::optional<index_t>& padding_idx, index_t num) {
    if (!padding_idx) {
        return std::nullopt;
    }
    const index_t p = *padding_idx;
    if (p < -num || p >= num) {
        throw std::invalid_argument("embedding: padding_idx " + std::to_string(p) +
                                    " must be within num_embeddings " + std::to_string(num));
    }
    return p < 0 ? p + num : p;
}

} // namespace detail

// out[..., :] = weight[indices[...], :]; indices of any rank R (0 to 3 in practice).
template <class T, std::size_t R>
Tensor<T, R + 1> embedding_forward(const Tensor<std::int64_t, R>& indices, const Tensor<T, 2>& weight,
                                   const embedding_options& options = {}) {
    const index_t num = weight.shape(0);
    const index_t dim = weight.shape(1);
    detail::resolve_padding_idx(options.padding_idx, num);
    shape_t<R + 1> out_shape{};
    for (std::size_t d = 0; d < R; ++d) {
        out_shape[d] = indices.shape(d);
    }
    out_shape[R] = dim;
    Tensor<T, R + 1> out(out_shape);
    for (index_t i = 0; i < indices.size(); ++i) {
        const std::int64_t k = indices.data()[i];
        if (k < 0 || k >= num) {
            throw std::out_of_range("embedding: index " + std::to_string(k) + " at position " +
                                    std::to_string(i) + " is out of range for " + std::to_string(num) +
                                    " embeddings");
        }
    }
    backend::parallel_for(indices.size(), dim, [&](index_t i) {
        const T* src = weight.data() + indices.data()[i] * dim;
        std::copy(src, src + dim, out.data() + i * dim);
    });
    return out;
}

// grad_weight[k] = sum of grad_output rows whose index is k, in the order they appear (a stable
// counting sort groups them, then rows are reduced in parallel: deterministic for any thread
// count); the padding row stays zero.
template <class T, std::size_t R>
Tensor<T, 2> embedding_backward(const Tensor<T, R + 1>& grad_output, const Tensor<std::int64_t, R>& indices,
                                index_t num_weights, const embedding_options& options = {}) {
    const index_t dim = grad_output.shape(R);
    for (std::size_t d = 0; d < R; ++d) {
        if (grad_output.shape(d) != indices.shape(d)) {
            throw shape_error("embedding: grad_output of shape " + shape_to_string(grad_output.shape()) +
                              " does not match indices of shape " + shape_to_string(indices.shape()));
        }
    }
    const auto padding = detail::resolve_padding_idx(options.padding_idx, num_weights);
    const index_t n = indices.size();
    std::vector<index_t> start(static_cast<std::size_t>(num_weights + 1), 0);
    for (index_t i = 0; i < n; ++i) {
        const std::int64_t k = indices.data()[i];
        if (k < 0 || k >= num_weights) {
            throw std::out_of_range("embedding: index " + std::to_string(k) + " at position " +
                                    std::to_string(i) + " is out of range for " +
                                    std::to_string(num_weights) + " embeddings");
        }
        ++start[static_cast<std::size_t>(k + 1)];
    }
    for (index_t k = 0; k < num_weights; ++k) {
        start[static_cast<std::size_t>(k + 1)] += start[static_cast<std::size_t>(k)];
    }
    std::vector<index_t> order(static_cast<std::size_t>(n));
    {
        std::vector<index_t> fill(start.begin(), start.end() - 1);
        for (index_t i = 0; i < n; ++i) {
            order[static_cast<std::size_t>(fill[static_cast<std::size_t>(indices.data()[i])]++)] = i;
        }
    }
    Tensor<T, 2> grad(shape_t<2>{num_weights, dim});
    backend::parallel_for(num_weights, dim * (n / std::max<index_t>(num_weights, 1) + 1), [&](index_t k) {
        const index_t b = start[static_cast<std::size_t>(k)];
        const index_t e = start[static_cast<std::size_t>(k + 1)];
        if (b == e || (padding && *padding == k)) {
            return;
        }
        const double scale = options.scale_grad_by_freq ? 1.0 / static_cast<double>(e - b) : 1.0;
        T* g = grad.data() + k * dim;
        for (index_t j = 0; j < dim; ++j) {
            double acc = 0;
            for (index_t r = b; r < e; ++r) {
                acc += static_cast<double>(grad_output.data()[order[static_cast<std::size_t>(r)] * dim + j]);
            }
            g[j] = static_cast<T>(acc * scale);
        }
    });
    return grad;
}

// diffusers.models.embeddings.get_timestep_embedding: for timesteps t (N,), half = dim / 2,
// freq_i = exp(-log(max_period) * i / (half - downscale_freq_shift)), arg = scale * t * freq,
// emb = [sin(arg), cos(arg)] ([cos, sin] when flip_sin_to_cos), and a zero column appended when
// embedding_dim is odd. Computed in T with diffusers' operation order (diffusers computes in
// float32; T = double gives the same formula in double). Not differentiable.
template <class T>
Tensor<T, 2> get_timestep_embedding(const Tensor<T, 1>& timesteps, index_t embedding_dim,
                                    bool flip_sin_to_cos = false, double downscale_freq_shift = 1,
                                    double scale = 1, double max_period = 10000) {
    static_assert(std::is_floating_point_v<T>,
                  "cinediff: get_timestep_embedding computes in float or double");
    if (embedding_dim < 1) {
        throw std::invalid_argument("get_timestep_embedding: embedding_dim must be positive, got " +
                                    std::to_string(embedding_dim));
    }
    const index_t half = embedding_dim / 2;
    if (half > 0 && static_cast<double>(half) == downscale_freq_shift) {
        throw std::invalid_argument("get_timestep_embedding: half of embedding_dim (" + std::to_string(half) +
                                    ") equals downscale_freq_shift: the frequencies divide by zero");
    }
    std::vector<T> freq(static_cast<std::size_t>(half));
    const T neg_log_period = static_cast<T>(-std::log(max_period));
    const T denom = static_cast<T>(static_cast<double>(half) - downscale_freq_shift);
    for (index_t i = 0; i < half; ++i) {
        const T exponent = neg_log_period * static_cast<T>(i) / denom;
        freq[static_cast<std::size_t>(i)] = std::exp(exponent);
    }
    const index_t n = timesteps.size();
    Tensor<T, 2> out(shape_t<2>{n, embedding_dim});
    const T s = static_cast<T>(scale);
    backend::parallel_for(n, embedding_dim, [&](index_t r) {
        T* row = out.data() + r * embedding_dim;
        const T t = timesteps.data()[r];
        for (index_t i = 0; i < half; ++i) {
            const T arg = s * (t * freq[static_cast<std::size_t>(i)]);
            row[flip_sin_to_cos ? half + i : i] = std::sin(arg);
            row[flip_sin_to_cos ? i : half + i] = std::cos(arg);
        }
    });
    return out;
}

} // namespace cinediff::nn::kernels
