// cinediff-ops entries: mse_loss, l1_loss, smooth_l1_loss, kl_div, cross_entropy, nll_loss,
// binary_cross_entropy_with_logits, dice_loss, focal_frequency_loss.
//
// reduction='none' writes the unreduced losses, 'mean' and 'sum' (and kl_div's 'batchmean') a
// rank-0 output. Class weights (weight of cross_entropy and nll_loss, weight and pos_weight of
// binary_cross_entropy_with_logits) are constants: no gradient, as in torch.
//
// Shapes are checked here against torch's rules, then the losses run on views of fixed rank, which
// the kernels compute exactly as the original shapes:
//   * mse_loss, l1_loss, smooth_l1_loss, kl_div: elementwise, on (size(0), rest);
//   * cross_entropy, nll_loss: input (N, C, d1...) on (N, C, d1*...), (C) on (1, C, 1); class-index
//     targets (N, d1, ...) on (N, d1*...), probability targets like the input;
//   * dice_loss: (N, C, spatial...) on (N, C, spatial*...), as the loss itself reshapes.
#include <cinediff/nn/functional/dice_loss.hpp>
#include <cinediff/nn/functional/focal_frequency_loss.hpp>
#include <cinediff/nn/functional/loss.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

// "none" -> std::nullopt.
std::optional<F::reduction> reduction_attr(op_context& c, bool batchmean = false) {
    std::vector<std::string> choices{"none", "mean", "sum"};
    if (batchmean) {
        choices.push_back("batchmean");
    }
    const auto r = c.choice_attr("reduction", choices);
    if (r == "none") {
        return std::nullopt;
    }
    return r == "mean" ? F::reduction::mean : r == "sum" ? F::reduction::sum : F::reduction::batchmean;
}

std::string shape_text(const std::vector<index_t>& shape) {
    return shape_to_string(shape);
}

void check_same_shape(op_context& c, const char* a, const char* b) {
    if (c.input_shape(a) != c.input_shape(b)) {
        throw usage_error(c.spec().name + ": " + b + " of shape " + shape_text(c.input_shape(b)) +
                          " does not match " + a + " of shape " + shape_text(c.input_shape(a)));
    }
}

index_t product(const std::vector<index_t>& shape, std::size_t from, std::size_t to) {
    index_t n = 1;
    for (std::size_t d = from; d < to && d < shape.size(); ++d) {
        n *= shape[d];
    }
    return n;
}

// ---- elementwise losses, on (size(0), rest) ------------------------------------------------------

shape_t<2> rows_view(const std::vector<index_t>& shape) {
    return shape.empty() ? shape_t<2>{1, 1} : shape_t<2>{shape[0], product(shape, 1, shape.size())};
}

enum class pointwise { mse, l1, smooth_l1, kl_div };

template <pointwise Op>
void run_pointwise(op_context& c) {
    check_same_shape(c, "input", "target");
    dispatch_float(c, "input", [&]<class T>() {
        const auto view = rows_view(c.input_shape("input"));
        const auto x = c.input_as<T, 2>("input", view);
        const auto y = c.input_as<T, 2>("target", view);
        const auto r = reduction_attr(c, Op == pointwise::kl_div);
        auto emit = [&](const auto& none_fn, const auto& reduced_fn) {
            if (r) {
                c.output("out", reduced_fn(*r));
            } else {
                c.output_as("out", none_fn(), c.input_shape("input"));
            }
        };
        if constexpr (Op == pointwise::mse) {
            emit([&] { return F::mse_loss_none(x, y); },
                 [&](F::reduction red) { return F::mse_loss(x, y, {.reduction = red}); });
        } else if constexpr (Op == pointwise::l1) {
            emit([&] { return F::l1_loss_none(x, y); },
                 [&](F::reduction red) { return F::l1_loss(x, y, {.reduction = red}); });
        } else if constexpr (Op == pointwise::smooth_l1) {
            const double beta = c.float_attr("beta");
            emit([&] { return F::smooth_l1_loss_none(x, y, {.beta = beta}); },
                 [&](F::reduction red) { return F::smooth_l1_loss(x, y, {.reduction = red, .beta = beta}); });
        } else {
            const bool log_target = c.bool_attr("log_target");
            emit([&] { return F::kl_div_none(x, y, {.log_target = log_target}); },
                 [&](F::reduction red) {
                     return F::kl_div(x, y, {.reduction = red, .log_target = log_target});
                 });
        }
    });
}

