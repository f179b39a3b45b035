#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/operators.hpp>
#include <cinediff/tensor/tensor.hpp>

// Activation kernels.
//
// The element-wise activations are lazy tensor expressions (they fuse into whatever expression
// uses them): `Tensor<float, 4> h = silu(x) * gate;`. The same formulas, written once as generic
// helpers below, build the differentiable versions on Variables in nn/functional/activation.hpp,
// so training and sampling compute bit-identical values. softmax and log_softmax reduce along a
// dim and have a hand-written forward and backward.
namespace cinediff::nn::kernels {

namespace detail {

// The values an operand reads: a Variable's value, or the tensor expression itself.
template <class X>
decltype(auto) values_of(const X& x) {
    if constexpr (requires { x.value(); }) {
        return x.value();
    } else {
        return (x);
    }
}

// Each helper works on tensor expressions and on Variables (by argument-dependent lookup of the
// operators, exp, tanh, erf and where of the tensor or the autograd layer).

// relu'(0) = 0, as in PyTorch.
template <class X>
auto relu_of(const X& x) {
    return where(values_of(x) > 0, x, 0);
}

template <class X>
auto leaky_relu_of(const X& x, double negative_slope) {
    return where(values_of(x) > 0, x, x * negative_slope);
}

// 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) otherwise: no exp overflows, so the value
// and the dual-number derivative stay finite for any x.
template <class X>
auto sigmoid_of(const X& x) {
    return where(values_of(x) >= 0, 1 / (1 + exp(-x)), exp(x) / (1 + exp(x)));
}

template <class X>
auto silu_of(const X& x) {
    return x * sigmoid_of(x);
}

inline void check_gelu_approximate(std::string_view approximate) {
    if (approximate != "none" && approximate != "tanh") {
        throw std::invalid_argument("gelu: approximate must be 'none' or 'tanh', got '" +
                                    std::string(approximate) + "'");
    }
}

// x/2 (1 + erf(x / sqrt 2))
template <class X>
auto gelu_erf_of(const X& x) {
    return x * 0.5 * (1 + erf(x * 0.70710678118654752440));
}
// x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <class X>
auto gelu_tanh_of(const X& x) {
    return 0.5 * x * (1 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
}

// PyTorch's thresholding: x where beta x > threshold, else log(1 + exp(beta x)) / beta.
template <class X>
auto softplus_of(const X& x, double beta, double threshold) {
    return where(values_of(x) * beta > threshold, x, log(1 + exp(x * beta)) / beta);
}

} // namespace detail

template <expression E>
auto relu(const E& input) {
    return detail::relu_of(input);
}
template <expression E>
auto leaky_relu(const E& input, double negative_slope = 0.01) {
    return detail::leaky_relu_of(input, negative_slope);
}
// x * sigmoid(x) with the overflow-free sigmoid of detail::sigmoid_of.
template <expression E>
auto silu(const E& input) {
    return detail::silu_of(input);
}
// Exact (erf) GELU; gelu_tanh is approximate="tanh".
template <expression E>
auto gelu(const E& input) {
    return detail::gelu_erf_of(input);
}
template <expression E>
auto gelu_tanh(const E& input) {
    return detail::gelu_tanh_of(input);
}
template <expression E>
auto softplus(const E& input, double beta = 1, double threshold = 20) {
    return detail::softplus_of(input, beta, threshold);
}

// ---- softmax and log_softmax along one dim -------------------------------------------------------

namespace detail {

// Calls fn(base, stride, length) for every line along `dim` of a contiguous tensor of `shape`,
// in parallel over lines (each line is handled sequentially: deterministic for any thread count).
template <std::size_t R, class Fn>
void for_each_line(const shape_t<R>& shape, index_t dim, const char* op, Fn&& fn) {
    const std::size_t a = normalize_axis(dim, R, op);
    index_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < a; ++d) {
        outer *= shape[d];
    }
    for (std::size_t d = a + 1; d < R; ++d) {
        inner *= shape[d];
    }
    const index_t len = shape[a];
    backend::parallel_for(outer * inner, 4 * len, [&](index_t line) {
        const index_t o = line / inner;
        const index_t i = line % inner;
        fn(o * len * inner + i, inner, len);
    });
}

template <class T>
double line_max(const T* p, index_t stride, index_t len) {
    double m = -std::numeric_limits<double>::infinity();
    for (index_t j = 0; j < len; ++j) {
        const double v = static_cast<double>(p[j * stride]);
        if (v != v) {
            return v;
        }
        m = v > m ? v : m;
    }
    return m;
}

} // namespace detail

template <class T, std::size_t R>
Tensor<T, R> softmax_forward(const Tensor<T, R>& input, index_t dim) {
    static_assert(std::is_floating_point_v<T>, "cinediff: softmax computes in float or double");
    Tensor<T, R> out(input.shape());
    detail::for_each_line(input.shape(), dim, "softmax", [&](index_t base, index_t stride, index_t len) {
        const T* x = input.data() + base;
        T* y = out.data() + base;
        const double m = detail::line_max(x, stride, len);
        const double shift = std::isinf(m) ? 0.0 : m; // a line of -inf gives NaN, as in PyTorch
        double sum = 0;
        for (index_t j = 0; j < len; ++j) {
            sum += std::exp(static_cast<double>(x[j * stride]) - shift);
        }
        for (index_t j = 0; j < len; ++j) {
            y[j * stride] = static_cast<T>(std::exp(static_cast<double>(x[j * stride]) - shift) / sum);
        }
    });
    return out;
}

// grad_input = y * (grad_output - sum(grad_output * y)), y the softmax output.
template <class T, std::size_t R>
Tensor<T, R> softmax_backward(const Tensor<T, R>& output, const Tensor<T, R>& grad_output, index_t dim) {
    if (grad_output.shape() != output.shape()) {
        throw shape_error("softmax: grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " does not match output of shape " + shape_to_string(output.shape()));
    }
    Tensor<T, R> gx(output.shape());
    detail::for_each_line(output.shape(), dim, "softmax", [&](index_t base, index_t stride, index_t len) {
        const T* y = output.data() + base;
        const T* gy = grad_output.data() + base;
        T* g = gx.data() + base;
        double dot = 0;
        for (index_t j = 0; j < len; ++j) {
            dot += static_cast<double>(gy[j * stride]) * static_cast<double>(y[j * stride]);
        }
        for (index_t j = 0; j < len; ++j) {
            g[j * stride] = static_cast<T>(static_cast<double>(y[j * stride]) *
                                           (static_cast<double>(gy[j * stride]) - dot));
        }
    });
    return gx;
}

template <class T, std::size_t R>
Tensor<T, R> log_softmax_forward(const Tensor<T, R>& input, index_t dim) {
    static_assert(std::is_floating_point_v<T>, "cinediff: log_softmax computes in float or double");
    Tensor<T, R> out(input.shape());
    detail::for_each_line(input.shape(), dim, "log_softmax", [&](index_t base, index_t stride, index_t len) {
        const T* x = input.data() + base;
        T* y = out.data() + base;
        const double m = detail::line_max(x, stride, len);
        const double shift = std::isinf(m) ? 0.0 : m;
        double sum = 0;
        for (index_t j = 0; j < len; ++j) {
            sum += std::exp(static_cast<double>(x[j * stride]) - shift);
        }
        const double lse = std::log(sum) + shift;
        for (index_t j = 0; j < len; ++j) {
            y[j * stride] = static_cast<T>(static_cast<double>(x[j * stride]) - lse);
        }
    });
    return out;
}

// grad_input = grad_output - exp(y) * sum(grad_output), y the log_softmax output.
template <class T, std::size_t R>
Tensor<T, R> log_softmax_backward(const Tensor<T, R>& output, const Tensor<T, R>& grad_output, index_t dim) {
    if (grad_output.shape() != output.shape()) {
        throw shape_error("log_softmax: grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " does not match output of shape " + shape_to_string(output.shape()));
    }
    Tensor<T, R> gx(output.shape());
    detail::for_each_line(output.shape(), dim, "log_softmax", [&](index_t base, index_t stride, index_t len) {
        const T* y = output.data() + base;
        const T* gy = grad_output.data() + base;
        T* g = gx.data() + base;
        double sum = 0;
        for (index_t j = 0; j < len; ++j) {
            sum += static_cast<double>(gy[j * stride]);
        }
        for (index_t j = 0; j < len; ++j) {
            g[j * stride] = static_cast<T>(static_cast<double>(gy[j * stride]) -
                                           std::exp(static_cast<double>(y[j * stride])) * sum);
        }
    });
    return gx;
}

} // namespace cinediff::nn::kernels
