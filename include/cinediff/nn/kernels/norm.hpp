#pragma once

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Normalisation kernels: forward and hand-written backward on plain tensors, no graph.
//
// Every normalisation here is one computation on the input viewed as (batch, channels, spatial)
// (contiguous, row-major):
//
//   group_norm     statistics per (n, group) over the group's channels and all positions
//   instance_norm  group_norm with one channel per group
//   layer_norm     rows of the leading dims are "batch", the normalised elements are "channels"
//                  (spatial = 1, one group): statistics per row, affine per element
//   rms_norm       layer_norm without centring: x * rsqrt(mean(x^2) + eps) * weight
//   batch_norm     statistics per channel over (n, spatial)
//   adain          instance statistics, affine per (n, channel) from a style
//
// Statistics accumulate in double, two passes (mean, then squared deviations); every statistics
// group and every affine slot is reduced sequentially in a fixed order, so results are identical
// for any thread count. The backward is the standard closed form: with x̂ = (x - μ)·rstd and
// g = dy·w, dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) over a statistics group (without the mean(g)
// term for rms_norm; dx = rstd·g when the statistics are fixed, as in evaluation mode),
// dw = Σ dy·x̂ and db = Σ dy over the elements that share an affine slot.
namespace cinediff::nn::kernels {

// Per statistics group: the mean (0 for rms_norm), the biased variance (the mean square for
// rms_norm) and 1/sqrt(var + eps). Saved by the forward for the backward.
struct norm_stats {
    std::vector<double> mean;
    std::vector<double> var;
    std::vector<double> rstd;
};

template <class T, std::size_t R>
struct norm_forward_result {
    Tensor<T, R> output;
    norm_stats stats;
};

// Gradients of a normalisation; a gradient that was not asked for is left empty (size 0).
template <class T, std::size_t R, std::size_t W>
struct norm_backward_result {
    Tensor<T, R> grad_input;
    Tensor<T, W> grad_weight;
    Tensor<T, W> grad_bias;
};

// Which gradients a backward computes.
struct norm_grad_mask {
    bool input = true;
    bool weight = true;
    bool bias = true;
};

// A tensor argument that does not take part in deducing T (so that nullptr can be passed).
template <class T, std::size_t R>
using tensor_arg = std::type_identity_t<Tensor<T, R>>;

namespace detail {

// The input as (batch, channels, spatial); see the header comment.
struct norm_layout {
    index_t batch = 1;
    index_t channels = 1;
    index_t spatial = 1;
    index_t groups = 1;
    bool per_channel_stats = false;   // batch_norm (and fixed running statistics)
    bool per_instance_affine = false; // adain: weight/bias of shape (batch, channels)
    bool center = true;               // false: rms_norm

    index_t stat_count() const { return per_channel_stats ? channels : batch * groups; }
    index_t stat_size() const { return per_channel_stats ? batch * spatial : channels / groups * spatial; }
    index_t affine_count() const { return per_instance_affine ? batch * channels : channels; }
    index_t stat_index(index_t n, index_t c) const {
        return per_channel_stats ? c : n * groups + c / (channels / groups);
    }
    index_t affine_index(index_t n, index_t c) const { return per_instance_affine ? n * channels + c : c; }

