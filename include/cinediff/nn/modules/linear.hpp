#pragma once

#include <optional>

#include <cinediff/nn/functional/linear.hpp>
#include <cinediff/nn/init.hpp>
#include <cinediff/nn/module.hpp>

// torch.nn.Linear as a module:
//
//     nn::Linear<float, nn::linear_config{.in_features = 8, .out_features = 2}> fc(gen);
//     auto y = fc(x);   // x (..., 8) -> (..., 2)
//
// state_dict keys: weight (out_features, in_features), bias (out_features).
namespace cinediff::nn {

struct linear_config {
    index_t in_features;
    index_t out_features;
    bool bias = true;
};

template <class T, linear_config Config>
class Linear {
    static_assert(std::is_floating_point_v<T>, "Linear: the element type must be float or double");
    static_assert(Config.in_features > 0, "Linear: in_features must be positive");
    static_assert(Config.out_features > 0, "Linear: out_features must be positive");

  public:
    using value_type = T;
    static constexpr linear_config config = Config;

    // Zero-filled parameters (to be loaded from a state_dict).
    Linear() : weight(make_parameter<T, 2>({Config.out_features, Config.in_features})) {
        if constexpr (Config.bias) {
            bias.emplace(make_parameter<T, 1>({Config.out_features}));
        }
    }
    // PyTorch's default initialisation: kaiming_uniform_(weight, a=sqrt(5)), bias uniform in
    // ±1/sqrt(in_features).
    explicit Linear(philox_generator& gen) : Linear() {
        init::default_linear_init(weight.mutable_value(), bias ? &bias->mutable_value() : nullptr, gen);
    }

    // input (..., in_features) -> (..., out_features).
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) const {
        return functional::linear(input, weight, bias);
    }

    template <class V>
    void visit(V& v) {
        v.parameter("weight", weight);
        if (bias) {
            v.parameter("bias", *bias);
        }
    }

    Parameter<T, 2> weight;
    std::optional<Parameter<T, 1>> bias;
};

} // namespace cinediff::nn
