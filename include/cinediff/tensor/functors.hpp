#pragma once

#include <cmath>
#include <type_traits>

#include <cinediff/config.hpp>
#include <cinediff/tensor/vmath.hpp>

// Element-wise operations as functors: written once, marked CINEDIFF_HOST_DEVICE, used by the
// host executor now and by nvcc-compiled kernels unchanged. Each is a trivially copyable empty
// struct (or holds its parameters by value) so kernels can be passed by value to a device.
namespace cinediff::op {

// Math calls go through these so that argument-dependent lookup finds overloads for other number
// types (autograd's dual numbers) while float and double use <cmath>.
#define CINEDIFF_MATH_FORWARD(name)                                                                          \
    template <class A>                                                                                       \
    CINEDIFF_HOST_DEVICE auto math_##name(A a) {                                                             \
        using std::name;                                                                                     \
        return name(a);                                                                                      \
    }
CINEDIFF_MATH_FORWARD(abs)
CINEDIFF_MATH_FORWARD(exp)
CINEDIFF_MATH_FORWARD(log)
CINEDIFF_MATH_FORWARD(sqrt)
CINEDIFF_MATH_FORWARD(tanh)
CINEDIFF_MATH_FORWARD(erf)
CINEDIFF_MATH_FORWARD(sin)
CINEDIFF_MATH_FORWARD(cos)
#undef CINEDIFF_MATH_FORWARD

// exp, sigmoid and tanh of float and double use the vectorisable vmath versions on the host (a
// std::exp call keeps a whole `omp simd` loop scalar); device code and every other number type
// (dual numbers, ...) use the standard functions found as above.
template <class A>
inline constexpr bool use_vmath_v = std::is_same_v<A, float> || std::is_same_v<A, double>;

template <class A>
CINEDIFF_HOST_DEVICE auto fast_exp(A a) {
#if !defined(__CUDA_ARCH__)
    if constexpr (use_vmath_v<A>) {
        return vmath::exp(a);
    } else
#endif
    {
        return math_exp(a);
    }
}
template <class A>
CINEDIFF_HOST_DEVICE auto fast_tanh(A a) {
#if !defined(__CUDA_ARCH__)
    if constexpr (use_vmath_v<A>) {
        return vmath::tanh(a);
    } else
#endif
    {
        return math_tanh(a);
    }
}
// The logistic function for types without a vmath version. Number types whose generic form breaks
// down provide their own by ADL (dual numbers: 1/(1 + e^-x) differentiated as a quotient gives
// inf/inf = NaN below x = -88 in float, where the derivative s(1 - s) is simply ~0).
template <class A>
CINEDIFF_HOST_DEVICE A math_sigmoid(A a) {
    return A(A(1) / (A(1) + math_exp(-a)));
}

template <class A>
CINEDIFF_HOST_DEVICE A fast_sigmoid(A a) {
#if !defined(__CUDA_ARCH__)
    if constexpr (use_vmath_v<A>) {
        return vmath::sigmoid(a);
    } else
#endif
    {
        return A(math_sigmoid(a));
    }
}

template <class A, class B>
CINEDIFF_HOST_DEVICE auto math_pow(A a, B b) {
    using std::pow;
    return pow(a, b);
}

#define CINEDIFF_BINARY_FUNCTOR(name, expr)                                                                  \
    struct name {                                                                                            \
        template <class A, class B>                                                                          \
        CINEDIFF_HOST_DEVICE auto operator()(A a, B b) const {                                               \
            return expr;                                                                                     \
        }                                                                                                    \
    }
CINEDIFF_BINARY_FUNCTOR(plus, a + b);
CINEDIFF_BINARY_FUNCTOR(minus, a - b);
CINEDIFF_BINARY_FUNCTOR(multiplies, a* b);
CINEDIFF_BINARY_FUNCTOR(divides, a / b);
CINEDIFF_BINARY_FUNCTOR(equal, a == b);
CINEDIFF_BINARY_FUNCTOR(not_equal, a != b);
CINEDIFF_BINARY_FUNCTOR(less, a < b);
CINEDIFF_BINARY_FUNCTOR(less_equal, a <= b);
CINEDIFF_BINARY_FUNCTOR(greater, a > b);
CINEDIFF_BINARY_FUNCTOR(greater_equal, a >= b);
CINEDIFF_BINARY_FUNCTOR(logical_and, a&& b);
CINEDIFF_BINARY_FUNCTOR(logical_or, a || b);
// NaN-propagating like torch.maximum / torch.minimum.
CINEDIFF_BINARY_FUNCTOR(maximum, (a != a || b != b) ? a + b : (a > b ? a : b));
CINEDIFF_BINARY_FUNCTOR(minimum, (a != a || b != b) ? a + b : (a < b ? a : b));
CINEDIFF_BINARY_FUNCTOR(power, decltype(a)(math_pow(a, b)));
#undef CINEDIFF_BINARY_FUNCTOR

#define CINEDIFF_UNARY_FUNCTOR(name, expr)                                                                   \
    struct name {                                                                                            \
        template <class A>                                                                                   \
        CINEDIFF_HOST_DEVICE auto operator()(A a) const {                                                    \
            return expr;                                                                                     \
        }                                                                                                    \
    }
CINEDIFF_UNARY_FUNCTOR(negate, -a);
CINEDIFF_UNARY_FUNCTOR(logical_not, !a);
CINEDIFF_UNARY_FUNCTOR(abs, decltype(a)(math_abs(a)));
CINEDIFF_UNARY_FUNCTOR(exp, decltype(a)(fast_exp(a)));
CINEDIFF_UNARY_FUNCTOR(log, decltype(a)(math_log(a)));
CINEDIFF_UNARY_FUNCTOR(sqrt, decltype(a)(math_sqrt(a)));
CINEDIFF_UNARY_FUNCTOR(rsqrt, decltype(a)(decltype(a)(1) / math_sqrt(a)));
CINEDIFF_UNARY_FUNCTOR(tanh, decltype(a)(fast_tanh(a)));
CINEDIFF_UNARY_FUNCTOR(erf, decltype(a)(math_erf(a)));
CINEDIFF_UNARY_FUNCTOR(sin, decltype(a)(math_sin(a)));
CINEDIFF_UNARY_FUNCTOR(cos, decltype(a)(math_cos(a)));
CINEDIFF_UNARY_FUNCTOR(square, a* a);
CINEDIFF_UNARY_FUNCTOR(sigmoid, fast_sigmoid(a));
CINEDIFF_UNARY_FUNCTOR(isnan, a != a);
#undef CINEDIFF_UNARY_FUNCTOR

// Clamps to [lo, hi]; NaN stays NaN as in torch.clamp.
template <class T>
struct clamp {
    T lo, hi;
    template <class A>
    CINEDIFF_HOST_DEVICE A operator()(A a) const {
        return a < lo ? A(lo) : (a > hi ? A(hi) : a);
    }
};

// Converts element types; the 16-bit float storage types go through float.
template <class To>
struct cast {
    template <class A>
    CINEDIFF_HOST_DEVICE To operator()(A a) const {
        if constexpr (requires { static_cast<To>(a); }) {
            return static_cast<To>(a);
        } else {
            return To(static_cast<float>(a));
        }
    }
};

struct select {
    template <class C, class A, class B>
    CINEDIFF_HOST_DEVICE auto operator()(C c, A a, B b) const {
        return c ? a : b;
    }
};

} // namespace cinediff::op
