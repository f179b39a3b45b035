#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <cinediff/nn/functional/norm.hpp>
#include <cinediff/nn/module.hpp>
#include <cinediff/tensor/random.hpp>

// torch.nn.GroupNorm, LayerNorm and BatchNorm{1,2,3}d as modules:
//
//     nn::GroupNorm<float, nn::group_norm_config{.num_groups = 32, .num_channels = 320}> norm;
//     nn::LayerNorm<float, nn::layer_norm_config<1>{.normalized_shape = {512}}> ln;
//     nn::BatchNorm2d<float, nn::batch_norm_config{.num_features = 16}> bn;
//
// Affine parameters start as weight = 1, bias = 0 (PyTorch's defaults); the constructors that take
// a generator accept and ignore it, so that every module can be built as M(gen).
// state_dict keys: weight, bias (when affine); BatchNorm adds the buffers running_mean,
// running_var and num_batches_tracked (int64, shape ()) when track_running_stats.
namespace cinediff::nn {

// ---- GroupNorm ---------------------------------------------------------------------------------

struct group_norm_config {
    index_t num_groups;
    index_t num_channels;
    double eps = 1e-5;
    bool affine = true;
};

template <class T, group_norm_config Config>
class GroupNorm {
    static_assert(std::is_floating_point_v<T>, "GroupNorm: the element type must be float or double");
    static_assert(Config.num_groups > 0, "GroupNorm: num_groups must be positive");
    static_assert(Config.num_channels > 0, "GroupNorm: num_channels must be positive");
    static_assert(Config.num_channels % Config.num_groups == 0,
                  "GroupNorm: num_channels must be divisible by num_groups");
    static_assert(Config.eps > 0, "GroupNorm: eps must be positive");

  public:
    using value_type = T;
    static constexpr group_norm_config config = Config;

    GroupNorm() {
        if constexpr (Config.affine) {
            weight.emplace(Tensor<T, 1>({Config.num_channels}, T(1)), true);
            bias.emplace(make_parameter<T, 1>({Config.num_channels}));
        }
    }
    explicit GroupNorm(philox_generator& /*unused: deterministic init*/) : GroupNorm() {}

    // input (N, C, *) with C = num_channels.
    template <std::size_t R>
    requires(R >= 2) autograd::Variable<T, R>
    operator()(const autograd::Variable<T, R>& input) const {
        return functional::group_norm(input, Config.num_groups, weight, bias, Config.eps);
    }

    template <class V>
    void visit(V& v) {
        if (weight) {
            v.parameter("weight", *weight);
            v.parameter("bias", *bias);
        }
    }

    std::optional<Parameter<T, 1>> weight;
    std::optional<Parameter<T, 1>> bias;
};

// ---- LayerNorm ---------------------------------------------------------------------------------

// normalized_shape: the last K extents of the input (layer_norm_config<1>{.normalized_shape = {C}}).
template <std::size_t K>
struct layer_norm_config {
    std::array<index_t, K> normalized_shape;
    double eps = 1e-5;
    bool elementwise_affine = true;
};

template <class T, layer_norm_config Config>
class LayerNorm {
  public:
    static constexpr std::size_t normalized_rank = Config.normalized_shape.size();

  private:
    static_assert(std::is_floating_point_v<T>, "LayerNorm: the element type must be float or double");
    static_assert(normalized_rank > 0, "LayerNorm: normalized_shape must not be empty");
    static_assert(
        [] {
            for (index_t e : Config.normalized_shape) {
                if (e <= 0) {
                    return false;
                }
            }
            return true;
        }(),
        "LayerNorm: every extent of normalized_shape must be positive");
    static_assert(Config.eps > 0, "LayerNorm: eps must be positive");

  public:
    using value_type = T;
    static constexpr auto config = Config;

    LayerNorm() {
        if constexpr (Config.elementwise_affine) {
            weight.emplace(Tensor<T, normalized_rank>(Config.normalized_shape, T(1)), true);
            bias.emplace(make_parameter<T, normalized_rank>(Config.normalized_shape));
        }
    }
    explicit LayerNorm(philox_generator& /*unused: deterministic init*/) : LayerNorm() {}

    // input (..., normalized_shape...).
    template <std::size_t R>
    requires(R >= normalized_rank) autograd::Variable<T, R>
    operator()(const autograd::Variable<T, R>& input) const {
        return functional::layer_norm(input, shape_t<normalized_rank>(Config.normalized_shape), weight, bias,
                                      Config.eps);
    }

