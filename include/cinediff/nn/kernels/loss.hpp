#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Loss kernels with a closed-form backward: cross entropy (class indices or class probabilities),
// negative log likelihood and binary cross entropy with logits. Pure tensor functions; the
// differentiable versions with torch.nn.functional's names are in nn/functional/loss.hpp.
//
// Inputs with a class dimension are (N, C, d1, ..., dk), contiguous; a "position" is one (n, d1,
// ..., dk), and element (n, c, s) lives at (n * C + c) * inner + s with inner = d1 * ... * dk.
// Every position is computed in double, sequentially, by one thread, so results do not depend on
// the thread count. Per-position losses are returned unreduced; the caller reduces them.
//
// Backward functions take the gradient of the per-position (or per-element) loss as a pointer and
// a stride (stride 0: one value for all, e.g. the scaled gradient of a mean) and a scale.
namespace cinediff::nn::kernels {

struct class_layout {
    index_t outer = 0;   // N
    index_t classes = 0; // C
    index_t inner = 1;   // d1 * ... * dk
    index_t positions() const { return outer * inner; }
    index_t offset(index_t position, index_t c) const {
        return ((position / inner) * classes + c) * inner + position % inner;
    }
};

namespace detail {

template <std::size_t R>
class_layout class_layout_of(const shape_t<R>& shape) {
    static_assert(R >= 2, "cinediff: class losses need an input of shape (N, C, d1, ...)");
    class_layout l{shape[0], shape[1], 1};
    for (std::size_t d = 2; d < R; ++d) {
        l.inner *= shape[d];
    }
    return l;
}

// The shape of a class-index target for an input of `shape`: (N, d1, ..., dk).
template <std::size_t R>
shape_t<R - 1> class_target_shape(const shape_t<R>& shape) {
    shape_t<R - 1> out{};
    out[0] = shape[0];
    for (std::size_t d = 2; d < R; ++d) {
        out[d - 1] = shape[d];
    }
    return out;
}

template <std::size_t R, std::size_t TR>
void check_class_target_shape(const shape_t<R>& input, const shape_t<TR>& target, const char* op) {
    static_assert(TR == R - 1, "cinediff: a class-index target has one dimension fewer than the input");
    const auto expected = class_target_shape(input);
    if (target != expected) {
        throw shape_error(std::string(op) + ": target of shape " + shape_to_string(target) +
                          " does not match input of shape " + shape_to_string(input) + " (expected " +
                          shape_to_string(expected) + ")");
    }
}

template <class T>
void check_class_weight(const Tensor<T, 1>* weight, index_t classes, const char* op) {
    if (weight && weight->size() != classes) {
        throw shape_error(std::string(op) + ": weight has " + std::to_string(weight->size()) +
                          " elements for " + std::to_string(classes) + " classes");
    }
}

// Checks every class index (serially, before any parallel work) and returns the sum of the
// weights of the positions that are not ignored: the denominator of torch's weighted mean.
template <class I, std::size_t TR, class T>
double check_class_indices(const Tensor<I, TR>& target, index_t classes, std::int64_t ignore_index,
                           const Tensor<T, 1>* weight, const char* op) {
    double total = 0;
    for (index_t i = 0; i < target.size(); ++i) {
        const auto y = static_cast<std::int64_t>(target.data()[i]);
        if (y == ignore_index) {
            continue;
        }
        if (y < 0 || y >= classes) {
            throw std::invalid_argument(std::string(op) + ": target class " + std::to_string(y) +
                                        " is out of range for " + std::to_string(classes) +
                                        " classes at index " + std::to_string(i));
        }
        total += weight ? static_cast<double>(weight->data()[y]) : 1.0;
    }
    return total;
}

inline void check_label_smoothing(double label_smoothing, const char* op) {
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
        throw std::invalid_argument(std::string(op) + ": label_smoothing must be between 0.0 and 1.0, got " +
                                    std::to_string(label_smoothing));
    }
}

// log(sum_c exp(x_c)) of one position, shifted by the maximum.
template <class T>
double position_logsumexp(const T* x, index_t stride, index_t classes) {
    double m = -std::numeric_limits<double>::infinity();
    for (index_t c = 0; c < classes; ++c) {
        const double v = static_cast<double>(x[c * stride]);
        if (v != v) {
            return v;
        }
        m = v > m ? v : m;
    }
    const double shift = std::isinf(m) ? 0.0 : m;
    double s = 0;
    for (index_t c = 0; c < classes; ++c) {
        s += std::exp(static_cast<double>(x[c * stride]) - shift);
    }
    return std::log(s) + shift;
}

template <class T>
double weight_at(const Tensor<T, 1>* weight, index_t c) {
    return weight ? static_cast<double>(weight->data()[c]) : 1.0;
}

} // namespace detail