// ---- cross_entropy, nll_loss, on (N, C, d) -------------------------------------------------------

// The (N, C, d) view of an input (N, C, d1, ...) or (C).
shape_t<3> class_view(op_context& c) {
    const auto& s = c.input_shape("input");
    if (s.empty()) {
        throw usage_error(c.spec().name +
                          ": input must have at least one dim (C) or (N, C, ...), got a scalar");
    }
    if (s.size() == 1) {
        return {1, s[0], 1};
    }
    return {s[0], s[1], product(s, 2, s.size())};
}

// The input's shape without the class dim: the shape of class-index targets and unreduced losses.
std::vector<index_t> without_class_dim(const std::vector<index_t>& s) {
    std::vector<index_t> out = s;
    out.erase(out.begin() + (s.size() == 1 ? 0 : 1));
    return out;
}

template <class T>
std::optional<Tensor<T, 1>> class_weight(op_context& c, index_t classes) {
    if (!c.has("weight")) {
        return std::nullopt;
    }
    auto w = c.constant<T, 1>("weight");
    if (w.size() != classes) {
        throw usage_error(c.spec().name + ": weight has " + std::to_string(w.size()) + " elements for " +
                          std::to_string(classes) + " classes");
    }
    return w;
}

Tensor<std::int64_t, 2> class_targets(op_context& c, const shape_t<3>& view) {
    const auto expected = without_class_dim(c.input_shape("input"));
    if (c.input_shape("target") != expected) {
        throw usage_error(c.spec().name + ": class-index target of shape " +
                          shape_text(c.input_shape("target")) + " for input of shape " +
                          shape_text(c.input_shape("input")) + ": expected " + shape_text(expected));
    }
    return c.constant_as<std::int64_t, 2>("target", shape_t<2>{view[0], view[2]});
}

template <bool NLL>
void run_class_loss(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        const auto view = class_view(c);
        const auto x = c.input_as<T, 3>("input", view);
        const auto r = reduction_attr(c);
        const auto weight = class_weight<T>(c, view[1]);
        const auto out_shape = without_class_dim(c.input_shape("input"));
        const auto ignore = c.int_attr("ignore_index");
        const bool probabilities = !NLL && c.input_dtype("target") != dtype::i64;
        if (!probabilities && c.input_dtype("target") != dtype::i64) {
            throw usage_error(c.spec().name + ": target must hold int64 class indices, got " +
                              std::string(dtype_name(c.input_dtype("target"))));
        }
        if constexpr (NLL) {
            const auto target = class_targets(c, view);
            F::nll_loss_options<T> o{.weight = weight, .ignore_index = ignore};
            if (r) {
                o.reduction = *r;
                c.output("out", F::nll_loss(x, target, o));
            } else {
                c.output_as("out", F::nll_loss_none(x, target, o), out_shape);
            }
        } else {
            F::cross_entropy_options<T> o{
                .weight = weight, .ignore_index = ignore, .label_smoothing = c.float_attr("label_smoothing")};
            if (probabilities) {
                check_same_shape(c, "input", "target");
                const auto target = c.input_as<T, 3>("target", view);
                if (r) {
                    o.reduction = *r;
                    c.output("out", F::cross_entropy(x, target, o));
                } else {
                    c.output_as("out", F::cross_entropy_none(x, target, o), out_shape);
                }
            } else {
                const auto target = class_targets(c, view);
                if (r) {
                    o.reduction = *r;
                    c.output("out", F::cross_entropy(x, target, o));
                } else {
                    c.output_as("out", F::cross_entropy_none(x, target, o), out_shape);
                }
            }
        }
    });
}

// ---- binary_cross_entropy_with_logits (rank 1 to 5) ------------------------------------------------

void run_bce_with_logits(op_context& c) {
    check_same_shape(c, "input", "target");
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            F::binary_cross_entropy_with_logits_options<T, R> o;
            if (c.has("weight")) {
                o.weight = c.constant<T, R>("weight");
            }
            if (c.has("pos_weight")) {
                o.pos_weight = c.constant<T, 1>("pos_weight");
            }
            const auto x = c.input<T, R>("input");
            const auto y = c.input<T, R>("target");
            if (const auto r = reduction_attr(c)) {
                o.reduction = *r;
                c.output("out", F::binary_cross_entropy_with_logits(x, y, o));
            } else {
                c.output("out", F::binary_cross_entropy_with_logits_none(x, y, o));
            }
        });
    });
}

