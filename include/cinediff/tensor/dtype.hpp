#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include <cinediff/config.hpp>

namespace cinediff {

// bfloat16: the upper 16 bits of an IEEE float32. Storage only: arithmetic converts to float.
// Conversion rounds to nearest even and keeps NaN a NaN, matching PyTorch's c10::BFloat16.
struct bfloat16 {
    std::uint16_t bits = 0;

    constexpr bfloat16() = default;
    CINEDIFF_HOST_DEVICE explicit bfloat16(float f) : bits(from_float(f)) {}
    CINEDIFF_HOST_DEVICE operator float() const {
        const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
        float f;
        std::memcpy(&f, &u, sizeof f);
        return f;
    }
    static constexpr bfloat16 from_bits(std::uint16_t b) {
        bfloat16 r;
        r.bits = b;
        return r;
    }
    CINEDIFF_HOST_DEVICE static std::uint16_t from_float(float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, sizeof u);
        if ((u & 0x7fffffffu) > 0x7f800000u) {
            return static_cast<std::uint16_t>((u >> 16) | 0x0040u); // quiet NaN
        }
        const std::uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
        return static_cast<std::uint16_t>((u + rounding_bias) >> 16);
    }
};

// IEEE 754 binary16. Storage only: arithmetic converts to float. Round to nearest even,
// subnormals, infinities and NaN handled as NumPy's float16 does.
struct float16 {
    std::uint16_t bits = 0;

    constexpr float16() = default;
    CINEDIFF_HOST_DEVICE explicit float16(float f) : bits(from_float(f)) {}
    CINEDIFF_HOST_DEVICE operator float() const { return to_float(bits); }
    static constexpr float16 from_bits(std::uint16_t b) {
        float16 r;
        r.bits = b;
        return r;
    }

    CINEDIFF_HOST_DEVICE static float to_float(std::uint16_t h) {
        const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
        std::uint32_t exponent = (h >> 10) & 0x1fu;
        std::uint32_t mantissa = h & 0x3ffu;
        std::uint32_t u;
        if (exponent == 0x1fu) {
            u = sign | 0x7f800000u | (mantissa << 13);
        } else if (exponent != 0) {
            u = sign | ((exponent + 112u) << 23) | (mantissa << 13);
        } else if (mantissa == 0) {
            u = sign;
        } else { // subnormal: renormalise
            exponent = 113u;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                --exponent;
            }
            mantissa &= 0x3ffu;
            u = sign | (exponent << 23) | (mantissa << 13);
        }
        float f;
        std::memcpy(&f, &u, sizeof f);
        return f;
    }

    CINEDIFF_HOST_DEVICE static std::uint16_t from_float(float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, sizeof u);
        const std::uint32_t sign = (u >> 16) & 0x8000u;
        const std::uint32_t abs = u & 0x7fffffffu;
        if (abs > 0x7f800000u) {
            return static_cast<std::uint16_t>(sign | 0x7e00u); // NaN
        }
        if (abs >= 0x477ff000u) { // rounds to >= 65520: infinity
            return static_cast<std::uint16_t>(sign | 0x7c00u);
        }
        if (abs < 0x38800000u) { // below the smallest normal half: subnormal or zero
            if (abs < 0x33000000u) {
                return static_cast<std::uint16_t>(sign); // below half the smallest subnormal
            }
            const std::uint32_t exponent = abs >> 23;
            const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
            const std::uint32_t shift = 126u - exponent; // 14..24
            std::uint32_t half = mantissa >> shift;
            const std::uint32_t remainder = mantissa & ((1u << shift) - 1u);
            const std::uint32_t halfway = 1u << (shift - 1u);
            if (remainder > halfway || (remainder == halfway && (half & 1u))) {
                ++half;
            }
            return static_cast<std::uint16_t>(sign | half);
        }
        std::uint32_t half = ((abs >> 13) - (112u << 10));
        const std::uint32_t remainder = abs & 0x1fffu;
        if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) {
            ++half;
        }
        return static_cast<std::uint16_t>(sign | half);
    }
};

// The element types cinediff stores. f32 and f64 are computed in; f16/bf16 are storage types
// converted to float for arithmetic; integers and bool hold labels, indices and masks.
enum class dtype : std::uint8_t { f16, bf16, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, b1 };

constexpr std::size_t dtype_size(dtype t) {
    switch (t) {
    case dtype::i8:
    case dtype::u8:
    case dtype::b1:
        return 1;
    case dtype::f16:
    case dtype::bf16:
    case dtype::i16:
    case dtype::u16:
        return 2;
    case dtype::f32:
    case dtype::i32:
    case dtype::u32:
        return 4;
    case dtype::f64:
    case dtype::i64:
    case dtype::u64:
        return 8;
    }
    return 0;
}

// Names as PyTorch's safetensors writer spells them (F32, BF16, I64, BOOL, ...).
constexpr std::string_view dtype_name(dtype t) {
    switch (t) {
    case dtype::f16:
        return "F16";
    case dtype::bf16:
        return "BF16";
    case dtype::f32:
        return "F32";
    case dtype::f64:
        return "F64";
    case dtype::i8:
        return "I8";
    case dtype::i16:
        return "I16";
    case dtype::i32:
        return "I32";
    case dtype::i64:
        return "I64";
    case dtype::u8:
        return "U8";
    case dtype::u16:
        return "U16";
    case dtype::u32:
        return "U32";
    case dtype::u64:
        return "U64";
    case dtype::b1:
        return "BOOL";
    }
    return "?";
}

template <class T>
struct dtype_of;
template <>
struct dtype_of<float16> : std::integral_constant<dtype, dtype::f16> {};
template <>
struct dtype_of<bfloat16> : std::integral_constant<dtype, dtype::bf16> {};
template <>
struct dtype_of<float> : std::integral_constant<dtype, dtype::f32> {};
template <>
struct dtype_of<double> : std::integral_constant<dtype, dtype::f64> {};
template <>
struct dtype_of<std::int8_t> : std::integral_constant<dtype, dtype::i8> {};
template <>
struct dtype_of<std::int16_t> : std::integral_constant<dtype, dtype::i16> {};
template <>
struct dtype_of<std::int32_t> : std::integral_constant<dtype, dtype::i32> {};
template <>
struct dtype_of<std::int64_t> : std::integral_constant<dtype, dtype::i64> {};
template <>
struct dtype_of<std::uint8_t> : std::integral_constant<dtype, dtype::u8> {};
template <>
struct dtype_of<std::uint16_t> : std::integral_constant<dtype, dtype::u16> {};
template <>
struct dtype_of<std::uint32_t> : std::integral_constant<dtype, dtype::u32> {};
template <>
struct dtype_of<std::uint64_t> : std::integral_constant<dtype, dtype::u64> {};
template <>
struct dtype_of<bool> : std::integral_constant<dtype, dtype::b1> {};

template <class T>
inline constexpr dtype dtype_of_v = dtype_of<T>::value;

template <class T>
concept storage_type = requires {
    dtype_of<T>::value;
};

// The type arithmetic on T is done in: float for the 16-bit storage types, T otherwise.
template <class T>
using compute_type_t =
    std::conditional_t<std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>, float, T>;

} // namespace cinediff