// Deterministic double-precision sum of a tensor's elements (fixed blocks, combined in order).
template <class T, std::size_t R>
double sum_in_double(const Tensor<T, R>& t) {
    const T* p = t.data();
    return backend::deterministic_reduce(
        t.size(), 65536, 0.0,
        [p](index_t b, index_t e) {
            double acc = 0;
            for (index_t i = b; i < e; ++i) {
                acc += static_cast<double>(p[i]);
            }
            return acc;
        },
        [](double a, double b) { return a + b; });
}

// ---- cross entropy with class indices -------------------------------------------------------------
//
// With smoothing ε, weights w and C classes, the loss at a position with target y is
//     (1 - ε) w_y (lse - x_y) + (ε / C) Σ_c w_c (lse - x_c),   lse = log Σ_c exp(x_c),
// and 0 where y == ignore_index (torch's cross_entropy_loss_label_smoothing). Written as
// Σ_c a_c (lse - x_c), its gradient is ∂/∂x_k = softmax_k Σ_c a_c - a_k.

template <class T, std::size_t R, class I>
Tensor<T, R - 1> cross_entropy_forward(const Tensor<T, R>& input, const Tensor<I, R - 1>& target,
                                       const Tensor<T, 1>* weight, std::int64_t ignore_index,
                                       double label_smoothing, double* total_weight,
                                       const char* op = "cross_entropy") {
    static_assert(std::is_floating_point_v<T>, "cinediff: cross_entropy computes in float or double");
    static_assert(std::is_integral_v<I>, "cinediff: class-index targets are integers");
    detail::check_class_target_shape(input.shape(), target.shape(), op);
    const auto l = detail::class_layout_of(input.shape());
    detail::check_class_weight(weight, l.classes, op);
    detail::check_label_smoothing(label_smoothing, op);
    const double total = detail::check_class_indices(target, l.classes, ignore_index, weight, op);
    if (total_weight) {
        *total_weight = total;
    }
    Tensor<T, R - 1> loss(target.shape());
    const double eps = label_smoothing, per_class = label_smoothing / static_cast<double>(l.classes);
    backend::parallel_for(l.positions(), 4 * l.classes, [&](index_t p) {
        const auto y = static_cast<std::int64_t>(target.data()[p]);
        if (y == ignore_index) {
            loss.data()[p] = T(0);
            return;
        }
        const T* x = input.data() + l.offset(p, 0);
        const double lse = detail::position_logsumexp(x, l.inner, l.classes);
        double v = (1 - eps) * detail::weight_at(weight, y) * (lse - static_cast<double>(x[y * l.inner]));
        if (eps > 0) {
            double smooth = 0;
            for (index_t c = 0; c < l.classes; ++c) {
                smooth += detail::weight_at(weight, c) * (lse - static_cast<double>(x[c * l.inner]));
            }
            v += per_class * smooth;
        }
        loss.data()[p] = static_cast<T>(v);
    });
    return loss;
}

