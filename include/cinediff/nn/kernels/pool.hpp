#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Pooling kernels over N spatial dimensions (N = 1, 2, 3), torch.nn.functional semantics:
// avg_pool, max_pool (with argmax indices) and adaptive_avg_pool, forward and backward.
//
// Inputs are (planes..., spatial...) tensors of rank N + 1 (unbatched) or N + 2 (batched); every
// leading index is an independent plane. Forward passes run in parallel over output elements,
// backward passes in parallel over planes and sequentially within a plane, so gradients where
// windows overlap are accumulated in a fixed order: results are identical for any thread count.
namespace cinediff::nn::kernels {

template <std::size_t N>
constexpr shape_t<N> filled_shape(index_t v) {
    shape_t<N> s{};
    s.fill(v);
    return s;
}

// Attributes of avg_pool{1,2,3}d (torch's keyword arguments). A stride of all zeros (the default)
// means stride = kernel_size, as torch's stride=None.
template <std::size_t N>
struct avg_pool_options {
    shape_t<N> kernel_size{};
    shape_t<N> stride{};
    shape_t<N> padding{};
    bool ceil_mode = false;
    bool count_include_pad = true;
    std::optional<index_t> divisor_override{};
};

// Attributes of max_pool{1,2,3}d.
template <std::size_t N>
struct max_pool_options {
    shape_t<N> kernel_size{};
    shape_t<N> stride{};
    shape_t<N> padding{};
    shape_t<N> dilation = filled_shape<N>(1);
    bool ceil_mode = false;
};

// torch's pooling_output_shape: floor (or ceil) division, and with ceil_mode the last window must
// start inside the input or the left padding.
inline index_t pool_output_size(index_t in, index_t kernel, index_t stride, index_t pad, index_t dilation,
                                bool ceil_mode) {
    const index_t num = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    index_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) {
        --out;
    }
    return out;
}

namespace detail {

template <std::size_t N>
std::string dims_to_string(const shape_t<N>& s) {
    if constexpr (N == 1) {
        return std::to_string(s[0]);
    } else {
        return shape_to_string(s);
    }
}

// The planes x spatial split of a rank-R input with N spatial dimensions.
template <std::size_t N, std::size_t R>
struct plane_layout {
    static_assert(R == N + 1 || R == N + 2, "cinediff: pooling takes (C, spatial...) or (N, C, spatial...)");
    index_t planes = 1;
    shape_t<N> spatial{};
    index_t spatial_size = 1;

