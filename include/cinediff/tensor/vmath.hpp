#pragma once

#include <bit>
#include <cstdint>

#include <cinediff/config.hpp>

// Branch-free exp, sigmoid and tanh for float and double that compilers vectorise.
//
// Why: glibc declares its vector math (libmvec) only under -ffast-math, so a `std::exp` in an
// `omp simd` loop is one scalar library call per element and keeps the whole fused expression
// scalar. These functions use only +, -, *, /, comparisons, selects and integer bit operations on
// the same lane width, which GCC and Clang vectorise from SSE2 up (no floor/nearbyint: GCC 12
// does not vectorise them without -fno-trapping-math).
//
// Algorithm (Cephes / Eigen style): exp(x) = 2^k exp(r), k = round(x / ln2), r = x - k ln2 with
// ln2 split in two constants so k * C1 is exact; exp(r) on |r| <= ln2/2 by Cephes' degree-7
// polynomial (float) or Cephes' Padé form 1 + 2r P(r²) / (Q(r²) - r P(r²)) (double). k is rounded
// with the 1.5·2^(mantissa bits) trick, and its integer value is read from the same sum's bits, so
// there is no float-to-int conversion (no UB for NaN). 2^k is applied as 2^k1 · 2^k2 with
// k1 + k2 = k, so both factors are normal numbers over the whole range: results that overflow are
// +inf and results in the subnormal range are rounded once, as std::exp does.
//
// Special values are those of std::exp: exp(NaN) = NaN, exp(+inf) = +inf, exp(-inf) = 0,
// exp(x) = inf above ln(max), 0 or a subnormal below ln(min normal).
//
// Accuracy, max error in ulp against a higher-precision reference (docs/numerics.md; float over
// every 3rd float, double over 1.3e8 points; tests/unit/tensor/vmath_test.cpp checks the bounds):
//   exp      float 0.98   double 1.77
//   sigmoid  float 2.40   double 2.59
//   tanh     float 1.33   double 1.42
// (subnormal results: within 1 ulp of the subnormal grid).
//
// Host only: device code keeps CUDA's own expf/exp (see op::exp in functors.hpp).
namespace cinediff::vmath {

namespace detail {

template <class F>
struct bits_of;
template <>
struct bits_of<float> {
    using type = std::uint32_t;
    static constexpr int mantissa = 23;
    static constexpr std::uint32_t bias = 127;
    static constexpr float round_magic = 12582912.0f; // 1.5 * 2^23
};
template <>
struct bits_of<double> {
    using type = std::uint64_t;
    static constexpr int mantissa = 52;
    static constexpr std::uint64_t bias = 1023;
    static constexpr double round_magic = 6755399441055744.0; // 1.5 * 2^52
};

// 2^k for an integer-valued k given both as a float (k) and as the bits of k + round_magic.
// Returns the two factors 2^k1, 2^k2 with k1 = round(k / 2), k2 = k - k1.
template <class F>
CINEDIFF_FORCEINLINE void exp2_split(F k, typename bits_of<F>::type k_int, F& s1, F& s2) {
    using B = bits_of<F>;
    using U = typename B::type;
    constexpr U magic_bits = std::bit_cast<U>(B::round_magic);
    const U k1 = std::bit_cast<U>(k * F(0.5) + B::round_magic) - magic_bits;
    const U k2 = k_int - k1;
    s1 = std::bit_cast<F>(static_cast<U>((k1 + B::bias) << B::mantissa));
    s2 = std::bit_cast<F>(static_cast<U>((k2 + B::bias) << B::mantissa));
}

} // namespace detail

CINEDIFF_FORCEINLINE float exp(float x) {
    using B = detail::bits_of<float>;
    // Beyond these exp(x) is inf or rounds to 0; NaN passes both comparisons unchanged.
    x = x > 89.0f ? 89.0f : x;
    x = x < -104.0f ? -104.0f : x;
    const float t = x * 1.44269504088896341f + B::round_magic;
    const float k = t - B::round_magic;
    const std::uint32_t k_int =
        std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(B::round_magic);
    float r = x - k * 0.693359375f; // exact: 0.693359375 has 9 significant bits, |k| <= 150
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * (r * r) + r + 1.0f;
    float s1, s2;
    detail::exp2_split(k, k_int, s1, s2);
    return e * s1 * s2;
}

CINEDIFF_FORCEINLINE double exp(double x) {
    using B = detail::bits_of<double>;
    x = x > 710.0 ? 710.0 : x;
    x = x < -746.0 ? -746.0 : x;
    const double t = x * 1.4426950408889634073599 + B::round_magic;
    const double k = t - B::round_magic;
    const std::uint64_t k_int =
        std::bit_cast<std::uint64_t>(t) - std::bit_cast<std::uint64_t>(B::round_magic);
    double r = x - k * 6.93145751953125e-1; // exact: 16 significant bits, |k| <= 1077
    r = r - k * 1.42860682030941723212e-6;
    const double rr = r * r;
    const double px =
        r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1);
    const double qx =
        ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr +
        2.00000000000000000009e0;
    const double e = 1.0 + 2.0 * (px / (qx - px));
    double s1, s2;
    detail::exp2_split(k, k_int, s1, s2);
    return e * s1 * s2;
}

// 1 / (1 + exp(-|x|)) for x >= 0 and e / (1 + e), e = exp(-|x|), for x < 0: exp never overflows,
// so the tail below ln(min normal) gives subnormals as the exact sigmoid does (not 0).
template <class F>
CINEDIFF_FORCEINLINE F sigmoid(F x) {
    const F e = vmath::exp(x < F(0) ? x : -x);
    return (x < F(0) ? e : F(1)) / (F(1) + e);
}

namespace detail {

// |x| and the sign bit of x.
template <class F>
CINEDIFF_FORCEINLINE F split_sign(F x, typename bits_of<F>::type& sign) {
    using U = typename bits_of<F>::type;
    constexpr U sign_bit = U(1) << (sizeof(U) * 8 - 1);
    const U b = std::bit_cast<U>(x);
    sign = b & sign_bit;
    return std::bit_cast<F>(static_cast<U>(b & ~sign_bit));
}

template <class F>
CINEDIFF_FORCEINLINE F with_sign(F magnitude, typename bits_of<F>::type sign) {
    using U = typename bits_of<F>::type;
    return std::bit_cast<F>(static_cast<U>(std::bit_cast<U>(magnitude) | sign));
}

} // namespace detail

// tanh(z) for z = |x|: an odd polynomial (float) or rational function (double) below 0.625, where
// 1 - 2 / (exp(2z) + 1) would cancel; the sign of x is put back by a bit operation, so tanh(-0)
// is -0 and NaN stays NaN.
CINEDIFF_FORCEINLINE float tanh(float x) {
    std::uint32_t sign;
    const float z = detail::split_sign(x, sign);
    const float s = z * z;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    const float small = z + z * (s * p);
    const float large = 1.0f - 2.0f / (vmath::exp(z + z) + 1.0f);
    return detail::with_sign(z < 0.625f ? small : large, sign);
}

CINEDIFF_FORCEINLINE double tanh(double x) {
    std::uint64_t sign;
    const double z = detail::split_sign(x, sign);
    const double s = z * z;
    const double p =
        (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3;
    const double q =
        ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3;
    const double small = z + z * (s * (p / q));
    const double large = 1.0 - 2.0 / (vmath::exp(z + z) + 1.0);
    return detail::with_sign(z < 0.625 ? small : large, sign);
}

} // namespace cinediff::vmath