template <class T, std::size_t R, class I>
Tensor<T, R> cross_entropy_backward(const Tensor<T, R>& input, const Tensor<I, R - 1>& target,
                                    const Tensor<T, 1>* weight, std::int64_t ignore_index,
                                    double label_smoothing, const T* grad_loss, index_t grad_stride,
                                    double grad_scale) {
    const auto l = detail::class_layout_of(input.shape());
    Tensor<T, R> gx(input.shape());
    const double eps = label_smoothing, per_class = label_smoothing / static_cast<double>(l.classes);
    double weight_total = 0;
    for (index_t c = 0; c < l.classes; ++c) {
        weight_total += detail::weight_at(weight, c);
    }
    backend::parallel_for(l.positions(), 4 * l.classes, [&](index_t p) {
        const auto y = static_cast<std::int64_t>(target.data()[p]);
        if (y == ignore_index) {
            return; // zeros
        }
        const T* x = input.data() + l.offset(p, 0);
        T* g = gx.data() + l.offset(p, 0);
        const double gy = static_cast<double>(grad_loss[p * grad_stride]) * grad_scale;
        const double lse = detail::position_logsumexp(x, l.inner, l.classes);
        const double wy = (1 - eps) * detail::weight_at(weight, y);
        const double a_total = wy + per_class * weight_total;
        for (index_t c = 0; c < l.classes; ++c) {
            const double a = per_class * detail::weight_at(weight, c) + (c == y ? wy : 0.0);
            const double sm = std::exp(static_cast<double>(x[c * l.inner]) - lse);
            g[c * l.inner] = static_cast<T>(gy * (sm * a_total - a));
        }
    });
    return gx;
}

// ---- cross entropy with class probabilities -------------------------------------------------------
//
// q = target (1 - ε) + ε / C; loss = Σ_c w_c q_c (lse - x_c) (torch's cross_entropy_loss_prob_target).
// ∂/∂x_k = softmax_k Σ_c w_c q_c - w_k q_k; ∂/∂target_c = (1 - ε) w_c (lse - x_c).

template <class T, std::size_t R>
void check_probability_target(const Tensor<T, R>& input, const Tensor<T, R>& target,
                              const Tensor<T, 1>* weight, double label_smoothing, const char* op) {
    if (target.shape() != input.shape()) {
        throw shape_error(std::string(op) + ": a probability target must have the input's shape " +
                          shape_to_string(input.shape()) + ", got " + shape_to_string(target.shape()));
    }
    detail::check_class_weight(weight, detail::class_layout_of(input.shape()).classes, op);
    detail::check_label_smoothing(label_smoothing, op);
}

template <class T, std::size_t R>
Tensor<T, R - 1> cross_entropy_probs_forward(const Tensor<T, R>& input, const Tensor<T, R>& target,
                                             const Tensor<T, 1>* weight, double label_smoothing,
                                             const char* op = "cross_entropy") {
    static_assert(std::is_floating_point_v<T>, "cinediff: cross_entropy computes in float or double");
    check_probability_target(input, target, weight, label_smoothing, op);
    const auto l = detail::class_layout_of(input.shape());
    Tensor<T, R - 1> loss(detail::class_target_shape(input.shape()));
    const double keep = 1 - label_smoothing, per_class = label_smoothing / static_cast<double>(l.classes);
    backend::parallel_for(l.positions(), 4 * l.classes, [&](index_t p) {
        const T* x = input.data() + l.offset(p, 0);
        const T* t = target.data() + l.offset(p, 0);
        const double lse = detail::position_logsumexp(x, l.inner, l.classes);
        double v = 0;
        for (index_t c = 0; c < l.classes; ++c) {
            const double q = static_cast<double>(t[c * l.inner]) * keep + per_class;
            v += detail::weight_at(weight, c) * q * (lse - static_cast<double>(x[c * l.inner]));
        }
        loss.data()[p] = static_cast<T>(v);
    });
    return loss;
}

