// cinediff-ops entries: linear, matmul, bmm, conv1d-3d, conv_transpose1d-3d.
#include <cinediff/nn/functional/conv.hpp>
#include <cinediff/nn/functional/linear.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

template <class T, std::size_t R>
std::optional<autograd::Variable<T, R>> optional_input(op_context& c, const std::string& name) {
    if (!c.has(name)) {
        return std::nullopt;
    }
    return c.input<T, R>(name);
}

template <std::size_t N>
void run_conv(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        const auto input = c.input<T, N + 2>("input");
        const auto weight = c.input<T, N + 2>("weight");
        const auto bias = optional_input<T, 1>(c, "bias");
        nn::kernels::conv_options<N> o;
        o.stride = c.ints_array<N>("stride");
        o.padding = c.ints_array<N>("padding");
        o.dilation = c.ints_array<N>("dilation");
        o.groups = c.int_attr("groups");
        o.causal = c.bool_attr("causal");
        c.output("out", F::detail::conv<N, false>(c.spec().name.c_str(), input, weight, bias, o));
    });
}

template <std::size_t N>
void run_conv_transpose(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        const auto input = c.input<T, N + 2>("input");
        const auto weight = c.input<T, N + 2>("weight");
        const auto bias = optional_input<T, 1>(c, "bias");
        nn::kernels::conv_transpose_options<N> o;
        o.stride = c.ints_array<N>("stride");
        o.padding = c.ints_array<N>("padding");
        o.output_padding = c.ints_array<N>("output_padding");
        o.dilation = c.ints_array<N>("dilation");
        o.groups = c.int_attr("groups");
        c.output("out", F::detail::conv<N, true>(c.spec().name.c_str(), input, weight, bias, o));
    });
}

const std::vector<input_spec> conv_inputs{{"input"}, {"weight"}, {"bias", true, true}};

op_spec conv_spec(const std::string& name, void (*run)(op_context&)) {
    return {name,
            conv_inputs,
            {{"stride", "ints", "1"},
             {"padding", "ints", "0"},
             {"dilation", "ints", "1"},
             {"groups", "int", "1"},
             {"causal", "bool", "false"}},
            {"out"},
            run};
}

op_spec conv_transpose_spec(const std::string& name, void (*run)(op_context&)) {
    return {name,
            conv_inputs,
            {{"stride", "ints", "1"},
             {"padding", "ints", "0"},
             {"output_padding", "ints", "0"},
             {"groups", "int", "1"},
             {"dilation", "ints", "1"}},
            {"out"},
            run};
}

const op_registration registration({
    {"linear",
     {{"input"}, {"weight"}, {"bias", true, true}},
     {},
     {"out"},
     [](op_context& c) {
         dispatch_float(c, "input", [&]<class T>() {
             dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
                 c.output("out", F::linear(c.input<T, R>("input"), c.input<T, 2>("weight"),
                                           optional_input<T, 1>(c, "bias")));
             });
         });
     }},
    {"matmul",
     {{"input"}, {"other"}},
     {},
     {"out"},
     [](op_context& c) {
         dispatch_float(c, "input", [&]<class T>() {
             dispatch_rank<2, 4>(c, "input", [&]<std::size_t RA>() {
                 dispatch_rank<2, 4>(c, "other", [&]<std::size_t RB>() {
                     c.output("out", F::matmul(c.input<T, RA>("input"), c.input<T, RB>("other")));
                 });
             });
         });
     }},
    {"bmm",
     {{"input"}, {"mat2"}},
     {},
     {"out"},
     [](op_context& c) {
         dispatch_float(c, "input", [&]<class T>() {
             c.output("out", F::bmm(c.input<T, 3>("input"), c.input<T, 3>("mat2")));
         });
     }},
    conv_spec("conv1d", run_conv<1>),
    conv_spec("conv2d", run_conv<2>),
    conv_spec("conv3d", run_conv<3>),
    conv_transpose_spec("conv_transpose1d", run_conv_transpose<1>),
    conv_transpose_spec("conv_transpose2d", run_conv_transpose<2>),
    conv_transpose_spec("conv_transpose3d", run_conv_transpose<3>),
});

} // namespace
} // namespace cinediff::tools
