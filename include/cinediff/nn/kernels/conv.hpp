#pragma once

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/nn/kernels/linear.hpp>
#include <cinediff/tensor/tensor.hpp>

// Convolutions over N = 1, 2 or 3 spatial axes without a graph: one implementation templated on N.
//
// conv_forward lowers each batch item to a column matrix (im2col: one row per input channel and
// kernel offset, one column per output position) and multiplies it by the weight, one GEMM per
// group. The backward pass runs the same pieces the other way: grad_input is col2im of Wᵀ·gy,
// grad_weight sums gy·colᵀ over the batch in batch order, grad_bias sums gy in double. The
// transposed convolution is the data gradient of a convolution, so it reuses the same three cores.
//
// Determinism: every output element is produced by one GEMM (backend::gemm) or one
// sequential col2im loop whose order does not depend on how batch items, groups or channels are
// spread over threads; sums over the batch are done in batch order. Results are bit-identical for
// any OMP_NUM_THREADS.
namespace cinediff::nn::kernels {

namespace detail {
template <std::size_t N>
constexpr std::array<index_t, N> filled(index_t v) {
    std::array<index_t, N> a{};
    a.fill(v);
    return a;
}
} // namespace detail

// torch.nn.functional.conv{1,2,3}d's keyword arguments, per spatial axis.
template <std::size_t N>
struct conv_options {
    std::array<index_t, N> stride = detail::filled<N>(1);
    std::array<index_t, N> padding = detail::filled<N>(0); // symmetric: both sides of each axis, as torch
    std::array<index_t, N> dilation = detail::filled<N>(1);
    index_t groups = 1;
    // Asymmetric zero padding (before, after) per spatial axis; when set it replaces `padding`.
    // Equivalent to torch's F.pad followed by an unpadded convolution, without the padded copy.
    std::optional<std::array<std::pair<index_t, index_t>, N>> asymmetric_padding = std::nullopt;
    // Causal padding of the first spatial axis (time): (kernel_size - 1) * dilation before and none
    // after, so output t sees inputs <= t. The first axis of `padding`/`asymmetric_padding` must be 0.
    bool causal = false;
};

// torch.nn.functional.conv_transpose{1,2,3}d's keyword arguments (same order as torch).
template <std::size_t N>
struct conv_transpose_options {
    std::array<index_t, N> stride = detail::filled<N>(1);
    std::array<index_t, N> padding = detail::filled<N>(0);
    std::array<index_t, N> output_padding = detail::filled<N>(0);
    index_t groups = 1;
    std::array<index_t, N> dilation = detail::filled<N>(1);
};

template <class T, std::size_t N>
struct conv_grads {
    std::optional<Tensor<T, N + 2>> input;
    std::optional<Tensor<T, N + 2>> weight;
    std::optional<Tensor<T, 1>> bias;
};

namespace detail {

template <std::size_t N>
std::string conv_name(bool transposed) {
    return std::string(transposed ? "conv_transpose" : "conv") + std::to_string(N) + "d";
}

template <std::size_t N>
std::string array_to_string(const std::array<index_t, N>& a) {
    return shape_to_string(a);
}

// The geometry of a (non-transposed) convolution x (batch, in_channels, in_size) -> y (batch,
// out_channels, out_size) with weight (out_channels, in_channels / groups, kernel).
template <std::size_t N>
struct conv_geometry {
    index_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
    std::array<index_t, N> in_size{}, out_size{}, kernel{}, stride{}, dilation{}, pad_before{};

