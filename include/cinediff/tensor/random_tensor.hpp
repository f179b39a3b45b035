#pragma once

// Tensor overloads of the random fills. Kept apart from random.hpp so that the generator and the
// element functions (which device code includes) do not pull in the Tensor core.
//
// A Tensor is contiguous and row-major, so element i of the fill is the element at flat index i:
// the values are the same as fill_*(t.span(), ...) and as the element functions of random.hpp.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <cinediff/tensor/random.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff {

namespace detail {

template <class T, std::size_t Rank>
std::span<T> random_fill_span(Tensor<T, Rank>& t) {
    return {t.data(), static_cast<std::size_t>(t.size())};
}

} // namespace detail

template <uniform_real T, std::size_t Rank>
Tensor<T, Rank>& fill_uniform(Tensor<T, Rank>& t, philox_generator& gen, std::type_identity_t<T> low = T(0),
                              std::type_identity_t<T> high = T(1)) {
    fill_uniform(detail::random_fill_span(t), gen, low, high);
    return t;
}

template <normal_real T, std::size_t Rank>
Tensor<T, Rank>& fill_normal(Tensor<T, Rank>& t, philox_generator& gen,
                             std::type_identity_t<compute_type_t<T>> mean = 0,
                             std::type_identity_t<compute_type_t<T>> stddev = 1) {
    fill_normal(detail::random_fill_span(t), gen, mean, stddev);
    return t;
}

template <class T, std::size_t Rank>
requires std::is_arithmetic_v<T> Tensor<T, Rank>
&fill_bernoulli(Tensor<T, Rank>& t, philox_generator& gen, double p = 0.5) {
    fill_bernoulli(detail::random_fill_span(t), gen, p);
    return t;
}

template <class T, std::size_t Rank>
requires std::is_arithmetic_v<T> Tensor<T, Rank>
&fill_randint(Tensor<T, Rank>& t, philox_generator& gen, std::int64_t low, std::int64_t high) {
    fill_randint(detail::random_fill_span(t), gen, low, high);
    return t;
}

} // namespace cinediff
