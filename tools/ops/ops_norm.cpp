// cinediff-ops entries: group_norm, layer_norm, rms_norm, batch_norm, instance_norm, adain.
//
// layer_norm and rms_norm normalise over the last len(normalized_shape) dims; the kernels see the
// input as (outer, normalized) either way, so the tool runs them on that rank-2 view (weight and
// bias flattened) after checking the shapes, and writes results in the original shapes.
// batch_norm and instance_norm take running_mean and running_var as non-differentiable inputs and,
// when given, also output their updated values (outputs running_mean and running_var).
#include <cinediff/nn/functional/norm.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

void run_group_norm(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<2, 5>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::group_norm(c.input<T, R>("input"), c.int_attr("num_groups"),
                                          c.optional<T, 1>("weight"), c.optional<T, 1>("bias"),
                                          c.float_attr("eps")));
        });
    });
}

// The (outer, inner) view of layer_norm / rms_norm after checking normalized_shape against the
// input, weight and bias.
shape_t<2> last_dims_view(op_context& c, const std::vector<std::int64_t>& normalized_shape) {
    const auto& shape = c.input_shape("input");
    const std::string op = c.spec().name;
    if (normalized_shape.empty()) {
        throw usage_error(op + ": normalized_shape must have at least one value");
    }
    const std::vector<index_t> ns(normalized_shape.begin(), normalized_shape.end());
    const bool fits = shape.size() >= ns.size() && std::equal(ns.begin(), ns.end(), shape.end() - ns.size());
    if (!fits) {
        throw usage_error(op + ": normalized_shape " + shape_to_string(ns) +
                          " does not match the last dims of input " + shape_to_string(shape));
    }
    for (const char* param : {"weight", "bias"}) {
        if (c.has(param) && c.input_shape(param) != ns) {
            throw usage_error(op + ": " + param + " of shape " + shape_to_string(c.input_shape(param)) +
                              " does not match normalized_shape " + shape_to_string(ns));
        }
    }
    index_t inner = 1;
    for (auto e : ns) {
        inner *= e;
    }
    index_t outer = 1;
    for (std::size_t d = 0; d + ns.size() < shape.size(); ++d) {
        outer *= shape[d];
    }
    return {outer, inner};
}

template <class T>
std::optional<autograd::Variable<T, 1>> optional_flat(op_context& c, const std::string& name) {
    if (!c.has(name)) {
        return std::nullopt;
    }
    return c.input_flat<T>(name);
}

template <bool RMS>
void run_last_dims_norm(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        const auto view = last_dims_view(c, c.int_list_attr("normalized_shape"));
        const auto x = c.input_as<T, 2>("input", view);
        const shape_t<1> ns{view[1]};
        const auto weight = optional_flat<T>(c, "weight");
        const double eps = c.float_attr("eps");
        if constexpr (RMS) {
            c.output_as("out", F::rms_norm(x, ns, weight, eps), c.input_shape("input"));
        } else {
            c.output_as("out", F::layer_norm(x, ns, weight, optional_flat<T>(c, "bias"), eps),
                        c.input_shape("input"));
        }
    });
}

// Running statistics: both or neither; outputs their updated values.
template <class T>
std::optional<std::pair<Tensor<T, 1>, Tensor<T, 1>>> running_stats(op_context& c) {
    if (c.has("running_mean") != c.has("running_var")) {
        throw usage_error(c.spec().name + ": running_mean and running_var must be given together");
    }
    if (!c.has("running_mean")) {
        return std::nullopt;
    }
    return std::pair{c.constant<T, 1>("running_mean"), c.constant<T, 1>("running_var")};
}

template <bool Instance>
void run_batch_instance_norm(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<2, 5>(c, "input", [&]<std::size_t R>() {
            const auto x = c.input<T, R>("input");
            auto stats = running_stats<T>(c);
            Tensor<T, 1>* mean = stats ? &stats->first : nullptr;
            Tensor<T, 1>* var = stats ? &stats->second : nullptr;
            const auto weight = c.optional<T, 1>("weight");
            const auto bias = c.optional<T, 1>("bias");
            const double momentum = c.float_attr("momentum");
            const double eps = c.float_attr("eps");
            if constexpr (Instance) {
                c.output("out", F::instance_norm(x, mean, var, weight, bias, c.bool_attr("use_input_stats"),
                                                 momentum, eps));
            } else {
                c.output("out",
                         F::batch_norm(x, mean, var, weight, bias, c.bool_attr("training"), momentum, eps));
            }
            if (stats) {
                c.output("running_mean", stats->first);
                c.output("running_var", stats->second);
            }
        });
    });
}

// adain(content, style) or adain(content, style_mean, style_std).
void run_adain(op_context& c) {
    const bool by_style = c.has("style");
    const bool by_stats = c.has("style_mean") || c.has("style_std");
    if (by_style == by_stats || (by_stats && !(c.has("style_mean") && c.has("style_std")))) {
        throw usage_error("adain: give either style, or both style_mean and style_std");
    }
    dispatch_float(c, "content", [&]<class T>() {
        const double eps = c.float_attr("eps");
        autograd::Variable<T, 2> mean, stdv;
        if (by_style) {
            dispatch_rank<3, 5>(c, "style", [&]<std::size_t RS>() {
                std::tie(mean, stdv) = F::channel_mean_std(c.input<T, RS>("style"), eps);
            });
        } else {
            mean = c.input<T, 2>("style_mean");
            stdv = c.input<T, 2>("style_std");
        }
        dispatch_rank<3, 5>(c, "content", [&]<std::size_t R>() {
            c.output("out", F::adain(c.input<T, R>("content"), mean, stdv, eps));
        });
    });
}

const std::vector<input_spec> running_inputs{{"input"},
                                             {"running_mean", false, true},
                                             {"running_var", false, true},
                                             {"weight", true, true},
                                             {"bias", true, true}};

const op_registration registration({
    {"group_norm",
     {{"input"}, {"weight", true, true}, {"bias", true, true}},
     {{"num_groups", "int", "", true}, {"eps", "float", "1e-05"}},
     {"out"},
     run_group_norm},
    {"layer_norm",
     {{"input"}, {"weight", true, true}, {"bias", true, true}},
     {{"normalized_shape", "ints", "", true}, {"eps", "float", "1e-05"}},
     {"out"},
     run_last_dims_norm<false>},
    // eps defaults to 1e-05 (Mamba's), not torch 2.4's machine epsilon.
    {"rms_norm",
     {{"input"}, {"weight", true, true}},
     {{"normalized_shape", "ints", "", true}, {"eps", "float", "1e-05"}},
     {"out"},
     run_last_dims_norm<true>},
    {"batch_norm",
     running_inputs,
     {{"training", "bool", "false"}, {"momentum", "float", "0.1"}, {"eps", "float", "1e-05"}},
     {"out", "running_mean", "running_var"},
     run_batch_instance_norm<false>},
    {"instance_norm",
     running_inputs,
     {{"use_input_stats", "bool", "true"}, {"momentum", "float", "0.1"}, {"eps", "float", "1e-05"}},
     {"out", "running_mean", "running_var"},
     run_batch_instance_norm<true>},
    {"adain",
     {{"content"}, {"style", true, true}, {"style_mean", true, true}, {"style_std", true, true}},
     {{"eps", "float", "1e-05"}},
     {"out"},
     run_adain},
});

} // namespace
} // namespace cinediff::tools