    index_t in_spatial() const { return product(in_size); }
    index_t out_spatial() const { return product(out_size); }
    index_t kernel_volume() const { return product(kernel); }
    index_t in_per_group() const { return in_channels / groups; }
    index_t out_per_group() const { return out_channels / groups; }
    // Rows of one group's column matrix.
    index_t group_rows() const { return in_per_group() * kernel_volume(); }
    // A 1x1 convolution without stride or padding reads the input itself as its column matrix.
    bool pointwise() const {
        for (std::size_t d = 0; d < N; ++d) {
            if (kernel[d] != 1 || stride[d] != 1 || pad_before[d] != 0 || out_size[d] != in_size[d]) {
                return false;
            }
        }
        return true;
    }
    static index_t product(const std::array<index_t, N>& a) {
        index_t p = 1;
        for (index_t e : a) {
            p *= e;
        }
        return p;
    }
};

inline void check_positive(const std::string& op, const char* what, index_t v) {
    if (v < 1) {
        throw std::invalid_argument(op + ": " + what + " must be positive, got " + std::to_string(v));
    }
}

template <std::size_t N>
void check_attributes(const std::string& op, const std::array<index_t, N>& stride,
                      const std::array<index_t, N>& dilation, index_t groups) {
    for (std::size_t d = 0; d < N; ++d) {
        if (stride[d] < 1) {
            throw std::invalid_argument(op + ": stride " + array_to_string(stride) + " must be positive");
        }
        if (dilation[d] < 1) {
            throw std::invalid_argument(op + ": dilation " + array_to_string(dilation) + " must be positive");
        }
    }
    check_positive(op, "groups", groups);
}

template <std::size_t N, class T>
conv_geometry<N> make_conv_geometry(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                                    const std::type_identity_t<Tensor<T, 1>>* bias,
                                    const conv_options<N>& o) {
    const std::string op = conv_name<N>(false);
    check_attributes<N>(op, o.stride, o.dilation, o.groups);
    conv_geometry<N> g;
    g.batch = input.shape(0);
    g.in_channels = input.shape(1);
    g.out_channels = weight.shape(0);
    g.groups = o.groups;
    g.stride = o.stride;
    g.dilation = o.dilation;
    if (g.out_channels % g.groups != 0) {
        throw shape_error(op + ": weight of shape " + shape_to_string(weight.shape()) + " has " +
                          std::to_string(g.out_channels) +
                          " output channels, not divisible by groups=" + std::to_string(g.groups));
    }
    if (weight.shape(1) * g.groups != g.in_channels) {
        std::string msg = op + ": weight of shape " + shape_to_string(weight.shape()) + " expects " +
                          std::to_string(weight.shape(1)) + " input channels per group";
        if (g.groups > 1) {
            msg += " (groups=" + std::to_string(g.groups) + ", " +
                   std::to_string(weight.shape(1) * g.groups) + " in total)";
        }
        throw shape_error(msg + ", input has " + std::to_string(g.in_channels) + " (input shape " +
                          shape_to_string(input.shape()) + ")");
    }
    if (bias != nullptr && bias->shape(0) != g.out_channels) {
        throw shape_error(op + ": bias of shape " + shape_to_string(bias->shape()) + " does not match the " +
                          std::to_string(g.out_channels) + " output channels of weight " +
                          shape_to_string(weight.shape()));
    }
    std::array<index_t, N> before{}, after{};
    for (std::size_t d = 0; d < N; ++d) {
        before[d] = after[d] = o.padding[d];
        if (o.asymmetric_padding) {
            if (o.padding[d] != 0) {
                throw std::invalid_argument(op + ": give either padding " + array_to_string(o.padding) +
                                            " or asymmetric_padding, not both");
            }
            before[d] = (*o.asymmetric_padding)[d].first;
            after[d] = (*o.asymmetric_padding)[d].second;
        }
        if (before[d] < 0 || after[d] < 0) {
            throw std::invalid_argument(op + ": padding of axis " + std::to_string(d) + " is negative (" +
                                        std::to_string(before[d]) + ", " + std::to_string(after[d]) + ")");
        }
        g.kernel[d] = weight.shape(d + 2);
        g.in_size[d] = input.shape(d + 2);
    }
    if (o.causal) {
        if (before[0] != 0 || after[0] != 0) {
            throw std::invalid_argument(
                op + ": causal padding sets the first spatial axis itself; its padding is (" +
                std::to_string(before[0]) + ", " + std::to_string(after[0]) + "), not 0");
        }
        before[0] = (g.kernel[0] - 1) * g.dilation[0];
    }
    for (std::size_t d = 0; d < N; ++d) {
        if (g.kernel[d] < 1) {
            throw shape_error(op + ": weight of shape " + shape_to_string(weight.shape()) +
                              " has an empty kernel");
        }
        const index_t span = g.dilation[d] * (g.kernel[d] - 1) + 1;
        const index_t padded = g.in_size[d] + before[d] + after[d];
        if (padded < span) {
            std::array<index_t, N> spans{};
            for (std::size_t e = 0; e < N; ++e) {
                spans[e] = g.dilation[e] * (weight.shape(e + 2) - 1) + 1;
            }
            throw shape_error(op + ": input of shape " + shape_to_string(input.shape()) + " padded to " +
                              std::to_string(padded) + " along spatial axis " + std::to_string(d) +
                              " is smaller than the dilated kernel " + array_to_string(spans));
        }
        g.out_size[d] = (padded - span) / g.stride[d] + 1;
        g.pad_before[d] = before[d];
    }
    return g;
}

// A transposed convolution x (batch, C_in, S) with weight (C_in, C_out / groups, K) is the data
// gradient of the convolution (batch, C_out, S_out) -> (batch, C_in, S) with the same weight; this
// returns the geometry of that convolution.
template <std::size_t N, class T>
conv_geometry<N> make_conv_transpose_geometry(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                                              const std::type_identity_t<Tensor<T, 1>>* bias,
                                              const conv_transpose_options<N>& o) {
    const std::string op = conv_name<N>(true);
    check_attributes<N>(op, o.stride, o.dilation, o.groups);
    conv_geometry<N> g;
    g.batch = input.shape(0);
    g.out_channels = input.shape(1); // of the equivalent convolution
    g.groups = o.groups;
    g.in_channels = weight.shape(1) * o.groups;
    g.stride = o.stride;
    g.dilation = o.dilation;
    if (weight.shape(0) != input.shape(1)) {
        throw shape_error(op + ": weight of shape " + shape_to_string(weight.shape()) + " expects " +
                          std::to_string(weight.shape(0)) + " input channels, input has " +
                          std::to_string(input.shape(1)) + " (input shape " + shape_to_string(input.shape()) +
                          ")");
    }
    if (input.shape(1) % o.groups != 0) {
        throw shape_error(op + ": input of shape " + shape_to_string(input.shape()) + " has " +
                          std::to_string(input.shape(1)) +
                          " channels, not divisible by groups=" + std::to_string(o.groups));
    }
    if (bias != nullptr && bias->shape(0) != g.in_channels) {
        throw shape_error(op + ": bias of shape " + shape_to_string(bias->shape()) + " does not match the " +
                          std::to_string(g.in_channels) + " output channels of weight " +
                          shape_to_string(weight.shape()) + " with groups=" + std::to_string(o.groups));
    }
    for (std::size_t d = 0; d < N; ++d) {
        if (o.padding[d] < 0 || o.output_padding[d] < 0) {
            throw std::invalid_argument(op + ": padding " + array_to_string(o.padding) +
                                        " and output_padding " + array_to_string(o.output_padding) +
                                        " must not be negative");
        }
        if (o.output_padding[d] >= std::max(o.stride[d], o.dilation[d])) {
            throw std::invalid_argument(op + ": output_padding " + array_to_string(o.output_padding) +
                                        " must be smaller than either stride " + array_to_string(o.stride) +
                                        " or dilation " + array_to_string(o.dilation));
        }
        g.kernel[d] = weight.shape(d + 2);
        if (g.kernel[d] < 1) {
            throw shape_error(op + ": weight of shape " + shape_to_string(weight.shape()) +
                              " has an empty kernel");
        }
        g.out_size[d] = input.shape(d + 2);
        g.in_size[d] = (g.out_size[d] - 1) * o.stride[d] - 2 * o.padding[d] +
                       o.dilation[d] * (g.kernel[d] - 1) + o.output_padding[d] + 1;
        if (g.in_size[d] < 1) {
            throw shape_error(op + ": input of shape " + shape_to_string(input.shape()) + " with padding " +
                              array_to_string(o.padding) + " gives a non-positive output size " +
                              std::to_string(g.in_size[d]) + " along spatial axis " + std::to_string(d));
        }
        g.pad_before[d] = o.padding[d];
    }
    return g;
}

// Calls fn(in_offset, out_offset) for every row of output positions (all axes but the last) of
// kernel offset k: in_offset is the start of the matching input row for the last axis (it may be
// read at positions o * stride + shift for the valid o), or -1 when the row lies in the padding.
template <std::size_t N, class Fn>
void for_each_output_row(const conv_geometry<N>& g, const std::array<index_t, N>& k, Fn&& fn) {
    index_t outer = 1;
    for (std::size_t d = 0; d + 1 < N; ++d) {
        outer *= g.out_size[d];
    }
    const index_t width = g.out_size[N - 1];
    std::array<index_t, N> o{};
    for (index_t s = 0; s < outer; ++s) {
        index_t in_offset = 0;
        bool inside = true;
        for (std::size_t d = 0; d + 1 < N; ++d) {
            const index_t p = o[d] * g.stride[d] + k[d] * g.dilation[d] - g.pad_before[d];
            inside = inside && p >= 0 && p < g.in_size[d];
            in_offset = in_offset * g.in_size[d] + p;
        }
        fn(inside ? in_offset * g.in_size[N - 1] : index_t(-1), s * width);
        for (std::size_t d = N - 1; d-- > 0;) {
            if (++o[d] < g.out_size[d]) {
                break;
            }
            o[d] = 0;
        }
    }
}

// For the last axis and kernel offset k_last: input position o * stride + shift, valid for o in
// [lo, hi).
template <std::size_t N>
struct last_axis_range {
    index_t shift, lo, hi;
};

template <std::size_t N>
last_axis_range<N> last_axis(const conv_geometry<N>& g, index_t k_last) {
    const index_t s = g.stride[N - 1];
    const index_t shift = k_last * g.dilation[N - 1] - g.pad_before[N - 1];
    const index_t width = g.out_size[N - 1];
    const index_t lo = shift >= 0 ? 0 : std::min(width, (-shift + s - 1) / s);
    const index_t room = g.in_size[N - 1] - shift; // o * s < room
    const index_t hi = room <= 0 ? 0 : std::min(width, (room + s - 1) / s);
    return {shift, lo, std::max(lo, hi)};
}

template <std::size_t N>
std::array<index_t, N> kernel_offset(const conv_geometry<N>& g, index_t r) {
    std::array<index_t, N> k{};
    for (std::size_t d = N; d-- > 0;) {
        k[d] = r % g.kernel[d];
        r /= g.kernel[d];
    }
    return k;
}

// col (in_channels * kernel_volume, out_spatial) from one batch item x (in_channels, in_spatial).
template <class T, std::size_t N>
void im2col(const conv_geometry<N>& g, const T* x, T* col) {
    const index_t kvol = g.kernel_volume(), columns = g.out_spatial(), in_spatial = g.in_spatial();
    const index_t width = g.out_size[N - 1], s = g.stride[N - 1];
    backend::parallel_for(g.in_channels * kvol, columns, [&](index_t r) {
        const index_t c = r / kvol;
        const auto k = kernel_offset(g, r % kvol);
        const auto range = last_axis(g, k[N - 1]);
        const T* xc = x + c * in_spatial;
        T* out = col + r * columns;
        for_each_output_row(g, k, [&](index_t in_offset, index_t out_offset) {
            T* o = out + out_offset;
            if (in_offset < 0) {
                std::fill_n(o, width, T(0));
                return;
            }
            const T* xr = xc + in_offset + range.shift;
            std::fill_n(o, range.lo, T(0));
            if (s == 1) {
                std::copy(xr + range.lo, xr + range.hi, o + range.lo);
            } else {
                for (index_t i = range.lo; i < range.hi; ++i) {
                    o[i] = xr[i * s];
                }
            }
            std::fill(o + range.hi, o + width, T(0));
        });
    });
}

// Adds col (in_channels * kernel_volume, out_spatial) back onto one batch item gx (in_channels,
// in_spatial). Channels are independent; within a channel the rows are added in order.
template <class T, std::size_t N>
void col2im(const conv_geometry<N>& g, const T* col, T* gx) {
    const index_t kvol = g.kernel_volume(), columns = g.out_spatial(), in_spatial = g.in_spatial();
    const index_t s = g.stride[N - 1];
    backend::parallel_for(g.in_channels, kvol * columns, [&](index_t c) {
        T* xc = gx + c * in_spatial;
        for (index_t kr = 0; kr < kvol; ++kr) {
            const auto k = kernel_offset(g, kr);
            const auto range = last_axis(g, k[N - 1]);
            const T* row = col + (c * kvol + kr) * columns;
            for_each_output_row(g, k, [&](index_t in_offset, index_t out_offset) {
                if (in_offset < 0) {
                    return;
                }
                T* xr = xc + in_offset + range.shift;
                const T* o = row + out_offset;
                for (index_t i = range.lo; i < range.hi; ++i) {
                    xr[i * s] += o[i];
                }
            });
        }
    });
}

// y (batch, out_channels, out_spatial) = conv(x, w), without bias.
template <class T, std::size_t N>
void conv_apply(const conv_geometry<N>& g, const T* x, const T* w, T* y) {
    const index_t og = g.out_per_group(), kg = g.group_rows(), columns = g.out_spatial();
    const bool pointwise = g.pointwise();
    backend::parallel_for(g.batch, g.out_channels * kg * columns, [&](index_t b) {
        const T* xb = x + b * g.in_channels * g.in_spatial();
        T* yb = y + b * g.out_channels * columns;
        std::unique_ptr<T[]> buffer;
        const T* col = xb;
        if (!pointwise) {
            buffer = scratch<T>(g.in_channels * g.kernel_volume() * columns);
            im2col(g, xb, buffer.get());
            col = buffer.get();
        }
        backend::parallel_for(g.groups, og * kg * columns, [&](index_t gi) {
            backend::gemm(backend::transpose::no, backend::transpose::no, og, columns, kg, T(1),
                          w + gi * og * kg, kg, col + gi * kg * columns, columns, T(0),
                          yb + gi * og * columns, columns);
        });
    });
}

// gx (batch, in_channels, in_spatial), zero on entry, += the data gradient of conv for gy.
template <class T, std::size_t N>
void conv_apply_data_grad(const conv_geometry<N>& g, const T* gy, const T* w, T* gx) {
    const index_t og = g.out_per_group(), kg = g.group_rows(), columns = g.out_spatial();
    const bool pointwise = g.pointwise();
    backend::parallel_for(g.batch, g.out_channels * kg * columns, [&](index_t b) {
        const T* gyb = gy + b * g.out_channels * columns;
        T* gxb = gx + b * g.in_channels * g.in_spatial();
        std::unique_ptr<T[]> buffer;
        T* col = gxb;
        if (!pointwise) {
            buffer = scratch<T>(g.in_channels * g.kernel_volume() * columns);
            col = buffer.get();
        }
        backend::parallel_for(g.groups, og * kg * columns, [&](index_t gi) {
            backend::gemm(backend::transpose::yes, backend::transpose::no, kg, columns, og, T(1),
                          w + gi * og * kg, kg, gyb + gi * og * columns, columns, T(0),
                          col + gi * kg * columns, columns);
        });
        if (!pointwise) {
            col2im(g, col, gxb);
        }
    });
}

// gw (out_channels, in_channels / groups, kernel) = sum over the batch, in batch order, of gy·colᵀ.
template <class T, std::size_t N>
void conv_apply_weight_grad(const conv_geometry<N>& g, const T* x, const T* gy, T* gw) {
    const index_t og = g.out_per_group(), kg = g.group_rows(), columns = g.out_spatial();
    const bool pointwise = g.pointwise();
    std::unique_ptr<T[]> buffer;
    if (!pointwise) {
        buffer = scratch<T>(g.in_channels * g.kernel_volume() * columns);
    }
    if (g.batch == 0) {
        std::fill_n(gw, g.out_channels * kg, T(0));
    }
    for (index_t b = 0; b < g.batch; ++b) {
        const T* xb = x + b * g.in_channels * g.in_spatial();
        const T* gyb = gy + b * g.out_channels * columns;
        const T* col = xb;
        if (!pointwise) {
            im2col(g, xb, buffer.get());
            col = buffer.get();
        }
        backend::parallel_for(g.groups, og * kg * columns, [&](index_t gi) {
            backend::gemm(backend::transpose::no, backend::transpose::yes, og, kg, columns, T(1),
                          gyb + gi * og * columns, columns, col + gi * kg * columns, columns,
                          b == 0 ? T(0) : T(1), gw + gi * og * kg, kg);
        });
    }
}

// Per-channel sums of g (batch, channels, spatial), in double.
template <class T>
Tensor<T, 1> channel_sums(const T* g, index_t batch, index_t channels, index_t spatial) {
    Tensor<T, 1> out(shape_t<1>{channels});
    backend::parallel_for(channels, batch * spatial, [&](index_t c) {
        double acc = 0;
        for (index_t b = 0; b < batch; ++b) {
            const T* p = g + (b * channels + c) * spatial;
            for (index_t i = 0; i < spatial; ++i) {
                acc += static_cast<double>(p[i]);
            }
        }
        out.data()[c] = static_cast<T>(acc);
    });
    return out;
}

template <class T>
void add_channel_bias(T* y, const T* bias, index_t batch, index_t channels, index_t spatial) {
    backend::parallel_for(batch * channels, spatial, [&](index_t bc) {
        const T v = bias[bc % channels];
        T* p = y + bc * spatial;
        for (index_t i = 0; i < spatial; ++i) {
            p[i] += v;
        }
    });
}

template <std::size_t N, class T>
void check_grad_output(const std::string& op, const Tensor<T, N + 2>& grad_output,
                       const shape_t<N + 2>& expected) {
    if (grad_output.shape() != expected) {
        throw shape_error(op + ": grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " for an output of shape " + shape_to_string(expected));
    }
}

template <std::size_t N>
shape_t<N + 2> batched_shape(index_t batch, index_t channels, const std::array<index_t, N>& size) {
    shape_t<N + 2> s{};
    s[0] = batch;
    s[1] = channels;
    for (std::size_t d = 0; d < N; ++d) {
        s[d + 2] = size[d];
    }
    return s;
}

} // namespace detail

// torch.nn.functional.conv{N}d: input (batch, C_in, spatial...), weight (C_out, C_in / groups,
// kernel...), optional bias (C_out) -> (batch, C_out, out...).
template <std::size_t N, class T>
Tensor<T, N + 2> conv_forward(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                              const std::type_identity_t<Tensor<T, 1>>* bias,
                              const conv_options<N>& options = {}) {
    static_assert(N >= 1 && N <= 3, "conv: 1, 2 or 3 spatial axes");
    const auto g = detail::make_conv_geometry<N>(input, weight, bias, options);
    Tensor<T, N + 2> y(detail::batched_shape<N>(g.batch, g.out_channels, g.out_size));
    detail::conv_apply(g, input.data(), weight.data(), y.data());
    if (bias != nullptr) {
        detail::add_channel_bias(y.data(), bias->data(), g.batch, g.out_channels, g.out_spatial());
    }
    return y;
}

// Gradients of conv_forward for grad_output; only the requested ones are computed.
template <std::size_t N, class T>
conv_grads<T, N> conv_backward(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                               const Tensor<T, N + 2>& grad_output, const conv_options<N>& options = {},
                               grad_request need = {}) {
    const auto g = detail::make_conv_geometry<N>(input, weight, nullptr, options);
    detail::check_grad_output<N>(detail::conv_name<N>(false), grad_output,
                                 detail::batched_shape<N>(g.batch, g.out_channels, g.out_size));
    conv_grads<T, N> r;
    if (need.input) {
        r.input.emplace(input.shape());
        detail::conv_apply_data_grad(g, grad_output.data(), weight.data(), r.input->data());
    }
    if (need.weight) {
        r.weight.emplace(weight.shape());
        detail::conv_apply_weight_grad(g, input.data(), grad_output.data(), r.weight->data());
    }
    if (need.bias) {
        r.bias = detail::channel_sums(grad_output.data(), g.batch, g.out_channels, g.out_spatial());
    }
    return r;
}

// torch.nn.functional.conv_transpose{N}d: input (batch, C_in, spatial...), weight (C_in,
// C_out / groups, kernel...), optional bias (C_out); output extent per axis
// (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
template <std::size_t N, class T>
Tensor<T, N + 2> conv_transpose_forward(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                                        const std::type_identity_t<Tensor<T, 1>>* bias,
                                        const conv_transpose_options<N>& options = {}) {
    static_assert(N >= 1 && N <= 3, "conv_transpose: 1, 2 or 3 spatial axes");
    const auto g = detail::make_conv_transpose_geometry<N>(input, weight, bias, options);
    Tensor<T, N + 2> y(detail::batched_shape<N>(g.batch, g.in_channels, g.in_size));
    detail::conv_apply_data_grad(g, input.data(), weight.data(), y.data());
    if (bias != nullptr) {
        detail::add_channel_bias(y.data(), bias->data(), g.batch, g.in_channels, g.in_spatial());
    }
    return y;
}

// Gradients of conv_transpose_forward: the input's is a convolution of grad_output with the same
// weight, the weight's is the convolution weight gradient with the roles of input and gy swapped.
template <std::size_t N, class T>
conv_grads<T, N> conv_transpose_backward(const Tensor<T, N + 2>& input, const Tensor<T, N + 2>& weight,
                                         const Tensor<T, N + 2>& grad_output,
                                         const conv_transpose_options<N>& options = {},
                                         grad_request need = {}) {
    const auto g = detail::make_conv_transpose_geometry<N>(input, weight, nullptr, options);
    detail::check_grad_output<N>(detail::conv_name<N>(true), grad_output,
                                 detail::batched_shape<N>(g.batch, g.in_channels, g.in_size));
    conv_grads<T, N> r;
    if (need.input) {
        r.input.emplace(input.shape());
        detail::conv_apply(g, grad_output.data(), weight.data(), r.input->data());
    }
    if (need.weight) {
        r.weight.emplace(weight.shape());
        detail::conv_apply_weight_grad(g, grad_output.data(), input.data(), r.weight->data());
    }
    if (need.bias) {
        r.bias = detail::channel_sums(grad_output.data(), g.batch, g.in_channels, g.in_spatial());
    }
    return r;
}

} // namespace cinediff::nn::kernels
