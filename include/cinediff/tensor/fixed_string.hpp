#pragma once

#include <cstddef>
#include <string_view>

// A string usable as a template argument (a structural class type), so that text such as an
// einops pattern is known to the compiler: `rearrange<"b c h w -> b h w c">(x)`.
namespace cinediff {

template <std::size_t N>
struct fixed_string {
    char data[N]{}; // public, as a structural type needs; data[N - 1] is the terminating '\0'

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&s)[N]) { // NOLINT(google-explicit-constructor): "text" is the API
        for (std::size_t i = 0; i < N; ++i) {
            data[i] = s[i];
        }
    }

    static constexpr std::size_t size() { return N - 1; }
    constexpr std::string_view view() const { return {data, N - 1}; }
    constexpr const char* c_str() const { return data; }

    friend constexpr bool operator==(const fixed_string&, const fixed_string&) = default;
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N>;

} // namespace cinediff