// Writes the gradients into grad_input / grad_target where they are not null.
template <class T, std::size_t R>
void cross_entropy_probs_backward(const Tensor<T, R>& input, const Tensor<T, R>& target,
                                  const Tensor<T, 1>* weight, double label_smoothing, const T* grad_loss,
                                  index_t grad_stride, double grad_scale, Tensor<T, R>* grad_input,
                                  Tensor<T, R>* grad_target) {
    const auto l = detail::class_layout_of(input.shape());
    const double keep = 1 - label_smoothing, per_class = label_smoothing / static_cast<double>(l.classes);
    backend::parallel_for(l.positions(), 6 * l.classes, [&](index_t p) {
        const index_t base = l.offset(p, 0);
        const T* x = input.data() + base;
        const T* t = target.data() + base;
        const double gy = static_cast<double>(grad_loss[p * grad_stride]) * grad_scale;
        const double lse = detail::position_logsumexp(x, l.inner, l.classes);
        if (grad_input) {
            double a_total = 0;
            for (index_t c = 0; c < l.classes; ++c) {
                a_total +=
                    detail::weight_at(weight, c) * (static_cast<double>(t[c * l.inner]) * keep + per_class);
            }
            T* g = grad_input->data() + base;
            for (index_t c = 0; c < l.classes; ++c) {
                const double a =
                    detail::weight_at(weight, c) * (static_cast<double>(t[c * l.inner]) * keep + per_class);
                const double sm = std::exp(static_cast<double>(x[c * l.inner]) - lse);
                g[c * l.inner] = static_cast<T>(gy * (sm * a_total - a));
            }
        }
        if (grad_target) {
            T* g = grad_target->data() + base;
            for (index_t c = 0; c < l.classes; ++c) {
                g[c * l.inner] = static_cast<T>(gy * keep * detail::weight_at(weight, c) *
                                                (lse - static_cast<double>(x[c * l.inner])));
            }
        }
    });
}

// ---- negative log likelihood --------------------------------------------------------------------
//
// loss = -w_y input_y at each position (0 where y == ignore_index); ∂/∂input_y = -w_y.

template <class T, std::size_t R, class I>
Tensor<T, R - 1> nll_loss_forward(const Tensor<T, R>& input, const Tensor<I, R - 1>& target,
                                  const Tensor<T, 1>* weight, std::int64_t ignore_index, double* total_weight,
                                  const char* op = "nll_loss") {
    static_assert(std::is_floating_point_v<T>, "cinediff: nll_loss computes in float or double");
    static_assert(std::is_integral_v<I>, "cinediff: class-index targets are integers");
    detail::check_class_target_shape(input.shape(), target.shape(), op);
    const auto l = detail::class_layout_of(input.shape());
    detail::check_class_weight(weight, l.classes, op);
    const double total = detail::check_class_indices(target, l.classes, ignore_index, weight, op);
    if (total_weight) {
        *total_weight = total;
    }
    Tensor<T, R - 1> loss(target.shape());
    backend::parallel_for(l.positions(), 2, [&](index_t p) {
        const auto y = static_cast<std::int64_t>(target.data()[p]);
        loss.data()[p] = y == ignore_index
                             ? T(0)
                             : static_cast<T>(-detail::weight_at(weight, y) *
                                              static_cast<double>(input.data()[l.offset(p, y)]));
    });
    return loss;
}

template <class T, std::size_t R, class I>
Tensor<T, R> nll_loss_backward(const shape_t<R>& input_shape, const Tensor<I, R - 1>& target,
                               const Tensor<T, 1>* weight, std::int64_t ignore_index, const T* grad_loss,
                               index_t grad_stride, double grad_scale) {
    const auto l = detail::class_layout_of(input_shape);
    Tensor<T, R> gx(input_shape);
    backend::parallel_for(l.positions(), 2, [&](index_t p) {
        const auto y = static_cast<std::int64_t>(target.data()[p]);
        if (y != ignore_index) {
            gx.data()[l.offset(p, y)] = static_cast<T>(
                -detail::weight_at(weight, y) * static_cast<double>(grad_loss[p * grad_stride]) * grad_scale);
        }
    });
    return gx;
}

