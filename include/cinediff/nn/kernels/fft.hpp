#pragma once

#include <cmath>
#include <complex>
#include <string>
#include <unsupported/Eigen/FFT>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Two-dimensional discrete Fourier transforms over the last two dimensions, as torch.fft.fft2 /
// ifft2. Complex numbers are not a cinediff element type: a complex tensor is a real tensor with a
// trailing dimension of 2 (real, imaginary), the layout of torch.view_as_real.
//
// The transform runs in double precision through Eigen's FFT module (kissfft backend: O(n log n)
// for any length, mixed radix), rows then columns, in parallel over planes; each plane is computed
// independently, so results do not depend on the thread count.
namespace cinediff::nn::kernels {

enum class fft_norm { backward, ortho, forward };

inline fft_norm parse_fft_norm(const std::string& norm, const char* op) {
    if (norm == "backward" || norm.empty()) {
        return fft_norm::backward;
    }
    if (norm == "ortho") {
        return fft_norm::ortho;
    }
    if (norm == "forward") {
        return fft_norm::forward;
    }
    throw std::invalid_argument(std::string(op) + ": invalid normalization mode '" + norm +
                                "' (expected backward, ortho or forward)");
}

// The factor a transform of n points is multiplied by: forward (inverse = false) or inverse.
inline double fft_scale(fft_norm norm, index_t n, bool inverse) {
    switch (norm) {
    case fft_norm::ortho:
        return 1.0 / std::sqrt(static_cast<double>(n));
    case fft_norm::forward:
        return inverse ? 1.0 : 1.0 / static_cast<double>(n);
    default:
        return inverse ? 1.0 / static_cast<double>(n) : 1.0;
    }
}

// out = scale * sum_{h,w} in[h, w] * exp(sign * 2 pi i (h k / H + w l / W)) for every plane.
// `in` holds `planes` planes of H x W values: complex interleaved (in_complex) or real.
// `out` receives complex interleaved values, or only their real parts (real_output).
template <class T>
void fft2_planes(const T* in, bool in_complex, T* out, bool real_output, index_t planes, index_t height,
                 index_t width, int sign, double scale) {
    using C = std::complex<double>;
    const index_t plane = height * width;
    backend::parallel_for(planes, plane * 8, [&](index_t p) {
        Eigen::FFT<double> fft;
        std::vector<C> buf(static_cast<std::size_t>(plane));
        std::vector<C> line(static_cast<std::size_t>(std::max(height, width)));
        std::vector<C> res(line.size());
        const bool conj = sign > 0; // the inverse is conj(DFT(conj(x)))
        for (index_t k = 0; k < plane; ++k) {
            const double re = in_complex ? static_cast<double>(in[(p * plane + k) * 2])
                                         : static_cast<double>(in[p * plane + k]);
            const double im = in_complex ? static_cast<double>(in[(p * plane + k) * 2 + 1]) : 0.0;
            buf[static_cast<std::size_t>(k)] = C(re, conj ? -im : im);
        }
        if (width > 1) {
            for (index_t h = 0; h < height; ++h) {
                C* row = buf.data() + h * width;
                fft.fwd(res.data(), row, width);
                std::copy_n(res.data(), width, row);
            }
        }
        if (height > 1) {
            for (index_t w = 0; w < width; ++w) {
                for (index_t h = 0; h < height; ++h) {
                    line[static_cast<std::size_t>(h)] = buf[static_cast<std::size_t>(h * width + w)];
                }
                fft.fwd(res.data(), line.data(), height);
                for (index_t h = 0; h < height; ++h) {
                    buf[static_cast<std::size_t>(h * width + w)] = res[static_cast<std::size_t>(h)];
                }
            }
        }
        for (index_t k = 0; k < plane; ++k) {
            const C v = buf[static_cast<std::size_t>(k)];
            const double re = v.real() * scale;
            const double im = (conj ? -v.imag() : v.imag()) * scale;
            if (real_output) {
                out[p * plane + k] = static_cast<T>(re);
            } else {
                out[(p * plane + k) * 2] = static_cast<T>(re);
                out[(p * plane + k) * 2 + 1] = static_cast<T>(im);
            }
        }
    });
}

// fft2 of a real (..., H, W) tensor -> complex (..., H, W, 2).
template <class T, std::size_t R>
Tensor<T, R + 1> fft2_real_forward(const Tensor<T, R>& input, fft_norm norm) {
    static_assert(R >= 2, "cinediff: fft2 needs at least two dimensions");
    static_assert(std::is_floating_point_v<T>, "cinediff: fft2 computes in float or double");
    shape_t<R + 1> shape{};
    std::copy(input.shape().begin(), input.shape().end(), shape.begin());
    shape[R] = 2;
    Tensor<T, R + 1> out(shape);
    const index_t h = input.shape(R - 2), w = input.shape(R - 1);
    if (h * w == 0) {
        return out;
    }
    fft2_planes(input.data(), false, out.data(), false, input.size() / (h * w), h, w, -1,
                fft_scale(norm, h * w, false));
    return out;
}

// Complex (..., H, W, 2) -> complex (..., H, W, 2): the forward (inverse = false) or inverse
// transform.
template <class T, std::size_t R>
Tensor<T, R> fft2_complex_forward(const Tensor<T, R>& input, fft_norm norm, bool inverse, const char* op) {
    static_assert(R >= 3, "cinediff: a complex tensor for fft2 has shape (..., H, W, 2)");
    if (input.shape(R - 1) != 2) {
        throw shape_error(std::string(op) +
                          ": expected a complex tensor as (..., H, W, 2) (view_as_real layout), got "
                          "shape " +
                          shape_to_string(input.shape()));
    }
    Tensor<T, R> out(input.shape());
    const index_t h = input.shape(R - 3), w = input.shape(R - 2);
    if (h * w == 0) {
        return out;
    }
    fft2_planes(input.data(), true, out.data(), false, input.size() / (2 * h * w), h, w, inverse ? 1 : -1,
                fft_scale(norm, h * w, inverse));
    return out;
}

// Gradient of fft2 of a real input: Re(scale * DFT+(grad_output)), shape (..., H, W).
template <class T, std::size_t R>
Tensor<T, R - 1> fft2_real_backward(const Tensor<T, R>& grad_output, fft_norm norm) {
    shape_t<R - 1> shape{};
    std::copy_n(grad_output.shape().begin(), R - 1, shape.begin());
    Tensor<T, R - 1> out(shape);
    const index_t h = grad_output.shape(R - 3), w = grad_output.shape(R - 2);
    if (h * w == 0) {
        return out;
    }
    fft2_planes(grad_output.data(), true, out.data(), true, out.size() / (h * w), h, w, 1,
                fft_scale(norm, h * w, false));
    return out;
}

// Gradient of a complex transform: the adjoint, i.e. the opposite-sign transform with the same
// scale.
template <class T, std::size_t R>
Tensor<T, R> fft2_complex_backward(const Tensor<T, R>& grad_output, fft_norm norm, bool inverse) {
    Tensor<T, R> out(grad_output.shape());
    const index_t h = grad_output.shape(R - 3), w = grad_output.shape(R - 2);
    if (h * w == 0) {
        return out;
    }
    fft2_planes(grad_output.data(), true, out.data(), false, out.size() / (2 * h * w), h, w, inverse ? -1 : 1,
                fft_scale(norm, h * w, inverse));
    return out;
}

} // namespace cinediff::nn::kernels
