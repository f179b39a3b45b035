#pragma once

#include <cmath>
#include <numbers>
#include <type_traits>

#include <cinediff/config.hpp>

// Dual numbers v + d·ε (ε² = 0): evaluating an element-wise expression on them gives its value
// and its derivative with respect to whichever inputs carry d = 1. The element-wise functors of
// tensor/functors.hpp work on them unchanged (they find these overloads by argument-dependent
// lookup), which is how fused expressions get their fused backward (autograd/expression.hpp).
namespace cinediff::autograd {

template <class T>
struct dual {
    T v{};
    T d{};

    constexpr dual() = default;
    CINEDIFF_HOST_DEVICE constexpr dual(T value, T derivative) : v(value), d(derivative) {}
    template <class U>
    requires std::is_arithmetic_v<U>
        CINEDIFF_HOST_DEVICE constexpr dual(U value) // NOLINT(google-explicit-constructor): constants
        : v(static_cast<T>(value)), d(0) {}

    CINEDIFF_HOST_DEVICE friend constexpr dual operator+(dual a, dual b) { return {a.v + b.v, a.d + b.d}; }
    CINEDIFF_HOST_DEVICE friend constexpr dual operator-(dual a, dual b) { return {a.v - b.v, a.d - b.d}; }
    CINEDIFF_HOST_DEVICE friend constexpr dual operator*(dual a, dual b) {
        return {a.v * b.v, a.d * b.v + a.v * b.d};
    }
    CINEDIFF_HOST_DEVICE friend constexpr dual operator/(dual a, dual b) {
        return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)};
    }
    CINEDIFF_HOST_DEVICE friend constexpr dual operator-(dual a) { return {-a.v, -a.d}; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator==(dual a, dual b) { return a.v == b.v; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator!=(dual a, dual b) { return a.v != b.v; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator<(dual a, dual b) { return a.v < b.v; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator<=(dual a, dual b) { return a.v <= b.v; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator>(dual a, dual b) { return a.v > b.v; }
    CINEDIFF_HOST_DEVICE friend constexpr bool operator>=(dual a, dual b) { return a.v >= b.v; }

    CINEDIFF_HOST_DEVICE friend dual exp(dual a) {
        const T e = std::exp(a.v);
        return {e, a.d * e};
    }
    CINEDIFF_HOST_DEVICE friend dual log(dual a) { return {std::log(a.v), a.d / a.v}; }
    CINEDIFF_HOST_DEVICE friend dual sqrt(dual a) {
        const T s = std::sqrt(a.v);
        return {s, a.d / (T(2) * s)};
    }
    CINEDIFF_HOST_DEVICE friend dual tanh(dual a) {
        const T t = std::tanh(a.v);
        return {t, a.d * (T(1) - t * t)};
    }
    // The logistic function, stable on both tails, with derivative s(1 - s) (see op::math_sigmoid).
    CINEDIFF_HOST_DEVICE friend dual math_sigmoid(dual a) {
        const T e = std::exp(-std::abs(a.v));
        const T s = a.v >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
        return {s, a.d * s * (T(1) - s)};
    }
    CINEDIFF_HOST_DEVICE friend dual erf(dual a) {
        return {std::erf(a.v), a.d * T(2) / std::sqrt(std::numbers::pi_v<T>) * std::exp(-a.v * a.v)};
    }
    CINEDIFF_HOST_DEVICE friend dual sin(dual a) { return {std::sin(a.v), a.d * std::cos(a.v)}; }
    CINEDIFF_HOST_DEVICE friend dual cos(dual a) { return {std::cos(a.v), -a.d * std::sin(a.v)}; }
    // d|x|/dx = sign(x), 0 at 0 (PyTorch's choice).
    CINEDIFF_HOST_DEVICE friend dual abs(dual a) {
        return {std::abs(a.v), a.v > T(0) ? a.d : (a.v < T(0) ? -a.d : T(0))};
    }
    // d(a^b) = b a^(b-1) da + a^b log(a) db; the second term only where b varies.
    CINEDIFF_HOST_DEVICE friend dual pow(dual a, dual b) {
        const T p = std::pow(a.v, b.v);
        T deriv = a.d == T(0) ? T(0) : a.d * b.v * std::pow(a.v, b.v - T(1));
        if (b.d != T(0)) {
            deriv += b.d * p * std::log(a.v);
        }
        return {p, deriv};
    }
};

} // namespace cinediff::autograd