// ---- binary cross entropy with logits -----------------------------------------------------------
//
// With l_w = (pos_weight - 1) t + 1 and softplus(-x) = max(-x, 0) + log1p(exp(-|x|)):
//     loss = w ((1 - t) x + l_w softplus(-x))
//     ∂/∂x = w (l_w sigmoid(x) - pos_weight t),   ∂/∂t = w (-x + (pos_weight - 1) softplus(-x)).
// `weight` (nullable) has the input's shape; `pos_weight` (nullable) holds one value per class,
// applied along dim 1 (dim 0 for a rank-1 input).

template <std::size_t R>
class_layout bce_layout(const shape_t<R>& shape) {
    if constexpr (R == 1) {
        return class_layout{1, shape[0], 1};
    } else {
        return detail::class_layout_of(shape);
    }
}

namespace detail {

inline double softplus_neg(double x) { // log(1 + exp(-x)), stable
    return std::max(-x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

inline double stable_sigmoid(double x) {
    if (x >= 0) {
        return 1 / (1 + std::exp(-x));
    }
    const double e = std::exp(x);
    return e / (1 + e);
}

} // namespace detail

template <class T, std::size_t R>
Tensor<T, R> binary_cross_entropy_with_logits_forward(const Tensor<T, R>& input, const Tensor<T, R>& target,
                                                      const Tensor<T, R>* weight,
                                                      const Tensor<T, 1>* pos_weight) {
    static_assert(std::is_floating_point_v<T>,
                  "cinediff: binary_cross_entropy_with_logits computes in float or double");
    const auto l = bce_layout(input.shape());
    Tensor<T, R> loss(input.shape());
    const T* x = input.data();
    const T* t = target.data();
    backend::parallel_for_blocks(input.size(), 4096, [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) {
            const double xi = static_cast<double>(x[i]), ti = static_cast<double>(t[i]);
            const double pw =
                pos_weight ? static_cast<double>(pos_weight->data()[(i / l.inner) % l.classes]) : 1.0;
            const double lw = (pw - 1) * ti + 1;
            double v = (1 - ti) * xi + lw * detail::softplus_neg(xi);
            if (weight) {
                v *= static_cast<double>(weight->data()[i]);
            }
            loss.data()[i] = static_cast<T>(v);
        }
    });
    return loss;
}

template <class T, std::size_t R>
void binary_cross_entropy_with_logits_backward(const Tensor<T, R>& input, const Tensor<T, R>& target,
                                               const Tensor<T, R>* weight, const Tensor<T, 1>* pos_weight,
                                               const T* grad_loss, index_t grad_stride, double grad_scale,
                                               Tensor<T, R>* grad_input, Tensor<T, R>* grad_target) {
    const auto l = bce_layout(input.shape());
    const T* x = input.data();
    const T* t = target.data();
    backend::parallel_for_blocks(input.size(), 4096, [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) {
            const double xi = static_cast<double>(x[i]), ti = static_cast<double>(t[i]);
            const double pw =
                pos_weight ? static_cast<double>(pos_weight->data()[(i / l.inner) % l.classes]) : 1.0;
            double g = static_cast<double>(grad_loss[i * grad_stride]) * grad_scale;
            if (weight) {
                g *= static_cast<double>(weight->data()[i]);
            }
            if (grad_input) {
                const double lw = (pw - 1) * ti + 1;
                grad_input->data()[i] = static_cast<T>(g * (lw * detail::stable_sigmoid(xi) - pw * ti));
            }
            if (grad_target) {
                grad_target->data()[i] = static_cast<T>(g * (-xi + (pw - 1) * detail::softplus_neg(xi)));
            }
        }
    });
}

} // namespace cinediff::nn::kernels