    explicit plane_layout(const shape_t<R>& shape) {
        for (std::size_t d = 0; d < R - N; ++d) {
            planes *= shape[d];
        }
        for (std::size_t d = 0; d < N; ++d) {
            spatial[d] = shape[R - N + d];
            spatial_size *= spatial[d];
        }
    }
};

template <std::size_t N, std::size_t R>
shape_t<R> with_spatial(const shape_t<R>& shape, const shape_t<N>& spatial) {
    shape_t<R> out = shape;
    for (std::size_t d = 0; d < N; ++d) {
        out[R - N + d] = spatial[d];
    }
    return out;
}

// Unravels a flat row-major index over `extent` into a multi-index.
template <std::size_t N>
shape_t<N> unravel(index_t flat, const shape_t<N>& extent) {
    shape_t<N> idx{};
    for (std::size_t d = N; d-- > 0;) {
        idx[d] = flat % extent[d];
        flat /= extent[d];
    }
    return idx;
}

// Calls fn(offset) for every multi-index i with lo[d] <= i[d] < hi[d] (step[d] apart), in row-major
// order, where offset = sum_d i[d] * strides[d].
template <std::size_t D, std::size_t N, class Fn>
void box_loop(const shape_t<N>& lo, const shape_t<N>& hi, const shape_t<N>& step, const shape_t<N>& strides,
              index_t base, Fn& fn) {
    if constexpr (D == N) {
        fn(base);
    } else {
        for (index_t i = lo[D]; i < hi[D]; i += step[D]) {
            box_loop<D + 1, N>(lo, hi, step, strides, base + i * strides[D], fn);
        }
    }
}
template <std::size_t N, class Fn>
void for_each_in_box(const shape_t<N>& lo, const shape_t<N>& hi, const shape_t<N>& step,
                     const shape_t<N>& strides, Fn&& fn) {
    box_loop<0, N>(lo, hi, step, strides, 0, fn);
}

// Checked pooling geometry.
template <std::size_t N>
struct pool_geometry {
    shape_t<N> in{}, out{}, kernel{}, stride{}, padding{}, dilation{};
    shape_t<N> in_strides{}; // within a plane
    index_t out_size = 1;
};

template <std::size_t N, std::size_t R>
pool_geometry<N> make_pool_geometry(const char* op, const shape_t<R>& input_shape, const shape_t<N>& kernel,
                                    const shape_t<N>& stride, const shape_t<N>& padding,
                                    const shape_t<N>& dilation, bool ceil_mode) {
    pool_geometry<N> g;
    const plane_layout<N, R> layout(input_shape);
    g.in = layout.spatial;
    g.kernel = kernel;
    g.padding = padding;
    g.dilation = dilation;
    const bool default_stride = std::all_of(stride.begin(), stride.end(), [](index_t s) { return s == 0; });
    g.stride = default_stride ? kernel : stride;
    const std::string name(op);
    for (std::size_t d = 0; d < N; ++d) {
        if (kernel[d] <= 0) {
            throw shape_error(name + ": kernel_size " + dims_to_string(kernel) + " must be positive");
        }
        if (g.stride[d] <= 0) {
            throw shape_error(name + ": stride " + dims_to_string(g.stride) + " must be positive");
        }
        if (dilation[d] <= 0) {
            throw shape_error(name + ": dilation " + dims_to_string(dilation) + " must be positive");
        }
        if (padding[d] < 0) {
            throw shape_error(name + ": padding " + dims_to_string(padding) + " must be non-negative");
        }
        if (padding[d] > kernel[d] / 2) {
            throw shape_error(name + ": kernel_size " + std::to_string(kernel[d]) + " with padding " +
                              std::to_string(padding[d]) + ": padding must be at most half the kernel size");
        }
    }
    for (std::size_t d = 0; d < N; ++d) {
        g.out[d] = pool_output_size(g.in[d], kernel[d], g.stride[d], padding[d], dilation[d], ceil_mode);
    }
    for (std::size_t d = 0; d < N; ++d) {
        if (g.in[d] <= 0 || g.out[d] <= 0) {
            throw shape_error(name + ": input of shape " + shape_to_string(input_shape) +
                              " is too small for kernel_size " + dims_to_string(kernel) + ", padding " +
                              dims_to_string(padding) + " and dilation " + dims_to_string(dilation) +
                              ": the output size would be " + dims_to_string(g.out));
        }
    }
    g.in_strides = contiguous_strides(g.in);
    g.out_size = numel(g.out);
    return g;
}

// The averaging window of one output position and its divisor (torch's cpu_avg_pool).
template <std::size_t N>
struct avg_window {
    shape_t<N> lo{}, hi{};
    index_t divisor = 0;
    bool empty = false;
};

template <std::size_t N>
avg_window<N> make_avg_window(const pool_geometry<N>& g, const shape_t<N>& o, bool count_include_pad,
                              const std::optional<index_t>& divisor_override) {
    avg_window<N> w;
    index_t pool_size = 1, count = 1;
    for (std::size_t d = 0; d < N; ++d) {
        index_t lo = o[d] * g.stride[d] - g.padding[d];
        index_t hi = std::min(lo + g.kernel[d], g.in[d] + g.padding[d]);
        pool_size *= hi - lo;
        lo = std::max<index_t>(lo, 0);
        hi = std::min(hi, g.in[d]);
        if (lo >= hi) {
            w.empty = true;
        }
        count *= hi - lo;
        w.lo[d] = lo;
        w.hi[d] = hi;
    }
    w.divisor = divisor_override ? *divisor_override : (count_include_pad ? pool_size : count);
    return w;
}

} // namespace detail

template <std::size_t N, class T, std::size_t R>
Tensor<T, R> avg_pool_forward(const Tensor<T, R>& input, const avg_pool_options<N>& options,
                              const char* op = "avg_pool") {
    static_assert(std::is_floating_point_v<T>, "cinediff: avg_pool computes in float or double");
    const auto g = detail::make_pool_geometry<N>(op, input.shape(), options.kernel_size, options.stride,
                                                 options.padding, filled_shape<N>(1), options.ceil_mode);
    if (options.divisor_override && *options.divisor_override == 0) {
        throw shape_error(std::string(op) + ": divisor_override must be non-zero");
    }
    const detail::plane_layout<N, R> layout(input.shape());
    Tensor<T, R> out(detail::with_spatial<N>(input.shape(), g.out));
    const T* in = input.data();
    T* o = out.data();
    const index_t window = numel(g.kernel);
    const shape_t<N> ones = filled_shape<N>(1);
    backend::parallel_for(layout.planes * g.out_size, window, [&](index_t i) {
        const index_t plane = i / g.out_size;
        const auto w = detail::make_avg_window<N>(g, detail::unravel<N>(i % g.out_size, g.out),
                                                  options.count_include_pad, options.divisor_override);
        if (w.empty) {
            o[i] = T(0);
            return;
        }
        const T* p = in + plane * layout.spatial_size;
        double acc = 0;
        detail::for_each_in_box<N>(w.lo, w.hi, ones, g.in_strides, [&](index_t off) { acc += p[off]; });
        o[i] = static_cast<T>(acc / static_cast<double>(w.divisor));
    });
    return out;
}

