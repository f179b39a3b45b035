// cinediff-ops entries: relu, leaky_relu, silu, gelu, sigmoid, tanh, softplus, softmax,
// log_softmax, dropout.
//
// Elementwise ops (and dropout, whose mask depends only on the element's flat index) run on the
// input flattened to rank 1 and write their results in the input's shape: one instantiation serves
// every rank, scalars included. softmax and log_softmax take inputs of rank 1 to 5.
#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/functional/dropout.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

// Registers an elementwise op: fn(op_context&, Variable<T, 1>) -> Variable<T, 1>.
template <class Fn>
op_spec elementwise(const std::string& name, std::vector<attribute_spec> attributes, Fn fn) {
    return {name, {{"input"}}, std::move(attributes), {"out"}, [fn](op_context& c) {
                dispatch_float(c, "input", [&]<class T>() {
                    const auto x = c.input_flat<T>("input");
                    c.output_as("out", fn.template operator()<T>(c, x), c.input_shape("input"));
                });
            }};
}

template <bool Log>
void run_softmax(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            const auto x = c.input<T, R>("input");
            const auto dim = c.int_attr("dim");
            if constexpr (Log) {
                c.output("out", F::log_softmax(x, dim));
            } else {
                c.output("out", F::softmax(x, dim));
            }
        });
    });
}

const op_registration registration({
    elementwise("relu", {},
                []<class T>(op_context&, const autograd::Variable<T, 1>& x) { return F::relu(x); }),
    elementwise("leaky_relu", {{"negative_slope", "float", "0.01"}},
                []<class T>(op_context& c, const autograd::Variable<T, 1>& x) {
                    return F::leaky_relu(x, c.float_attr("negative_slope"));
                }),
    elementwise("silu", {},
                []<class T>(op_context&, const autograd::Variable<T, 1>& x) { return F::silu(x); }),
    elementwise("gelu", {{"approximate", "string", "none"}},
                []<class T>(op_context& c, const autograd::Variable<T, 1>& x) {
                    return F::gelu(x, c.choice_attr("approximate", {"none", "tanh"}));
                }),
    elementwise("sigmoid", {},
                []<class T>(op_context&, const autograd::Variable<T, 1>& x) { return F::sigmoid(x); }),
    elementwise("tanh", {},
                []<class T>(op_context&, const autograd::Variable<T, 1>& x) { return F::tanh(x); }),
    elementwise("softplus", {{"beta", "float", "1"}, {"threshold", "float", "20"}},
                []<class T>(op_context& c, const autograd::Variable<T, 1>& x) {
                    return F::softplus(x, c.float_attr("beta"), c.float_attr("threshold"));
                }),
    // dropout: cinediff's Philox generator seeded with `seed` (stream 0, offset 0); PyTorch's
    // random numbers are not reproduced, the mask is a pure function of (seed, element index).
    elementwise("dropout", {{"p", "float", "0.5"}, {"training", "bool", "true"}, {"seed", "int", "0"}},
                []<class T>(op_context& c, const autograd::Variable<T, 1>& x) {
                    philox_generator generator(static_cast<std::uint64_t>(c.int_attr("seed")));
                    return F::dropout(x, generator, c.float_attr("p"), c.bool_attr("training"));
                }),
    {"softmax", {{"input"}}, {{"dim", "int", "", true}}, {"out"}, run_softmax<false>},
    {"log_softmax", {{"input"}}, {{"dim", "int", "", true}}, {"out"}, run_softmax<true>},
});

} // namespace
} // namespace cinediff::tools
