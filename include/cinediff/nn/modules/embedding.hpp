#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include <cinediff/nn/functional/embedding.hpp>
#include <cinediff/nn/init.hpp>
#include <cinediff/nn/module.hpp>

// torch.nn.Embedding as a module (max_norm and sparse gradients are not supported):
//
//     nn::Embedding<float, nn::embedding_config{.num_embeddings = 10, .embedding_dim = 16}> embed(gen);
//     auto e = embed(tokens);   // int64 (B, L) -> (B, L, 16)
//
// state_dict key: weight (num_embeddings, embedding_dim), initialised N(0, 1) with the padding row
// zeroed, as PyTorch.
namespace cinediff::nn {

// padding_idx = None.
inline constexpr index_t no_padding_idx = std::numeric_limits<index_t>::min();

struct embedding_config {
    index_t num_embeddings;
    index_t embedding_dim;
    index_t padding_idx = no_padding_idx; // negative values count from the end, as in torch
    bool scale_grad_by_freq = false;
};

template <class T, embedding_config Config>
class Embedding {
    static_assert(std::is_floating_point_v<T>, "Embedding: the element type must be float or double");
    static_assert(Config.num_embeddings > 0, "Embedding: num_embeddings must be positive");
    static_assert(Config.embedding_dim > 0, "Embedding: embedding_dim must be positive");
    static_assert(Config.padding_idx == no_padding_idx || (Config.padding_idx >= -Config.num_embeddings &&
                                                           Config.padding_idx < Config.num_embeddings),
                  "Embedding: padding_idx must be within num_embeddings");

  public:
    using value_type = T;
    static constexpr embedding_config config = Config;
    // The padding row as a non-negative index (torch normalises it at construction), or nullopt.
    static constexpr std::optional<index_t> padding_idx =
        Config.padding_idx == no_padding_idx ? std::nullopt
        : Config.padding_idx < 0 ? std::optional<index_t>(Config.padding_idx + Config.num_embeddings)
                                 : std::optional<index_t>(Config.padding_idx);

    // Zero-filled weight (to be loaded from a state_dict).
    Embedding() : weight(make_parameter<T, 2>({Config.num_embeddings, Config.embedding_dim})) {}
    // PyTorch's default: normal_(weight, 0, 1), then the padding row set to zero.
    explicit Embedding(philox_generator& gen) : Embedding() {
        init::normal_(weight.mutable_value(), 0.0, 1.0, gen);
        if constexpr (padding_idx.has_value()) {
            auto& w = weight.mutable_value();
            for (index_t j = 0; j < Config.embedding_dim; ++j) {
                w.data()[*padding_idx * Config.embedding_dim + j] = T(0);
            }
        }
    }

    // indices int64 of any shape, each in [0, num_embeddings) -> indices.shape + (embedding_dim,).
    template <std::size_t R>
    autograd::Variable<T, R + 1> operator()(const Tensor<std::int64_t, R>& input) const {
        return functional::embedding(
            input, weight, {.padding_idx = padding_idx, .scale_grad_by_freq = Config.scale_grad_by_freq});
    }

    template <class V>
    void visit(V& v) {
        v.parameter("weight", weight);
    }

    Parameter<T, 2> weight;
};

} // namespace cinediff::nn
