#pragma once

#include <array>
#include <optional>

#include <cinediff/nn/functional/conv.hpp>
#include <cinediff/nn/init.hpp>
#include <cinediff/nn/module.hpp>

// torch.nn.Conv{1,2,3}d and ConvTranspose{1,2,3}d as modules. Channel counts and attributes are
// static (the configuration); batch and spatial extents are run-time:
//
//     nn::Conv2d<float, nn::conv2d_config{.in_channels = 1, .out_channels = 4, .kernel_size = {3, 3},
//                                         .padding = {1, 1}}> conv(gen);
//     nn::Conv3d<float, nn::conv3d_config{.in_channels = 4, .out_channels = 4, .kernel_size = {3, 3, 3},
//                                         .padding = {0, 1, 1}, .causal = true}> temporal(gen);
//
// Inputs are batched, (N, C_in, spatial...). state_dict keys: weight (C_out, C_in / groups, k...)
// for convolutions, (C_in, C_out / groups, k...) for transposed ones, and bias (C_out). Only
// padding_mode='zeros' exists (pad explicitly with nn/functional/pad.hpp for the others).
namespace cinediff::nn {

namespace detail {

template <std::size_t N>
constexpr std::array<index_t, N> filled_array(index_t v) {
    std::array<index_t, N> a{};
    for (auto& x : a) {
        x = v;
    }
    return a;
}

template <std::size_t N>
constexpr bool all_positive(const std::array<index_t, N>& a) {
    for (index_t x : a) {
        if (x <= 0) {
            return false;
        }
    }
    return true;
}

template <std::size_t N>
constexpr bool all_non_negative(const std::array<index_t, N>& a) {
    for (index_t x : a) {
        if (x < 0) {
            return false;
        }
    }
    return true;
}

} // namespace detail

// torch.nn.ConvNd's constructor arguments (padding_mode is always 'zeros'). `causal` pads the
// first spatial axis (time) by (kernel_size[0] - 1) * dilation[0] on the past side only; then
// padding[0] must be 0.
template <std::size_t N>
struct conv_config {
    index_t in_channels;
    index_t out_channels;
    std::array<index_t, N> kernel_size;
    std::array<index_t, N> stride = detail::filled_array<N>(1);
    std::array<index_t, N> padding = detail::filled_array<N>(0);
    std::array<index_t, N> dilation = detail::filled_array<N>(1);
    index_t groups = 1;
    bool bias = true;
    bool causal = false;
};
using conv1d_config = conv_config<1>;
using conv2d_config = conv_config<2>;
using conv3d_config = conv_config<3>;

// torch.nn.ConvTransposeNd's constructor arguments (padding_mode is always 'zeros').
template <std::size_t N>
struct conv_transpose_config {
    index_t in_channels;
    index_t out_channels;
    std::array<index_t, N> kernel_size;
    std::array<index_t, N> stride = detail::filled_array<N>(1);
    std::array<index_t, N> padding = detail::filled_array<N>(0);
    std::array<index_t, N> output_padding = detail::filled_array<N>(0);
    index_t groups = 1;
    bool bias = true;
    std::array<index_t, N> dilation = detail::filled_array<N>(1);
};
using conv_transpose1d_config = conv_transpose_config<1>;
using conv_transpose2d_config = conv_transpose_config<2>;
using conv_transpose3d_config = conv_transpose_config<3>;

namespace detail {

template <std::size_t N, auto Config>
constexpr bool output_padding_ok() {
    for (std::size_t d = 0; d < N; ++d) {
        if (Config.output_padding[d] < 0 || (Config.output_padding[d] >= Config.stride[d] &&
                                             Config.output_padding[d] >= Config.dilation[d])) {
            return false;
        }
    }
    return true;
}

// The shared implementation of ConvNd (Transposed = false) and ConvTransposeNd.
template <class T, std::size_t N, bool Transposed, auto Config>
class conv_module {
    static_assert(std::is_floating_point_v<T>, "Conv: the element type must be float or double");
    static_assert(Config.in_channels > 0 && Config.out_channels > 0,
                  "Conv: in_channels and out_channels must be positive");
    static_assert(Config.groups > 0, "Conv: groups must be positive");
    static_assert(Config.in_channels % Config.groups == 0, "Conv: in_channels must be divisible by groups");
    static_assert(Config.out_channels % Config.groups == 0, "Conv: out_channels must be divisible by groups");
    static_assert(all_positive(Config.kernel_size), "Conv: kernel_size must be positive");
    static_assert(all_positive(Config.stride), "Conv: stride must be positive");
    static_assert(all_positive(Config.dilation), "Conv: dilation must be positive");
    static_assert(all_non_negative(Config.padding), "Conv: padding must be non-negative");

  public:
    using value_type = T;
    static constexpr auto config = Config;