    // fn(n, c) for every (n, c) run of `spatial` contiguous elements of statistics group k, in a
    // fixed order. The run starts at (n * channels + c) * spatial.
    template <class Fn>
    void for_each_run_of_stat(index_t k, Fn&& fn) const {
        if (per_channel_stats) {
            for (index_t n = 0; n < batch; ++n) {
                fn(n, k);
            }
        } else {
            const index_t n = k / groups;
            const index_t cg = channels / groups;
            for (index_t c = (k % groups) * cg; c < (k % groups + 1) * cg; ++c) {
                fn(n, c);
            }
        }
    }
    // The same for the runs that share affine slot a.
    template <class Fn>
    void for_each_run_of_affine(index_t a, Fn&& fn) const {
        if (per_instance_affine) {
            fn(a / channels, a % channels);
        } else {
            for (index_t n = 0; n < batch; ++n) {
                fn(n, a);
            }
        }
    }
};

// Mean and biased variance (or mean square when !center) of each statistics group.
template <class T>
norm_stats compute_stats(const norm_layout& L, const T* x, double eps) {
    const index_t k_count = L.stat_count();
    norm_stats s;
    s.mean.assign(static_cast<std::size_t>(k_count), 0.0);
    s.var.assign(static_cast<std::size_t>(k_count), 0.0);
    s.rstd.assign(static_cast<std::size_t>(k_count), 0.0);
    const index_t m = L.stat_size();
    const index_t S = L.spatial;
    backend::parallel_for(k_count, 2 * m, [&](index_t k) {
        double mean = 0;
        if (L.center) {
            double sum = 0;
            L.for_each_run_of_stat(k, [&](index_t n, index_t c) {
                const T* p = x + (n * L.channels + c) * S;
                for (index_t i = 0; i < S; ++i) {
                    sum += static_cast<double>(p[i]);
                }
            });
            mean = sum / static_cast<double>(m);
        }
        double ss = 0;
        L.for_each_run_of_stat(k, [&](index_t n, index_t c) {
            const T* p = x + (n * L.channels + c) * S;
            for (index_t i = 0; i < S; ++i) {
                const double d = static_cast<double>(p[i]) - mean;
                ss += d * d;
            }
        });
        const double var = ss / static_cast<double>(m);
        const auto u = static_cast<std::size_t>(k);
        s.mean[u] = mean;
        s.var[u] = var;
        s.rstd[u] = 1.0 / std::sqrt(var + eps);
    });
    return s;
}

// y = (x - mean) * rstd * w + b with the statistics of each element's group.
template <class T>
void apply_normalization(const norm_layout& L, const T* x, T* y, const norm_stats& s, const T* w,
                         const T* b) {
    const index_t S = L.spatial;
    backend::parallel_for(L.stat_count(), L.stat_size(), [&](index_t k) {
        const double mean = s.mean[static_cast<std::size_t>(k)];
        const double rstd = s.rstd[static_cast<std::size_t>(k)];
        L.for_each_run_of_stat(k, [&](index_t n, index_t c) {
            const index_t a = L.affine_index(n, c);
            const double scale = w != nullptr ? static_cast<double>(w[a]) : 1.0;
            const double shift = b != nullptr ? static_cast<double>(b[a]) : 0.0;
            const index_t off = (n * L.channels + c) * S;
            for (index_t i = 0; i < S; ++i) {
                y[off + i] = static_cast<T>((static_cast<double>(x[off + i]) - mean) * rstd * scale + shift);
            }
        });
    });
}

// Gradients of apply_normalization. fixed_stats: the statistics are constants (evaluation mode).
template <class T>
void normalization_backward(const norm_layout& L, const T* x, const T* gy, const norm_stats& s, const T* w,
                            bool fixed_stats, T* gx, T* gw, T* gb) {
    const index_t S = L.spatial;
    const index_t m = L.stat_size();
    if (gx != nullptr) {
        backend::parallel_for(L.stat_count(), 3 * m, [&](index_t k) {
            const double mean = s.mean[static_cast<std::size_t>(k)];
            const double rstd = s.rstd[static_cast<std::size_t>(k)];
            double sum_g = 0, sum_gx = 0;
            if (!fixed_stats) {
                L.for_each_run_of_stat(k, [&](index_t n, index_t c) {
                    const double wc = w != nullptr ? static_cast<double>(w[L.affine_index(n, c)]) : 1.0;
                    const index_t off = (n * L.channels + c) * S;
                    double g = 0, gxh = 0;
                    for (index_t i = 0; i < S; ++i) {
                        const double dy = static_cast<double>(gy[off + i]);
                        g += dy;
                        gxh += dy * (static_cast<double>(x[off + i]) - mean);
                    }
                    sum_g += g * wc;
                    sum_gx += gxh * wc * rstd;
                });
            }
            const double mean_g = L.center ? sum_g / static_cast<double>(m) : 0.0;
            const double mean_gx = sum_gx / static_cast<double>(m);
            L.for_each_run_of_stat(k, [&](index_t n, index_t c) {
                const double wc = w != nullptr ? static_cast<double>(w[L.affine_index(n, c)]) : 1.0;
                const index_t off = (n * L.channels + c) * S;
                for (index_t i = 0; i < S; ++i) {
                    const double g = static_cast<double>(gy[off + i]) * wc;
                    if (fixed_stats) {
                        gx[off + i] = static_cast<T>(rstd * g);
                    } else {
                        const double xh = (static_cast<double>(x[off + i]) - mean) * rstd;
                        gx[off + i] = static_cast<T>(rstd * (g - mean_g - xh * mean_gx));
                    }
                }
            });
        });
    }
    if (gw != nullptr || gb != nullptr) {
        backend::parallel_for(L.affine_count(), 2 * L.batch * S, [&](index_t a) {
            double sw = 0, sb = 0;
            L.for_each_run_of_affine(a, [&](index_t n, index_t c) {
                const index_t k = L.stat_index(n, c);
                const double mean = s.mean[static_cast<std::size_t>(k)];
                const double rstd = s.rstd[static_cast<std::size_t>(k)];
                const index_t off = (n * L.channels + c) * S;
                double rw = 0, rb = 0;
                for (index_t i = 0; i < S; ++i) {
                    const double dy = static_cast<double>(gy[off + i]);
                    rb += dy;
                    rw += dy * (static_cast<double>(x[off + i]) - mean);
                }
                sw += rw * rstd;
                sb += rb;
            });
            if (gw != nullptr) {
                gw[a] = static_cast<T>(sw);
            }
            if (gb != nullptr) {
                gb[a] = static_cast<T>(sb);
            }
        });
    }
}

template <class T, std::size_t W>
void check_param(const Tensor<T, W>* p, const shape_t<W>& expected, const char* op, const char* name,
                 const std::string& what) {
    if (p != nullptr && p->shape() != expected) {
        throw shape_error(std::string(op) + ": " + name + " of shape " + shape_to_string(p->shape()) +
                          " does not match " + what + " " + shape_to_string(expected));
    }
}

template <class T, std::size_t W>
const T* data_or_null(const Tensor<T, W>* p) {
    return p != nullptr ? p->data() : nullptr;
}

template <class T, std::size_t R>
norm_layout channel_layout(const Tensor<T, R>& input, const char* op) {
    static_assert(R >= 2, "cinediff: this normalisation needs an input of rank >= 2 (N, C, ...)");
    norm_layout L;
    L.batch = input.shape(0);
    L.channels = input.shape(1);
    L.spatial = 1;
    for (std::size_t d = 2; d < R; ++d) {
        L.spatial *= input.shape(d);
    }
    if (L.channels == 0) {
        throw shape_error(std::string(op) + ": input of shape " + shape_to_string(input.shape()) +
                          " has no channels");
    }
    return L;
}

template <class T, std::size_t R, std::size_t W>
norm_forward_result<T, R> run_forward(const Tensor<T, R>& input, const norm_layout& L,
                                      const Tensor<T, W>* weight, const Tensor<T, W>* bias, double eps) {
    norm_forward_result<T, R> r{Tensor<T, R>(input.shape()), compute_stats(L, input.data(), eps)};
    apply_normalization(L, input.data(), r.output.data(), r.stats, data_or_null(weight), data_or_null(bias));
    return r;
}

template <class T, std::size_t R, std::size_t W>
norm_backward_result<T, R, W> run_backward(const Tensor<T, R>& input, const Tensor<T, R>& grad_output,
                                           const norm_layout& L, const norm_stats& stats,
                                           const Tensor<T, W>* weight, const shape_t<W>& param_shape,
                                           norm_grad_mask mask, bool fixed_stats, const char* op) {
    if (grad_output.shape() != input.shape()) {
        throw shape_error(std::string(op) + ": grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " does not match input of shape " + shape_to_string(input.shape()));
    }
    norm_backward_result<T, R, W> r;
    if (mask.input) {
        r.grad_input = Tensor<T, R>(input.shape());
    }
    if (mask.weight) {
        r.grad_weight = Tensor<T, W>(param_shape);
    }
    if (mask.bias) {
        r.grad_bias = Tensor<T, W>(param_shape);
    }
    normalization_backward(L, input.data(), grad_output.data(), stats, data_or_null(weight), fixed_stats,
                           mask.input ? r.grad_input.data() : nullptr,
                           mask.weight ? r.grad_weight.data() : nullptr,
                           mask.bias ? r.grad_bias.data() : nullptr);
    return r;
}

inline void check_eps(double eps, const char* op) {
    if (!(eps >= 0) || !std::isfinite(eps)) {
        throw std::invalid_argument(std::string(op) + ": eps must be finite and >= 0, got " +
                                    std::to_string(eps));
    }
}

} // namespace detail

// ---- group_norm -------------------------------------------------------------------------------

namespace detail {
template <class T, std::size_t R>
norm_layout group_norm_layout(const Tensor<T, R>& input, index_t num_groups) {
    norm_layout L = channel_layout(input, "group_norm");
    if (num_groups <= 0) {
        throw std::invalid_argument("group_norm: num_groups must be positive, got " +
                                    std::to_string(num_groups));
    }
    if (L.channels % num_groups != 0) {
        throw shape_error("group_norm: " + std::to_string(L.channels) +
                          " channels are not divisible by num_groups=" + std::to_string(num_groups));
    }
    L.groups = num_groups;
    return L;
}
} // namespace detail

template <class T, std::size_t R>
norm_forward_result<T, R> group_norm_forward(const Tensor<T, R>& input, index_t num_groups,
                                             const tensor_arg<T, 1>* weight = nullptr,
                                             const tensor_arg<T, 1>* bias = nullptr, double eps = 1e-5) {
    const auto L = detail::group_norm_layout(input, num_groups);
    detail::check_eps(eps, "group_norm");
    detail::check_param(weight, shape_t<1>{L.channels}, "group_norm", "weight", "the channels");
    detail::check_param(bias, shape_t<1>{L.channels}, "group_norm", "bias", "the channels");
    return detail::run_forward(input, L, weight, bias, eps);
}

template <class T, std::size_t R>
norm_backward_result<T, R, 1>
group_norm_backward(const Tensor<T, R>& input, const Tensor<T, R>& grad_output, const norm_stats& stats,
                    index_t num_groups, const tensor_arg<T, 1>* weight = nullptr, norm_grad_mask mask = {}) {
    const auto L = detail::group_norm_layout(input, num_groups);
    return detail::run_backward(input, grad_output, L, stats, weight, shape_t<1>{L.channels}, mask, false,
                                "group_norm");
}

// ---- layer_norm and rms_norm (over the last K dims) -------------------------------------------

namespace detail {
template <class T, std::size_t R, std::size_t K>
norm_layout last_dims_layout(const Tensor<T, R>& input, const shape_t<K>& normalized_shape, const char* op) {
    static_assert(K >= 1 && K <= R, "cinediff: normalized_shape must name 1 to rank(input) trailing dims");
    for (std::size_t d = 0; d < K; ++d) {
        if (input.shape(R - K + d) != normalized_shape[d]) {
            throw shape_error(std::string(op) + ": normalized_shape " + shape_to_string(normalized_shape) +
                              " does not match the last dimensions of input of shape " +
                              shape_to_string(input.shape()));
        }
    }
    norm_layout L;
    L.batch = 1;
    for (std::size_t d = 0; d + K < R; ++d) {
        L.batch *= input.shape(d);
    }
    L.channels = numel(normalized_shape);
    if (L.channels == 0) {
        throw shape_error(std::string(op) + ": normalized_shape " + shape_to_string(normalized_shape) +
                          " has no elements");
    }
    return L;
}
} // namespace detail

template <class T, std::size_t R, std::size_t K>
norm_forward_result<T, R> layer_norm_forward(const Tensor<T, R>& input, const shape_t<K>& normalized_shape,
                                             const tensor_arg<T, K>* weight = nullptr,
                                             const tensor_arg<T, K>* bias = nullptr, double eps = 1e-5) {
    const auto L = detail::last_dims_layout(input, normalized_shape, "layer_norm");
    detail::check_eps(eps, "layer_norm");
    detail::check_param(weight, normalized_shape, "layer_norm", "weight", "normalized_shape");
    detail::check_param(bias, normalized_shape, "layer_norm", "bias", "normalized_shape");
    return detail::run_forward(input, L, weight, bias, eps);
}

template <class T, std::size_t R, std::size_t K>
norm_backward_result<T, R, K> layer_norm_backward(const Tensor<T, R>& input, const Tensor<T, R>& grad_output,
                                                  const norm_stats& stats, const shape_t<K>& normalized_shape,
                                                  const tensor_arg<T, K>* weight = nullptr,
                                                  norm_grad_mask mask = {}) {
    const auto L = detail::last_dims_layout(input, normalized_shape, "layer_norm");
    return detail::run_backward(input, grad_output, L, stats, weight, normalized_shape, mask, false,
                                "layer_norm");
}

// x * rsqrt(mean(x^2 over the last K dims) + eps) * weight (Mamba / T5 RMSNorm).
template <class T, std::size_t R, std::size_t K>
norm_forward_result<T, R> rms_norm_forward(const Tensor<T, R>& input, const shape_t<K>& normalized_shape,
                                           const tensor_arg<T, K>* weight = nullptr, double eps = 1e-5) {
    auto L = detail::last_dims_layout(input, normalized_shape, "rms_norm");
    L.center = false;
    detail::check_eps(eps, "rms_norm");
    detail::check_param(weight, normalized_shape, "rms_norm", "weight", "normalized_shape");
    return detail::run_forward(input, L, weight, static_cast<const Tensor<T, K>*>(nullptr), eps);
}

template <class T, std::size_t R, std::size_t K>
norm_backward_result<T, R, K> rms_norm_backward(const Tensor<T, R>& input, const Tensor<T, R>& grad_output,
                                                const norm_stats& stats, const shape_t<K>& normalized_shape,
                                                const tensor_arg<T, K>* weight = nullptr,
                                                norm_grad_mask mask = {}) {
    auto L = detail::last_dims_layout(input, normalized_shape, "rms_norm");
    L.center = false;
    mask.bias = false;
    return detail::run_backward(input, grad_output, L, stats, weight, normalized_shape, mask, false,
                                "rms_norm");
}

// ---- batch_norm -------------------------------------------------------------------------------

namespace detail {
template <class T>
void check_running(const tensor_arg<T, 1>* running_mean, const tensor_arg<T, 1>* running_var,
                   index_t channels, const char* op) {
    check_param(running_mean, shape_t<1>{channels}, op, "running_mean", "the channels");
    check_param(running_var, shape_t<1>{channels}, op, "running_var", "the channels");
    if ((running_mean == nullptr) != (running_var == nullptr)) {
        throw std::invalid_argument(std::string(op) +
                                    ": running_mean and running_var must be given together");
    }
}

// Statistics taken from running estimates: one group per channel.
template <class T>
norm_stats running_stats(const Tensor<T, 1>& running_mean, const Tensor<T, 1>& running_var, double eps) {
    norm_stats s;
    for (index_t c = 0; c < running_mean.size(); ++c) {
        const double v = static_cast<double>(running_var.data()[c]);
        s.mean.push_back(static_cast<double>(running_mean.data()[c]));
        s.var.push_back(v);
        s.rstd.push_back(1.0 / std::sqrt(v + eps));
    }
    return s;
}

// running = (1 - momentum) * running + momentum * batch statistic (variance unbiased).
template <class T>
void update_running(Tensor<T, 1>& running_mean, Tensor<T, 1>& running_var, const std::vector<double>& mean,
                    const std::vector<double>& var, index_t count, double momentum) {
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    for (index_t c = 0; c < running_mean.size(); ++c) {
        const auto u = static_cast<std::size_t>(c);
        running_mean.data()[c] =
            static_cast<T>((1 - momentum) * static_cast<double>(running_mean.data()[c]) + momentum * mean[u]);
        running_var.data()[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_var.data()[c]) +
                                               momentum * var[u] * unbias);
    }
}
} // namespace detail

// training: normalises with the batch statistics (biased variance) and, when running estimates are
// given, updates them in place with the unbiased variance (torch's rule). Otherwise normalises with
// the running estimates, which are then required.
template <class T, std::size_t R>
norm_forward_result<T, R>
batch_norm_forward(const Tensor<T, R>& input, tensor_arg<T, 1>* running_mean, tensor_arg<T, 1>* running_var,
                   const tensor_arg<T, 1>* weight = nullptr, const tensor_arg<T, 1>* bias = nullptr,
                   bool training = false, double momentum = 0.1, double eps = 1e-5) {
    auto L = detail::channel_layout(input, "batch_norm");
    L.per_channel_stats = true;
    detail::check_eps(eps, "batch_norm");
    detail::check_param(weight, shape_t<1>{L.channels}, "batch_norm", "weight", "the channels");
    detail::check_param(bias, shape_t<1>{L.channels}, "batch_norm", "bias", "the channels");
    detail::check_running<T>(running_mean, running_var, L.channels, "batch_norm");
    if (!training) {
        if (running_mean == nullptr) {
            throw std::invalid_argument(
                "batch_norm: running_mean and running_var are required when training=false");
        }
        norm_forward_result<T, R> r{Tensor<T, R>(input.shape()),
                                    detail::running_stats(*running_mean, *running_var, eps)};
        detail::apply_normalization(L, input.data(), r.output.data(), r.stats, detail::data_or_null(weight),
                                    detail::data_or_null(bias));
        return r;
    }
    if (L.stat_size() <= 1) {
        throw std::invalid_argument(
            "batch_norm: expected more than 1 value per channel when training, got input of shape " +
            shape_to_string(input.shape()));
    }
    auto r = detail::run_forward(input, L, weight, bias, eps);
    if (running_mean != nullptr) {
        detail::update_running(*running_mean, *running_var, r.stats.mean, r.stats.var, L.stat_size(),
                               momentum);
    }
    return r;
}

// `training` must be the value the forward ran with (the statistics are constants otherwise).
template <class T, std::size_t R>
norm_backward_result<T, R, 1> batch_norm_backward(const Tensor<T, R>& input, const Tensor<T, R>& grad_output,
                                                  const norm_stats& stats,
                                                  const tensor_arg<T, 1>* weight = nullptr,
                                                  bool training = false, norm_grad_mask mask = {}) {
    auto L = detail::channel_layout(input, "batch_norm");
    L.per_channel_stats = true;
    return detail::run_backward(input, grad_output, L, stats, weight, shape_t<1>{L.channels}, mask, !training,
                                "batch_norm");
}

// ---- instance_norm ----------------------------------------------------------------------------

// use_input_stats: statistics per (n, c) over the spatial positions; running estimates, when given,
// are updated with the batch average of the instance statistics. Otherwise the running estimates
// (required) normalise, as batch_norm in evaluation mode.
template <class T, std::size_t R>
norm_forward_result<T, R>
instance_norm_forward(const Tensor<T, R>& input, tensor_arg<T, 1>* running_mean = nullptr,
                      tensor_arg<T, 1>* running_var = nullptr, const tensor_arg<T, 1>* weight = nullptr,
                      const tensor_arg<T, 1>* bias = nullptr, bool use_input_stats = true,
                      double momentum = 0.1, double eps = 1e-5) {
    auto L = detail::channel_layout(input, "instance_norm");
    detail::check_eps(eps, "instance_norm");
    detail::check_param(weight, shape_t<1>{L.channels}, "instance_norm", "weight", "the channels");
    detail::check_param(bias, shape_t<1>{L.channels}, "instance_norm", "bias", "the channels");
    detail::check_running<T>(running_mean, running_var, L.channels, "instance_norm");
    if (!use_input_stats) {
        if (running_mean == nullptr) {
            throw std::invalid_argument(
                "instance_norm: running_mean and running_var are required when use_input_stats=false");
        }
        return batch_norm_forward(input, running_mean, running_var, weight, bias, false, momentum, eps);
    }
    if (L.spatial <= 1) {
        throw std::invalid_argument(
            "instance_norm: expected more than 1 spatial element when training, got input of shape " +
            shape_to_string(input.shape()));
    }
    L.groups = L.channels;
    auto r = detail::run_forward(input, L, weight, bias, eps);
    if (running_mean != nullptr) {
        std::vector<double> mean(static_cast<std::size_t>(L.channels), 0.0), var(mean);
        for (index_t c = 0; c < L.channels; ++c) {
            for (index_t n = 0; n < L.batch; ++n) {
                mean[static_cast<std::size_t>(c)] +=
                    r.stats.mean[static_cast<std::size_t>(n * L.channels + c)];
                var[static_cast<std::size_t>(c)] += r.stats.var[static_cast<std::size_t>(n * L.channels + c)];
            }
            mean[static_cast<std::size_t>(c)] /= static_cast<double>(L.batch);
            var[static_cast<std::size_t>(c)] /= static_cast<double>(L.batch);
        }
        detail::update_running(*running_mean, *running_var, mean, var, L.spatial, momentum);
    }
    return r;
}

template <class T, std::size_t R>
norm_backward_result<T, R, 1> instance_norm_backward(const Tensor<T, R>& input,
                                                     const Tensor<T, R>& grad_output, const norm_stats& stats,
                                                     const tensor_arg<T, 1>* weight = nullptr,
                                                     bool use_input_stats = true, norm_grad_mask mask = {}) {
    if (!use_input_stats) {
        return batch_norm_backward(input, grad_output, stats, weight, false, mask);
    }
    auto L = detail::channel_layout(input, "instance_norm");
    L.groups = L.channels;
    return detail::run_backward(input, grad_output, L, stats, weight, shape_t<1>{L.channels}, mask, false,
                                "instance_norm");
}

// ---- adaptive instance normalisation ----------------------------------------------------------

// adain(content, style_mean, style_std) = (content - μ) / sqrt(σ² + eps) * style_std + style_mean,
// μ, σ² the per-(n, c) mean and biased variance of content over its spatial positions;
// style_mean and style_std have shape (N, C).
template <class T, std::size_t R>
norm_forward_result<T, R> adain_forward(const Tensor<T, R>& content, const Tensor<T, 2>& style_mean,
                                        const Tensor<T, 2>& style_std, double eps = 1e-5) {
    auto L = detail::channel_layout(content, "adain");
    detail::check_eps(eps, "adain");
    L.groups = L.channels;
    L.per_instance_affine = true;
    const shape_t<2> nc{L.batch, L.channels};
    detail::check_param(&style_mean, nc, "adain", "style_mean", "(batch, channels) of content");
    detail::check_param(&style_std, nc, "adain", "style_std", "(batch, channels) of content");
    return detail::run_forward(content, L, &style_std, &style_mean, eps);
}

// grad_weight is the gradient of style_std, grad_bias that of style_mean.
template <class T, std::size_t R>
norm_backward_result<T, R, 2> adain_backward(const Tensor<T, R>& content, const Tensor<T, R>& grad_output,
                                             const norm_stats& stats, const Tensor<T, 2>& style_std,
                                             norm_grad_mask mask = {}) {
    auto L = detail::channel_layout(content, "adain");
    L.groups = L.channels;
    L.per_instance_affine = true;
    return detail::run_backward(content, grad_output, L, stats, &style_std, shape_t<2>{L.batch, L.channels},
                                mask, false, "adain");
}

// Per-(n, c) mean and std = sqrt(biased variance + eps) over the spatial positions: the style
// statistics of adain(content, style).
template <class T>
struct channel_moments {
    Tensor<T, 2> mean;
    Tensor<T, 2> std;
};

template <class T, std::size_t R>
channel_moments<T> channel_mean_std_forward(const Tensor<T, R>& input, double eps = 1e-5) {
    auto L = detail::channel_layout(input, "adain");
    detail::check_eps(eps, "adain");
    L.groups = L.channels;
    const auto s = detail::compute_stats(L, input.data(), eps);
    channel_moments<T> r{Tensor<T, 2>(shape_t<2>{L.batch, L.channels}),
                         Tensor<T, 2>(shape_t<2>{L.batch, L.channels})};
    for (index_t k = 0; k < L.stat_count(); ++k) {
        r.mean.data()[k] = static_cast<T>(s.mean[static_cast<std::size_t>(k)]);
        r.std.data()[k] = static_cast<T>(std::sqrt(s.var[static_cast<std::size_t>(k)] + eps));
    }
    return r;
}

// d input = grad_mean / S + grad_std * (x - μ) / (S * std), S the spatial size. Either gradient may
// be null (zero).
template <class T, std::size_t R>
Tensor<T, R> channel_mean_std_backward(const Tensor<T, R>& input, const tensor_arg<T, 2>* grad_mean,
                                       const tensor_arg<T, 2>* grad_std, double eps = 1e-5) {
    auto L = detail::channel_layout(input, "adain");
    L.groups = L.channels;
    const auto s = detail::compute_stats(L, input.data(), eps);
    Tensor<T, R> gx(input.shape());
    const index_t S = L.spatial;
    backend::parallel_for(L.stat_count(), S, [&](index_t k) {
        const auto u = static_cast<std::size_t>(k);
        const double gm = grad_mean != nullptr ? static_cast<double>(grad_mean->data()[k]) : 0.0;
        const double gs = grad_std != nullptr ? static_cast<double>(grad_std->data()[k]) : 0.0;
        const double stdv = std::sqrt(s.var[u] + eps);
        const T* x = input.data() + k * S;
        T* g = gx.data() + k * S;
        for (index_t i = 0; i < S; ++i) {
            g[i] = static_cast<T>(gm / static_cast<double>(S) + gs * (static_cast<double>(x[i]) - s.mean[u]) /
                                                                    (static_cast<double>(S) * stdv));
        }
    });
    return gx;
}

} // namespace cinediff::nn::kernels
