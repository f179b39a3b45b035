#pragma once

#include <cinediff/tensor/expression.hpp>

// Operators and element-wise functions that build expression trees. A plain number mixed with a
// tensor takes the tensor's compute type (float for float, bfloat16 and float16 tensors), as a
// Python scalar does in PyTorch; two tensor operands must have the same element type (use
// cast<U>() to convert explicitly).
namespace cinediff {

namespace detail {

template <class E, class S>
auto scalar_node_for(S s) {
    return scalar<compute_type_t<value_type_of<E>>>(static_cast<compute_type_t<value_type_of<E>>>(s));
}

template <class F, class A, class B>
auto make_binary(F f, const A& a, const B& b) {
    if constexpr (expression<A> && expression<B>) {
        static_assert(
            std::is_same_v<compute_type_t<value_type_of<A>>, compute_type_t<value_type_of<B>>>,
            "cinediff: both tensor operands must have the same element type; convert one with cast<U>()");
        return map<F, node_t<A>, node_t<B>>(f, as_node(a), as_node(b));
    } else if constexpr (expression<A>) {
        return map<F, node_t<A>, decltype(scalar_node_for<A>(b))>(f, as_node(a), scalar_node_for<A>(b));
    } else {
        return map<F, decltype(scalar_node_for<B>(a)), node_t<B>>(f, scalar_node_for<B>(a), as_node(b));
    }
}

template <class F, class A>
auto make_unary(F f, const A& a) {
    return map<F, node_t<A>>(f, as_node(a));
}

} // namespace detail

template <class A, class B>
concept binary_operands = (expression<A> && expression<B>) || (expression<A> && arithmetic_scalar<B>) ||
                          (arithmetic_scalar<A> && expression<B>);

#define CINEDIFF_DEFINE_BINARY(name, functor)                                                                \
    template <class A, class B>                                                                              \
    requires binary_operands<A, B>                                                                           \
    auto name(const A& a, const B& b) {                                                                      \
        return detail::make_binary(op::functor{}, a, b);                                                     \
    }
CINEDIFF_DEFINE_BINARY(operator+, plus)
CINEDIFF_DEFINE_BINARY(operator-, minus)
CINEDIFF_DEFINE_BINARY(operator*, multiplies)
CINEDIFF_DEFINE_BINARY(operator/, divides)
CINEDIFF_DEFINE_BINARY(operator==, equal)
CINEDIFF_DEFINE_BINARY(operator!=, not_equal)
CINEDIFF_DEFINE_BINARY(operator<, less)
CINEDIFF_DEFINE_BINARY(operator<=, less_equal)
CINEDIFF_DEFINE_BINARY(operator>, greater)
CINEDIFF_DEFINE_BINARY(operator>=, greater_equal)
CINEDIFF_DEFINE_BINARY(operator&&, logical_and)
CINEDIFF_DEFINE_BINARY(operator||, logical_or)
CINEDIFF_DEFINE_BINARY(maximum, maximum)
CINEDIFF_DEFINE_BINARY(minimum, minimum)
CINEDIFF_DEFINE_BINARY(pow, power)
#undef CINEDIFF_DEFINE_BINARY

#define CINEDIFF_DEFINE_UNARY(name, functor)                                                                 \
    template <expression A>                                                                                  \
    auto name(const A& a) {                                                                                  \
        return detail::make_unary(op::functor{}, a);                                                         \
    }
CINEDIFF_DEFINE_UNARY(operator-, negate)
CINEDIFF_DEFINE_UNARY(operator!, logical_not)
CINEDIFF_DEFINE_UNARY(abs, abs)
CINEDIFF_DEFINE_UNARY(exp, exp)
CINEDIFF_DEFINE_UNARY(log, log)
CINEDIFF_DEFINE_UNARY(sqrt, sqrt)
CINEDIFF_DEFINE_UNARY(rsqrt, rsqrt)
CINEDIFF_DEFINE_UNARY(tanh, tanh)
CINEDIFF_DEFINE_UNARY(erf, erf)
CINEDIFF_DEFINE_UNARY(sin, sin)
CINEDIFF_DEFINE_UNARY(cos, cos)
CINEDIFF_DEFINE_UNARY(square, square)
CINEDIFF_DEFINE_UNARY(sigmoid, sigmoid)
CINEDIFF_DEFINE_UNARY(isnan, isnan)
#undef CINEDIFF_DEFINE_UNARY

// Limits every element to [lo, hi].
template <expression A>
auto clamp(const A& a, double lo, double hi) {
    using C = compute_type_t<value_type_of<A>>;
    return detail::make_unary(op::clamp<C>{static_cast<C>(lo), static_cast<C>(hi)}, a);
}

// Element type conversion, e.g. cast<float>(bf16_tensor) or cast<bfloat16>(x) for storage.
template <class To, expression A>
auto cast(const A& a) {
    return detail::make_unary(op::cast<To>{}, a);
}

// where(condition, a, b): a where condition holds, else b; all three broadcast together.
template <expression C, class A, class B>
requires binary_operands<A, B>
auto where(const C& condition, const A& a, const B& b) {
    auto node = [&](const auto& x) {
        if constexpr (expression<decltype(x)>) {
            return as_node(x);
        } else if constexpr (expression<A>) {
            return detail::scalar_node_for<A>(x);
        } else {
            return detail::scalar_node_for<B>(x);
        }
    };
    using NA = decltype(node(a));
    using NB = decltype(node(b));
    static_assert(
        std::is_same_v<compute_type_t<typename NA::value_type>, compute_type_t<typename NB::value_type>>,
        "cinediff: where() needs both branches of the same element type");
    return map<op::select, node_t<C>, NA, NB>(op::select{}, as_node(condition), node(a), node(b));
}

} // namespace cinediff
