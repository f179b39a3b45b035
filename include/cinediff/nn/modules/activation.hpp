#pragma once

#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/module.hpp>
#include <cinediff/tensor/random.hpp>

// torch.nn.ReLU, SiLU, GELU and Identity as modules (no parameters, no state_dict keys), so that
// they can stand in module lists and compositions:
//
//     nn::SiLU<float> act;
//     nn::GELU<float, nn::gelu_config{.approximate = nn::gelu_approximate::tanh}> gelu;
namespace cinediff::nn {

template <class T>
class ReLU {
  public:
    using value_type = T;
    ReLU() = default;
    explicit ReLU(philox_generator& /*unused*/) {}
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) const {
        return functional::relu(input);
    }
    template <class V>
    void visit(V& /*unused*/) {}
};

template <class T>
class SiLU {
  public:
    using value_type = T;
    SiLU() = default;
    explicit SiLU(philox_generator& /*unused*/) {}
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) const {
        return functional::silu(input);
    }
    template <class V>
    void visit(V& /*unused*/) {}
};

// torch's approximate='none' (the erf form) or 'tanh'.
enum class gelu_approximate { none, tanh };

struct gelu_config {
    gelu_approximate approximate = gelu_approximate::none;
};

template <class T, gelu_config Config = gelu_config{}>
class GELU {
  public:
    using value_type = T;
    static constexpr gelu_config config = Config;
    GELU() = default;
    explicit GELU(philox_generator& /*unused*/) {}
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) const {
        return functional::gelu(input, Config.approximate == gelu_approximate::tanh ? "tanh" : "none");
    }
    template <class V>
    void visit(V& /*unused*/) {}
};

// Returns its input (the same Variable handle), as torch.nn.Identity.
template <class T>
class Identity {
  public:
    using value_type = T;
    Identity() = default;
    explicit Identity(philox_generator& /*unused*/) {}
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) const {
        return input;
    }
    template <class V>
    void visit(V& /*unused*/) {}
};

} // namespace cinediff::nn
