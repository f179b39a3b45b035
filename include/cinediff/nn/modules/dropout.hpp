#pragma once

#include <cinediff/nn/functional/dropout.hpp>
#include <cinediff/nn/module.hpp>
#include <cinediff/tensor/random.hpp>

// torch.nn.Dropout as a module, with its own Philox stream:
//
//     nn::Dropout<float, nn::dropout_config{.p = 0.1}> drop(gen.stream("dropout", layer));
//     auto h = drop(x);      // training: zeroes elements with probability p, scales by 1 / (1 - p)
//     nn::eval(drop);        // evaluation: returns its input
//
// The masks are a pure function of the stream and how many elements it has dropped before, so a
// run is reproducible for any thread count; PyTorch's masks are not reproduced. No state_dict keys.
namespace cinediff::nn {

struct dropout_config {
    double p = 0.5;
};

template <class T, dropout_config Config = dropout_config{}>
class Dropout {
    static_assert(std::is_floating_point_v<T>, "Dropout: the element type must be float or double");
    static_assert(Config.p >= 0.0 && Config.p <= 1.0, "Dropout: p must be between 0 and 1");

  public:
    using value_type = T;
    static constexpr dropout_config config = Config;

    // Seed 0 on the stream "dropout" (give each Dropout its own stream for independent masks).
    Dropout() : generator(philox_generator(0).stream("dropout")) {}
    // Takes the generator by value: pass a dedicated stream, e.g. gen.stream("dropout", i). The
    // masks advance this copy, never the caller's generator.
    explicit Dropout(philox_generator stream) : generator(stream) {}

    // Not const: each training-mode call advances the generator.
    template <std::size_t R>
    autograd::Variable<T, R> operator()(const autograd::Variable<T, R>& input) {
        return functional::dropout(input, generator, Config.p, training);
    }

    template <class V>
    void visit(V& v) {
        v.training_flag(training);
    }

    philox_generator generator;
    bool training = true;
};

} // namespace cinediff::nn
