#pragma once

#include <cmath>

#include <cinediff/config.hpp>

// Element-wise operations as functors: written once, marked CINEDIFF_HOST_DEVICE, used by the
// host executor now and by nvcc-compiled kernels unchanged. Each is a trivially copyable empty
// struct (or holds its parameters by value) so kernels can be passed by value to a device.
namespace cinediff::op {

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
CINEDIFF_BINARY_FUNCTOR(power, decltype(a)(std::pow(a, b)));
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
CINEDIFF_UNARY_FUNCTOR(abs, decltype(a)(std::abs(a)));
CINEDIFF_UNARY_FUNCTOR(exp, decltype(a)(std::exp(a)));
CINEDIFF_UNARY_FUNCTOR(log, decltype(a)(std::log(a)));
CINEDIFF_UNARY_FUNCTOR(sqrt, decltype(a)(std::sqrt(a)));
CINEDIFF_UNARY_FUNCTOR(rsqrt, decltype(a)(decltype(a)(1) / std::sqrt(a)));
CINEDIFF_UNARY_FUNCTOR(tanh, decltype(a)(std::tanh(a)));
CINEDIFF_UNARY_FUNCTOR(erf, decltype(a)(std::erf(a)));
CINEDIFF_UNARY_FUNCTOR(sin, decltype(a)(std::sin(a)));
CINEDIFF_UNARY_FUNCTOR(cos, decltype(a)(std::cos(a)));
CINEDIFF_UNARY_FUNCTOR(square, a* a);
CINEDIFF_UNARY_FUNCTOR(sigmoid, decltype(a)(decltype(a)(1) / (decltype(a)(1) + std::exp(-a))));
CINEDIFF_UNARY_FUNCTOR(isnan, a != a);
#undef CINEDIFF_UNARY_FUNCTOR

// Clamps to [lo, hi]; NaN stays NaN as in torch.clamp.
template <class T>
struct clamp {
    T lo, hi;
    CINEDIFF_HOST_DEVICE T operator()(T a) const { return a < lo ? lo : (a > hi ? hi : a); }
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
