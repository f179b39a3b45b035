#pragma once

#include <cstdint>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/nn/kernels/embedding.hpp>

// F.embedding(input, weight, padding_idx=None, ..., scale_grad_by_freq=False) and diffusers'
// get_timestep_embedding.
//
//     auto e = embedding(tokens, table);                        // tokens int64 (B, L) -> (B, L, D)
//     auto e = embedding(tokens, table, {.padding_idx = 0});
//     Tensor<float, 2> t_emb = get_timestep_embedding(t, 320);  // forward only
namespace cinediff::nn::functional {

using kernels::embedding_options;
using kernels::get_timestep_embedding;

// indices: int64 of any rank R, each in [0, num_embeddings); weight (num_embeddings, dim); the
// result has shape indices.shape + (dim,). Differentiable with respect to weight.
template <class T, std::size_t R>
autograd::Variable<T, R + 1> embedding(const Tensor<std::int64_t, R>& input,
                                       const autograd::Variable<T, 2>& weight,
                                       const embedding_options& options = {}) {
    return autograd::record(
        "embedding", kernels::embedding_forward(input, weight.value(), options),
        [input, weight, options](const auto&, const auto& gy) {
            weight.accumulate_grad(kernels::embedding_backward<T, R>(gy, input, weight.shape(0), options));
        },
        weight);
}

} // namespace cinediff::nn::functional