    template <class V>
    void visit(V& v) {
        if (weight) {
            v.parameter("weight", *weight);
            v.parameter("bias", *bias);
        }
    }

    std::optional<Parameter<T, normalized_rank>> weight;
    std::optional<Parameter<T, normalized_rank>> bias;
};

// ---- BatchNorm ---------------------------------------------------------------------------------

// torch.nn.BatchNormNd's arguments (momentum=None, the cumulative average, is not supported).
struct batch_norm_config {
    index_t num_features;
    double eps = 1e-5;
    double momentum = 0.1;
    bool affine = true;
    bool track_running_stats = true;
};

namespace detail {

// BatchNorm{1,2,3}d differ only in the input ranks they accept: [MinRank, MaxRank].
template <class T, batch_norm_config Config, std::size_t MinRank, std::size_t MaxRank>
class batch_norm_module {
    static_assert(std::is_floating_point_v<T>, "BatchNorm: the element type must be float or double");
    static_assert(Config.num_features > 0, "BatchNorm: num_features must be positive");
    static_assert(Config.eps > 0, "BatchNorm: eps must be positive");
    static_assert(Config.momentum >= 0 && Config.momentum <= 1, "BatchNorm: momentum must be in [0, 1]");

  public:
    using value_type = T;
    static constexpr batch_norm_config config = Config;

    // weight = 1, bias = 0, running_mean = 0, running_var = 1, num_batches_tracked = 0.
    batch_norm_module() {
        if constexpr (Config.affine) {
            weight.emplace(Tensor<T, 1>({Config.num_features}, T(1)), true);
            bias.emplace(make_parameter<T, 1>({Config.num_features}));
        }
        if constexpr (Config.track_running_stats) {
            running_mean = Tensor<T, 1>({Config.num_features}, T(0));
            running_var = Tensor<T, 1>({Config.num_features}, T(1));
            num_batches_tracked.data()[0] = 0;
        }
    }
    explicit batch_norm_module(philox_generator& /*unused: deterministic init*/) : batch_norm_module() {}

    // input (N, C, *). In training the batch statistics normalise and the running estimates are
    // updated (so this is not const); in evaluation the running estimates normalise (the batch
    // statistics when track_running_stats is false).
    template <std::size_t R>
    requires(R >= MinRank && R <= MaxRank) autograd::Variable<T, R>
    operator()(const autograd::Variable<T, R>& input) {
        if (training && Config.track_running_stats) {
            num_batches_tracked.data()[0] += 1;
        }
        Tensor<T, 1>* mean = Config.track_running_stats ? &running_mean : nullptr;
        Tensor<T, 1>* var = Config.track_running_stats ? &running_var : nullptr;
        return functional::batch_norm(input, mean, var, weight, bias, training || !Config.track_running_stats,
                                      Config.momentum, Config.eps);
    }

    template <class V>
    void visit(V& v) {
        if (weight) {
            v.parameter("weight", *weight);
            v.parameter("bias", *bias);
        }
        if constexpr (Config.track_running_stats) {
            v.buffer("running_mean", running_mean);
            v.buffer("running_var", running_var);
            v.buffer("num_batches_tracked", num_batches_tracked);
        }
        v.training_flag(training);
    }

    std::optional<Parameter<T, 1>> weight;
    std::optional<Parameter<T, 1>> bias;
    Tensor<T, 1> running_mean;
    Tensor<T, 1> running_var;
    Tensor<std::int64_t, 0> num_batches_tracked;
    bool training = true;
};

} // namespace detail

// input (N, C) or (N, C, L).
template <class T, batch_norm_config Config>
class BatchNorm1d : public detail::batch_norm_module<T, Config, 2, 3> {
  public:
    using detail::batch_norm_module<T, Config, 2, 3>::batch_norm_module;
};

// input (N, C, H, W).
template <class T, batch_norm_config Config>
class BatchNorm2d : public detail::batch_norm_module<T, Config, 4, 4> {
  public:
    using detail::batch_norm_module<T, Config, 4, 4>::batch_norm_module;
};

// input (N, C, D, H, W).
template <class T, batch_norm_config Config>
class BatchNorm3d : public detail::batch_norm_module<T, Config, 5, 5> {
  public:
    using detail::batch_norm_module<T, Config, 5, 5>::batch_norm_module;
};

} // namespace cinediff::nn