// ---- dice_loss, on (N, C, spatial) ----------------------------------------------------------------

void run_dice_loss(op_context& c) {
    check_same_shape(c, "input", "target");
    const auto& s = c.input_shape("input");
    if (s.size() < 2) {
        throw usage_error("dice_loss: input must be (N, C, ...), got shape " + shape_text(s));
    }
    dispatch_float(c, "input", [&]<class T>() {
        const shape_t<3> view{s[0], s[1], product(s, 2, s.size())};
        const auto x = c.input_as<T, 3>("input", view);
        const auto y = c.input_as<T, 3>("target", view);
        F::dice_loss_options o;
        o.smooth = c.float_attr("smooth");
        const auto a = c.choice_attr("activation", {"none", "sigmoid", "softmax"});
        o.activation = a == "sigmoid"   ? F::dice_activation::sigmoid
                       : a == "softmax" ? F::dice_activation::softmax
                                        : F::dice_activation::none;
        if (const auto r = reduction_attr(c)) {
            o.reduction = *r;
            c.output("out", F::dice_loss(x, y, o));
        } else {
            c.output("out", F::dice_loss_none(x, y, o));
        }
    });
}

// ---- focal_frequency_loss ((N, C, H, W) only; the official module has no other reduction) --------

void run_focal_frequency_loss(op_context& c) {
    check_same_shape(c, "input", "target");
    dispatch_float(c, "input", [&]<class T>() {
        F::focal_frequency_loss_options o;
        o.loss_weight = c.float_attr("loss_weight");
        o.alpha = c.float_attr("alpha");
        o.patch_factor = c.int_attr("patch_factor");
        o.ave_spectrum = c.bool_attr("ave_spectrum");
        o.log_matrix = c.bool_attr("log_matrix");
        o.batch_matrix = c.bool_attr("batch_matrix");
        c.output("out", F::focal_frequency_loss(c.input<T, 4>("input"), c.input<T, 4>("target"), o));
    });
}

const std::vector<input_spec> pair_inputs{{"input"}, {"target"}};
const attribute_spec reduction_spec{"reduction", "string", "mean"};

const op_registration registration({
    {"mse_loss", pair_inputs, {reduction_spec}, {"out"}, run_pointwise<pointwise::mse>},
    {"l1_loss", pair_inputs, {reduction_spec}, {"out"}, run_pointwise<pointwise::l1>},
    {"smooth_l1_loss",
     pair_inputs,
     {reduction_spec, {"beta", "float", "1.0"}},
     {"out"},
     run_pointwise<pointwise::smooth_l1>},
    {"kl_div",
     pair_inputs,
     {reduction_spec, {"log_target", "bool", "false"}},
     {"out"},
     run_pointwise<pointwise::kl_div>},
    // target: int64 class indices (not differentiable) or float class probabilities (differentiable).
    {"cross_entropy",
     {{"input"}, {"target"}, {"weight", false, true}},
     {{"ignore_index", "int", "-100"}, reduction_spec, {"label_smoothing", "float", "0.0"}},
     {"out"},
     run_class_loss<false>},
    {"nll_loss",
     {{"input"}, {"target", false}, {"weight", false, true}},
     {{"ignore_index", "int", "-100"}, reduction_spec},
     {"out"},
     run_class_loss<true>},
    {"binary_cross_entropy_with_logits",
     {{"input"}, {"target"}, {"weight", false, true}, {"pos_weight", false, true}},
     {reduction_spec},
     {"out"},
     run_bce_with_logits},
    {"dice_loss",
     pair_inputs,
     {reduction_spec, {"smooth", "float", "1.0"}, {"activation", "string", "none"}},
     {"out"},
     run_dice_loss},
    {"focal_frequency_loss",
     pair_inputs,
     {{"loss_weight", "float", "1.0"},
      {"alpha", "float", "1.0"},
      {"patch_factor", "int", "1"},
      {"ave_spectrum", "bool", "false"},
      {"log_matrix", "bool", "false"},
      {"batch_matrix", "bool", "false"}},
     {"out"},
     run_focal_frequency_loss},
});

} // namespace
} // namespace cinediff::tools