template <std::size_t N, class T, std::size_t R>
Tensor<T, R> avg_pool_backward(const Tensor<T, R>& grad_output, const shape_t<R>& input_shape,
                               const avg_pool_options<N>& options, const char* op = "avg_pool") {
    const auto g = detail::make_pool_geometry<N>(op, input_shape, options.kernel_size, options.stride,
                                                 options.padding, filled_shape<N>(1), options.ceil_mode);
    const detail::plane_layout<N, R> layout(input_shape);
    Tensor<T, R> grad_input(input_shape);
    const shape_t<N> ones = filled_shape<N>(1);
    backend::parallel_for(layout.planes, g.out_size * numel(g.kernel), [&](index_t plane) {
        const T* gy = grad_output.data() + plane * g.out_size;
        T* gx = grad_input.data() + plane * layout.spatial_size;
        for (index_t i = 0; i < g.out_size; ++i) {
            const auto w = detail::make_avg_window<N>(g, detail::unravel<N>(i, g.out),
                                                      options.count_include_pad, options.divisor_override);
            if (w.empty) {
                continue;
            }
            const T v = static_cast<T>(static_cast<double>(gy[i]) / static_cast<double>(w.divisor));
            detail::for_each_in_box<N>(w.lo, w.hi, ones, g.in_strides, [&](index_t off) { gx[off] += v; });
        }
    });
    return grad_input;
}

// Max pooling; `indices` receives the flat spatial index (within the plane) of each output's
// maximum: the first maximum in window order, or the last NaN, as torch's CPU kernel.
template <std::size_t N, class T, std::size_t R>
Tensor<T, R> max_pool_forward(const Tensor<T, R>& input, const max_pool_options<N>& options,
                              Tensor<std::int64_t, R>* indices = nullptr, const char* op = "max_pool") {
    static_assert(std::is_floating_point_v<T>, "cinediff: max_pool computes in float or double");
    const auto g = detail::make_pool_geometry<N>(op, input.shape(), options.kernel_size, options.stride,
                                                 options.padding, options.dilation, options.ceil_mode);
    const detail::plane_layout<N, R> layout(input.shape());
    const auto out_shape = detail::with_spatial<N>(input.shape(), g.out);
    Tensor<T, R> out(out_shape);
    if (indices != nullptr) {
        *indices = Tensor<std::int64_t, R>(out_shape);
    }
    std::int64_t* idx = indices != nullptr ? indices->data() : nullptr;
    const T* in = input.data();
    T* o = out.data();
    backend::parallel_for(layout.planes * g.out_size, numel(g.kernel), [&](index_t i) {
        const index_t plane = i / g.out_size;
        const auto pos = detail::unravel<N>(i % g.out_size, g.out);
        shape_t<N> lo{}, hi{};
        index_t first = 0;
        for (std::size_t d = 0; d < N; ++d) {
            lo[d] = pos[d] * g.stride[d] - g.padding[d];
            hi[d] = std::min(lo[d] + (g.kernel[d] - 1) * g.dilation[d] + 1, g.in[d]);
            while (lo[d] < 0) {
                lo[d] += g.dilation[d];
            }
            first += lo[d] * g.in_strides[d];
        }
        const T* p = in + plane * layout.spatial_size;
        T best = -std::numeric_limits<T>::infinity();
        index_t best_off = first;
        detail::for_each_in_box<N>(lo, hi, g.dilation, g.in_strides, [&](index_t off) {
            const T v = p[off];
            if (v > best || std::isnan(v)) {
                best = v;
                best_off = off;
            }
        });
        o[i] = best;
        if (idx != nullptr) {
            idx[i] = best_off;
        }
    });
    return out;
}

// Routes each output gradient to its argmax (indices from max_pool_forward).
template <std::size_t N, class T, std::size_t R>
Tensor<T, R> max_pool_backward(const Tensor<T, R>& grad_output, const Tensor<std::int64_t, R>& indices,
                               const shape_t<R>& input_shape) {
    const detail::plane_layout<N, R> layout(input_shape);
    const detail::plane_layout<N, R> out_layout(grad_output.shape());
    Tensor<T, R> grad_input(input_shape);
    backend::parallel_for(layout.planes, out_layout.spatial_size, [&](index_t plane) {
        const T* gy = grad_output.data() + plane * out_layout.spatial_size;
        const std::int64_t* ix = indices.data() + plane * out_layout.spatial_size;
        T* gx = grad_input.data() + plane * layout.spatial_size;
        for (index_t i = 0; i < out_layout.spatial_size; ++i) {
            if (ix[i] >= 0 && ix[i] < layout.spatial_size) {
                gx[ix[i]] += gy[i];
            }
        }
    });
    return grad_input;
}