    static constexpr shape_t<N + 2> weight_shape() {
        shape_t<N + 2> s{};
        if constexpr (Transposed) {
            s[0] = Config.in_channels;
            s[1] = Config.out_channels / Config.groups;
        } else {
            s[0] = Config.out_channels;
            s[1] = Config.in_channels / Config.groups;
        }
        for (std::size_t d = 0; d < N; ++d) {
            s[d + 2] = Config.kernel_size[d];
        }
        return s;
    }

    // Zero-filled parameters (to be loaded from a state_dict).
    conv_module() : weight(make_parameter<T, N + 2>(weight_shape())) {
        if constexpr (Config.bias) {
            bias.emplace(make_parameter<T, 1>({Config.out_channels}));
        }
    }
    // PyTorch's default initialisation: kaiming_uniform_(weight, a=sqrt(5)), bias uniform in
    // ±1/sqrt(fan_in) with fan_in = weight.shape[1] * prod(kernel_size).
    explicit conv_module(philox_generator& gen) : conv_module() {
        init::default_linear_init(weight.mutable_value(), bias ? &bias->mutable_value() : nullptr, gen);
    }

    // input (N, C_in, spatial...) -> (N, C_out, spatial'...).
    autograd::Variable<T, N + 2> operator()(const autograd::Variable<T, N + 2>& input) const {
        if constexpr (Transposed) {
            const kernels::conv_transpose_options<N> o{Config.stride, Config.padding, Config.output_padding,
                                                       Config.groups, Config.dilation};
            if constexpr (N == 1) {
                return functional::conv_transpose1d(input, weight, bias, o);
            } else if constexpr (N == 2) {
                return functional::conv_transpose2d(input, weight, bias, o);
            } else {
                return functional::conv_transpose3d(input, weight, bias, o);
            }
        } else {
            kernels::conv_options<N> o;
            o.stride = Config.stride;
            o.padding = Config.padding;
            o.dilation = Config.dilation;
            o.groups = Config.groups;
            o.causal = Config.causal;
            if constexpr (N == 1) {
                return functional::conv1d(input, weight, bias, o);
            } else if constexpr (N == 2) {
                return functional::conv2d(input, weight, bias, o);
            } else {
                return functional::conv3d(input, weight, bias, o);
            }
        }
    }

    template <class V>
    void visit(V& v) {
        v.parameter("weight", weight);
        if (bias) {
            v.parameter("bias", *bias);
        }
    }

    Parameter<T, N + 2> weight;
    std::optional<Parameter<T, 1>> bias;
};

template <std::size_t N, auto Config>
inline constexpr bool causal_padding_ok = !Config.causal || Config.padding[0] == 0;

} // namespace detail

template <class T, conv1d_config Config>
class Conv1d : public detail::conv_module<T, 1, false, Config> {
    static_assert(detail::causal_padding_ok<1, Config>, "Conv1d: causal convolution needs padding[0] == 0");

  public:
    using detail::conv_module<T, 1, false, Config>::conv_module;
};

template <class T, conv2d_config Config>
class Conv2d : public detail::conv_module<T, 2, false, Config> {
    static_assert(detail::causal_padding_ok<2, Config>, "Conv2d: causal convolution needs padding[0] == 0");

  public:
    using detail::conv_module<T, 2, false, Config>::conv_module;
};

template <class T, conv3d_config Config>
class Conv3d : public detail::conv_module<T, 3, false, Config> {
    static_assert(detail::causal_padding_ok<3, Config>,
                  "Conv3d: causal convolution needs padding[0] == 0 (time is padded on the past side)");

  public:
    using detail::conv_module<T, 3, false, Config>::conv_module;
};

template <class T, conv_transpose1d_config Config>
class ConvTranspose1d : public detail::conv_module<T, 1, true, Config> {
    static_assert(detail::output_padding_ok<1, Config>(),
                  "ConvTranspose1d: output_padding must be smaller than either stride or dilation");

  public:
    using detail::conv_module<T, 1, true, Config>::conv_module;
};

template <class T, conv_transpose2d_config Config>
class ConvTranspose2d : public detail::conv_module<T, 2, true, Config> {
    static_assert(detail::output_padding_ok<2, Config>(),
                  "ConvTranspose2d: output_padding must be smaller than either stride or dilation");

  public:
    using detail::conv_module<T, 2, true, Config>::conv_module;
};

template <class T, conv_transpose3d_config Config>
class ConvTranspose3d : public detail::conv_module<T, 3, true, Config> {
    static_assert(detail::output_padding_ok<3, Config>(),
                  "ConvTranspose3d: output_padding must be smaller than either stride or dilation");

  public:
    using detail::conv_module<T, 3, true, Config>::conv_module;
};

} // namespace cinediff::nn
