#pragma once

#include <cmath>
#include <stdexcept>
#include <string_view>

#include <cinediff/nn/module.hpp>
#include <cinediff/tensor/random_tensor.hpp>

// Parameter initialisation with the formulas of torch.nn.init, drawn from cinediff's Philox
// generator (so the values differ from PyTorch's, but their distributions are the same and a
// seed gives the same weights on every machine and thread count).
namespace cinediff::nn::init {

struct fans {
    double fan_in;
    double fan_out;
};

// torch.nn.init._calculate_fan_in_and_fan_out: dims 0 and 1 are (out, in), the rest receptive field.
template <std::size_t Rank>
fans compute_fans(const shape_t<Rank>& shape) {
    static_assert(Rank >= 2, "fan in and fan out need a tensor of at least 2 dimensions");
    double receptive = 1;
    for (std::size_t d = 2; d < Rank; ++d) {
        receptive *= static_cast<double>(shape[d]);
    }
    return {static_cast<double>(shape[1]) * receptive, static_cast<double>(shape[0]) * receptive};
}

enum class fan_mode { fan_in, fan_out };

// torch.nn.init.calculate_gain for the nonlinearities used here.
inline double calculate_gain(std::string_view nonlinearity, double param = 0.01) {
    if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
        nonlinearity == "conv3d" || nonlinearity == "sigmoid") {
        return 1.0;
    }
    if (nonlinearity == "tanh") {
        return 5.0 / 3.0;
    }
    if (nonlinearity == "relu") {
        return std::sqrt(2.0);
    }
    if (nonlinearity == "leaky_relu") {
        return std::sqrt(2.0 / (1.0 + param * param));
    }
    if (nonlinearity == "selu") {
        return 3.0 / 4.0;
    }
    throw std::invalid_argument("calculate_gain: unsupported nonlinearity '" + std::string(nonlinearity) +
                                "'");
}

template <class T, std::size_t R>
void uniform_(Tensor<T, R>& t, double low, double high, philox_generator& gen) {
    fill_uniform(t, gen, static_cast<T>(low), static_cast<T>(high));
}
template <class T, std::size_t R>
void normal_(Tensor<T, R>& t, double mean, double stddev, philox_generator& gen) {
    fill_normal(t, gen, static_cast<T>(mean), static_cast<T>(stddev));
}
template <class T, std::size_t R>
void zeros_(Tensor<T, R>& t) {
    t = T(0);
}
template <class T, std::size_t R>
void ones_(Tensor<T, R>& t) {
    t = T(1);
}

template <class T, std::size_t R>
void kaiming_uniform_(Tensor<T, R>& t, philox_generator& gen, double a = 0, fan_mode mode = fan_mode::fan_in,
                      std::string_view nonlinearity = "leaky_relu") {
    const auto f = compute_fans(t.shape());
    const double fan = mode == fan_mode::fan_in ? f.fan_in : f.fan_out;
    const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(fan);
    uniform_(t, -bound, bound, gen);
}
template <class T, std::size_t R>
void kaiming_normal_(Tensor<T, R>& t, philox_generator& gen, double a = 0, fan_mode mode = fan_mode::fan_in,
                     std::string_view nonlinearity = "leaky_relu") {
    const auto f = compute_fans(t.shape());
    const double fan = mode == fan_mode::fan_in ? f.fan_in : f.fan_out;
    normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan), gen);
}
template <class T, std::size_t R>
void xavier_uniform_(Tensor<T, R>& t, philox_generator& gen, double gain = 1.0) {
    const auto f = compute_fans(t.shape());
    const double bound = gain * std::sqrt(6.0 / (f.fan_in + f.fan_out));
    uniform_(t, -bound, bound, gen);
}
template <class T, std::size_t R>
void xavier_normal_(Tensor<T, R>& t, philox_generator& gen, double gain = 1.0) {
    const auto f = compute_fans(t.shape());
    normal_(t, 0.0, gain * std::sqrt(2.0 / (f.fan_in + f.fan_out)), gen);
}

// PyTorch's default for nn.Linear and nn.ConvNd: kaiming_uniform_(weight, a=sqrt(5)), and the bias
// uniform in ±1/sqrt(fan_in).
template <class T, std::size_t WR, std::size_t BR>
void default_linear_init(Tensor<T, WR>& weight, Tensor<T, BR>* bias, philox_generator& gen) {
    kaiming_uniform_(weight, gen, std::sqrt(5.0));
    if (bias != nullptr) {
        const double fan_in = compute_fans(weight.shape()).fan_in;
        const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
        uniform_(*bias, -bound, bound, gen);
    }
}

} // namespace cinediff::nn::init