namespace detail {
// torch's adaptive pooling window: [floor(i * in / out), ceil((i + 1) * in / out)).
inline index_t adaptive_start(index_t i, index_t in, index_t out) {
    return (i * in) / out;
}
inline index_t adaptive_end(index_t i, index_t in, index_t out) {
    return ((i + 1) * in + out - 1) / out;
}

template <std::size_t N, std::size_t R>
void check_adaptive(const char* op, const shape_t<R>& input_shape, const shape_t<N>& output_size) {
    const plane_layout<N, R> layout(input_shape);
    for (std::size_t d = 0; d < N; ++d) {
        if (output_size[d] <= 0) {
            throw shape_error(std::string(op) + ": output_size " + dims_to_string(output_size) +
                              " must be positive");
        }
        if (layout.spatial[d] <= 0) {
            throw shape_error(std::string(op) + ": input of shape " + shape_to_string(input_shape) +
                              " has an empty spatial dimension");
        }
    }
}
} // namespace detail

template <std::size_t N, class T, std::size_t R>
Tensor<T, R> adaptive_avg_pool_forward(const Tensor<T, R>& input, const shape_t<N>& output_size,
                                       const char* op = "adaptive_avg_pool") {
    static_assert(std::is_floating_point_v<T>, "cinediff: adaptive_avg_pool computes in float or double");
    detail::check_adaptive<N>(op, input.shape(), output_size);
    const detail::plane_layout<N, R> layout(input.shape());
    Tensor<T, R> out(detail::with_spatial<N>(input.shape(), output_size));
    const index_t out_size = numel(output_size);
    const auto in_strides = contiguous_strides(layout.spatial);
    const shape_t<N> ones = filled_shape<N>(1);
    const T* in = input.data();
    T* o = out.data();
    index_t cost = 1;
    for (std::size_t d = 0; d < N; ++d) {
        cost *= (layout.spatial[d] + output_size[d] - 1) / output_size[d] + 1;
    }
    backend::parallel_for(layout.planes * out_size, cost, [&](index_t i) {
        const index_t plane = i / out_size;
        const auto pos = detail::unravel<N>(i % out_size, output_size);
        shape_t<N> lo{}, hi{};
        index_t count = 1;
        for (std::size_t d = 0; d < N; ++d) {
            lo[d] = detail::adaptive_start(pos[d], layout.spatial[d], output_size[d]);
            hi[d] = detail::adaptive_end(pos[d], layout.spatial[d], output_size[d]);
            count *= hi[d] - lo[d];
        }
        const T* p = in + plane * layout.spatial_size;
        double acc = 0;
        detail::for_each_in_box<N>(lo, hi, ones, in_strides, [&](index_t off) { acc += p[off]; });
        o[i] = static_cast<T>(acc / static_cast<double>(count));
    });
    return out;
}

template <std::size_t N, class T, std::size_t R>
Tensor<T, R> adaptive_avg_pool_backward(const Tensor<T, R>& grad_output, const shape_t<R>& input_shape) {
    const detail::plane_layout<N, R> layout(input_shape);
    const detail::plane_layout<N, R> out_layout(grad_output.shape());
    const auto output_size = out_layout.spatial;
    const index_t out_size = out_layout.spatial_size;
    const auto in_strides = contiguous_strides(layout.spatial);
    const shape_t<N> ones = filled_shape<N>(1);
    Tensor<T, R> grad_input(input_shape);
    backend::parallel_for(layout.planes, layout.spatial_size + out_size, [&](index_t plane) {
        const T* gy = grad_output.data() + plane * out_size;
        T* gx = grad_input.data() + plane * layout.spatial_size;
        for (index_t i = 0; i < out_size; ++i) {
            const auto pos = detail::unravel<N>(i, output_size);
            shape_t<N> lo{}, hi{};
            index_t count = 1;
            for (std::size_t d = 0; d < N; ++d) {
                lo[d] = detail::adaptive_start(pos[d], layout.spatial[d], output_size[d]);
                hi[d] = detail::adaptive_end(pos[d], layout.spatial[d], output_size[d]);
                count *= hi[d] - lo[d];
            }
            const T v = static_cast<T>(static_cast<double>(gy[i]) / static_cast<double>(count));
            detail::for_each_in_box<N>(lo, hi, ones, in_strides, [&](index_t off) { gx[off] += v; });
        }
    });
    return grad_input;
}

} // namespace cinediff::nn::kernels
