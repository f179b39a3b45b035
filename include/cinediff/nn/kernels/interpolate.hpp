#pragma once

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Resampling kernels of torch.nn.functional.interpolate over N = 1, 2, 3 spatial dimensions of a
// (batch, channels, spatial...) tensor: 'nearest', 'nearest-exact' and the linear family
// ('linear', 'bilinear', 'trilinear'), with torch's index rules (UpSample.h of PyTorch 1.13).
//
// Each spatial dimension gets a table of two source taps and their weights; the forward pass
// combines 2^N taps per output (dimension by dimension, outermost first, as torch nests them) in
// parallel over output elements; the backward pass is the transpose, scattered sequentially within
// each (batch, channel) plane and in parallel over planes, so it is deterministic.
namespace cinediff::nn::kernels {

enum class interpolate_mode { nearest, nearest_exact, linear };

// Per output index along one dimension: source taps i0, i1 and weights w0, w1 (nearest: w1 = 0).
template <class T>
struct interpolate_taps {
    std::vector<index_t> i0, i1;
    std::vector<T> w0, w1;
};

// One dimension's taps. `scale` is the user's scale_factor when it is used (torch passes it to the
// kernel unless recompute_scale_factor), otherwise nullopt (then in / out is used).
template <class T>
interpolate_taps<T> make_interpolate_taps(interpolate_mode mode, index_t in, index_t out, bool align_corners,
                                          std::optional<double> scale) {
    interpolate_taps<T> t;
    t.i0.resize(static_cast<std::size_t>(out));
    t.i1.resize(static_cast<std::size_t>(out));
    t.w0.assign(static_cast<std::size_t>(out), T(1));
    t.w1.assign(static_cast<std::size_t>(out), T(0));
    // torch's compute_scales_value: 1 / scale_factor when given, else in / out.
    auto scales_value = [&](auto tag) {
        using S = decltype(tag);
        return (scale && *scale > 0) ? static_cast<S>(1.0 / *scale)
                                     : static_cast<S>(static_cast<S>(in) / static_cast<S>(out));
    };
    for (index_t o = 0; o < out; ++o) {
        const auto k = static_cast<std::size_t>(o);
        if (mode == interpolate_mode::nearest) {
            index_t src = 0;
            if (out == in) {
                src = o;
            } else if (out == 2 * in) {
                src = o >> 1;
            } else {
                const float s = scales_value(float{});
                src = std::min(static_cast<index_t>(std::floor(static_cast<float>(o) * s)), in - 1);
            }
            t.i0[k] = t.i1[k] = src;
        } else if (mode == interpolate_mode::nearest_exact) {
            const float s = scales_value(float{});
            const index_t src = std::min(
                static_cast<index_t>(std::floor(static_cast<float>((static_cast<double>(o) + 0.5) * s))),
                in - 1);
            t.i0[k] = t.i1[k] = src;
        } else {
            if (out == in) {
                t.i0[k] = t.i1[k] = o;
                continue;
            }
            T ratio = 0;
            if (align_corners) {
                ratio = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
            } else {
                ratio = scales_value(T{});
            }
            double real = 0;
            if (align_corners) {
                real = static_cast<double>(ratio) * static_cast<double>(o);
            } else {
                real = static_cast<double>(ratio) * (static_cast<double>(o) + 0.5) - 0.5;
                real = real < 0 ? 0.0 : real;
            }
            const auto i0 = static_cast<index_t>(real);
            t.i0[k] = i0;
            t.i1[k] = i0 + ((i0 < in - 1) ? 1 : 0);
            t.w1[k] = static_cast<T>(real - static_cast<double>(i0));
            t.w0[k] = static_cast<T>(1) - t.w1[k];
        }
    }
    return t;
}

namespace detail {

template <std::size_t D, std::size_t N, class T>
T interpolate_gather(const std::array<interpolate_taps<T>, N>& taps, const shape_t<N>& pos,
                     const shape_t<N>& strides, const T* p, index_t base, bool two_taps) {
    if constexpr (D == N) {
        return p[base];
    } else {
        const auto k = static_cast<std::size_t>(pos[D]);
        const T a =
            interpolate_gather<D + 1, N>(taps, pos, strides, p, base + taps[D].i0[k] * strides[D], two_taps);
        if (!two_taps) {
            return a;
        }
        const T b =
            interpolate_gather<D + 1, N>(taps, pos, strides, p, base + taps[D].i1[k] * strides[D], two_taps);
        return taps[D].w0[k] * a + taps[D].w1[k] * b;
    }
}

template <std::size_t D, std::size_t N, class T>
void interpolate_scatter(const std::array<interpolate_taps<T>, N>& taps, const shape_t<N>& pos,
                         const shape_t<N>& strides, T* p, index_t base, T g, bool two_taps) {
    if constexpr (D == N) {
        p[base] += g;
    } else {
        const auto k = static_cast<std::size_t>(pos[D]);
        if (!two_taps) {
            interpolate_scatter<D + 1, N>(taps, pos, strides, p, base + taps[D].i0[k] * strides[D], g,
                                          two_taps);
            return;
        }
        interpolate_scatter<D + 1, N>(taps, pos, strides, p, base + taps[D].i0[k] * strides[D],
                                      taps[D].w0[k] * g, two_taps);
        interpolate_scatter<D + 1, N>(taps, pos, strides, p, base + taps[D].i1[k] * strides[D],
                                      taps[D].w1[k] * g, two_taps);
    }
}

template <std::size_t N>
shape_t<N> unravel_spatial(index_t flat, const shape_t<N>& extent) {
    shape_t<N> idx{};
    for (std::size_t d = N; d-- > 0;) {
        idx[d] = flat % extent[d];
        flat /= extent[d];
    }
    return idx;
}

template <std::size_t N, class T>
std::array<interpolate_taps<T>, N> all_taps(interpolate_mode mode, const shape_t<N>& in,
                                            const shape_t<N>& out, bool align_corners,
                                            const std::array<std::optional<double>, N>& scales) {
    std::array<interpolate_taps<T>, N> taps;
    for (std::size_t d = 0; d < N; ++d) {
        taps[d] = make_interpolate_taps<T>(mode, in[d], out[d], align_corners, scales[d]);
    }
    return taps;
}

} // namespace detail

// input (batch, channels, spatial...) -> (batch, channels, output_size...).
template <std::size_t N, class T>
Tensor<T, N + 2> interpolate_forward(const Tensor<T, N + 2>& input, const shape_t<N>& output_size,
                                     interpolate_mode mode, bool align_corners,
                                     const std::array<std::optional<double>, N>& scales) {
    static_assert(std::is_floating_point_v<T>, "cinediff: interpolate computes in float or double");
    shape_t<N> in{};
    shape_t<N + 2> out_shape = input.shape();
    for (std::size_t d = 0; d < N; ++d) {
        in[d] = input.shape(d + 2);
        out_shape[d + 2] = output_size[d];
    }
    const auto taps = detail::all_taps<N, T>(mode, in, output_size, align_corners, scales);
    const bool two = mode == interpolate_mode::linear;
    const auto strides = contiguous_strides(in);
    const index_t in_plane = numel(in), out_plane = numel(output_size);
    Tensor<T, N + 2> out(out_shape);
    const T* x = input.data();
    T* y = out.data();
    backend::parallel_for(out.size(), two ? (index_t{1} << N) : 1, [&](index_t i) {
        const index_t plane = i / out_plane;
        const auto pos = detail::unravel_spatial<N>(i % out_plane, output_size);
        y[i] = detail::interpolate_gather<0, N>(taps, pos, strides, x + plane * in_plane, 0, two);
    });
    return out;
}

template <std::size_t N, class T>
Tensor<T, N + 2> interpolate_backward(const Tensor<T, N + 2>& grad_output, const shape_t<N + 2>& input_shape,
                                      interpolate_mode mode, bool align_corners,
                                      const std::array<std::optional<double>, N>& scales) {
    shape_t<N> in{}, out{};
    for (std::size_t d = 0; d < N; ++d) {
        in[d] = input_shape[d + 2];
        out[d] = grad_output.shape(d + 2);
    }
    const auto taps = detail::all_taps<N, T>(mode, in, out, align_corners, scales);
    const bool two = mode == interpolate_mode::linear;
    const auto strides = contiguous_strides(in);
    const index_t in_plane = numel(in), out_plane = numel(out);
    Tensor<T, N + 2> grad_input(input_shape);
    const index_t planes = input_shape[0] * input_shape[1];
    backend::parallel_for(planes, out_plane * (two ? (index_t{1} << N) : 1), [&](index_t plane) {
        const T* gy = grad_output.data() + plane * out_plane;
        T* gx = grad_input.data() + plane * in_plane;
        for (index_t i = 0; i < out_plane; ++i) {
            detail::interpolate_scatter<0, N>(taps, detail::unravel_spatial<N>(i, out), strides, gx, 0, gy[i],
                                              two);
        }
    });
    return grad_input;
}

} // namespace cinediff::nn::kernels
