#pragma once

#include <algorithm>
#include <vector>

#include <cinediff/autograd/dual.hpp>
#include <cinediff/autograd/variable.hpp>

// Differentiable fused expressions.
//
//     Variable<float, 4> y = a * sigmoid(b) + 1.0f;   // a, b: Variables; one fused forward loop
//
// Operators on Variables build the same lazy expression trees as on Tensors, plus the list of
// Variables they read. Turning the expression into a Variable runs one fused forward loop and
// records one graph node. Its backward derives itself from the forward: for each input Variable
// it evaluates the same kernel tree on dual numbers (that input's leaves carry derivative 1), so
// grad_input = sum_to_shape(grad_output * ∂y/∂input) is one more fused loop — no intermediate
// activations are saved, the forward is recomputed in registers instead.
namespace cinediff::autograd {

namespace detail {

template <class T>
struct dual_strided_row {
    const T* p;
    index_t stride;
    T active;
    CINEDIFF_HOST_DEVICE dual<T> operator[](index_t i) const { return {p[i * stride], active}; }
};

template <class T>
struct dual_constant_row {
    T v;
    CINEDIFF_HOST_DEVICE dual<T> operator[](index_t) const { return {v, T(0)}; }
};

template <class T, std::size_t R>
struct dual_leaf_kernel {
    cinediff::detail::leaf_kernel<T, R> k;
    T active;
    CINEDIFF_HOST_DEVICE dual_strided_row<T> row(const index_t* outer) const {
        const auto r = k.row(outer);
        return {r.p, r.stride, active};
    }
    CINEDIFF_HOST_DEVICE dual_strided_row<T> flat() const { return {k.data, 1, active}; }

    // Host-only tile protocol (tensor/expression.hpp): the leaf's contiguous tile, as flat() reads.
    static constexpr std::size_t tile_bytes = sizeof(T);
    dual_strided_row<T> tile(const cinediff::detail::tile_args& a, std::byte* scratch) const {
        return {k.tile(a, scratch).p, 1, active};
    }
    template <class Fn>
    void visit_strides(Fn&& fn) const {
        k.visit_strides(fn);
    }
};

template <class T>
struct dual_scalar_kernel {
    T v;
    CINEDIFF_HOST_DEVICE dual_constant_row<T> row(const index_t*) const { return {v}; }
    CINEDIFF_HOST_DEVICE dual_constant_row<T> flat() const { return {v}; }

    static constexpr std::size_t tile_bytes = 0;
    dual_constant_row<T> tile(const cinediff::detail::tile_args&, std::byte*) const { return {v}; }
    template <class Fn>
    void visit_strides(Fn&&) const {}
};

// The kernel tree of `node` on dual numbers: leaves viewing `active` storage carry derivative 1.
template <class T, std::size_t Rank, std::size_t R>
auto dual_kernel(const leaf<T, Rank>& n, const shape_t<R>& out, const void* active) {
    using V = std::remove_const_t<T>;
    if constexpr (std::is_floating_point_v<V>) {
        return dual_leaf_kernel<V, R>{n.kernel(out), n.view().owner().get() == active ? V(1) : V(0)};
    } else {
        return n.kernel(out); // masks and indices are constants
    }
}
template <class T, std::size_t R>
auto dual_kernel(const scalar<T>& n, const shape_t<R>& out, const void*) {
    if constexpr (std::is_floating_point_v<T>) {
        return dual_scalar_kernel<T>{n.kernel(out).v};
    } else {
        return n.kernel(out);
    }
}
template <class F, class... C, std::size_t R>
auto dual_kernel(const map<F, C...>& n, const shape_t<R>& out, const void* active) {
    return std::apply(
        [&](const auto&... c) {
            return cinediff::detail::map_kernel<F, decltype(dual_kernel(c, out, active))...>{
                n.functor(), {dual_kernel(c, out, active)...}};
        },
        n.children());
}

struct take_derivative {
    template <class D>
    CINEDIFF_HOST_DEVICE auto operator()(D x) const {
        return x.d;
    }
};

} // namespace detail

// ∂node/∂(the variable whose storage is `active`), element-wise, as a tensor expression node.
template <class Node>
class derivative_node {
  public:
    using value_type = typename Node::value_type;
    static constexpr std::size_t rank = Node::rank;

    derivative_node(Node n, const void* active) : m_node(std::move(n)), m_active(active) {}
    const shape_t<rank>& shape() const { return m_node.shape(); }
    template <std::size_t R>
    auto kernel(const shape_t<R>& out) const {
        using K = decltype(detail::dual_kernel(m_node, out, m_active));
        return cinediff::detail::map_kernel<detail::take_derivative, K>{
            {}, {detail::dual_kernel(m_node, out, m_active)}};
    }
    template <std::size_t R>
    bool flat_ok(const shape_t<R>& out) const {
        return m_node.flat_ok(out);
    }
    template <class Fn>
    void for_each_leaf(Fn&& fn) const {
        m_node.for_each_leaf(fn);
    }

  private:
    Node m_node;
    const void* m_active;
};

} // namespace cinediff::autograd

namespace cinediff {
template <class Node>
struct is_expression_node<autograd::derivative_node<Node>> : std::true_type {};
} // namespace cinediff

namespace cinediff::autograd {

// A lazy expression over Variables (and constant tensors and numbers).
template <class Node, class... Vars>
class var_expr {
  public:
    using node_type = Node;
    using value_type = typename Node::value_type;
    static constexpr std::size_t rank = Node::rank;

    var_expr(Node n, std::tuple<Vars...> vars) : m_node(std::move(n)), m_vars(std::move(vars)) {}
    const Node& node() const { return m_node; }
    const std::tuple<Vars...>& vars() const { return m_vars; }
    const shape_t<rank>& shape() const { return m_node.shape(); }

    // One fused forward loop; records one node whose backward is derived by dual numbers.
    Variable<value_type, rank> as_variable() const {
        static_assert(std::is_floating_point_v<value_type>,
                      "cinediff: differentiable expressions compute in float or double");
        Tensor<value_type, rank> value(m_node);
        return std::apply(
            [&](const auto&... vars) {
                return record(
                    "fused_elementwise", std::move(value),
                    [node = m_node, vars...](const auto&, const auto& gy) {
                        // A Variable read by several leaves is differentiated once: all its leaves
                        // carry derivative 1 in the same dual pass.
                        std::vector<const void*> done;
                        (propagate(node, vars, gy, done), ...);
                    },
                    vars...);
            },
            m_vars);
    }

  private:
    template <class V, class G>
    static void propagate(const Node& node, const V& var, const G& gy, std::vector<const void*>& done) {
        const void* storage = var.value().view().owner().get();
        if (!var.requires_grad() || std::find(done.begin(), done.end(), storage) != done.end()) {
            return;
        }
        done.push_back(storage);
        const auto d = derivative_node<Node>(node, storage);
        if constexpr (V::rank == rank) {
            if (var.shape() == gy.shape()) {
                var.accumulate_grad(gy * d); // fused: grad += gy * dy/dvar
                return;
            }
        }
        const Tensor<value_type, rank> full = gy * d;
        var.accumulate_grad(sum_to_shape(full, var.shape()));
    }

    Node m_node;
    std::tuple<Vars...> m_vars;
};

template <class T>
struct is_var_expr : std::false_type {};
template <class N, class... V>
struct is_var_expr<var_expr<N, V...>> : std::true_type {};
template <class T>
struct is_variable : std::false_type {};
template <class T, std::size_t R>
struct is_variable<Variable<T, R>> : std::true_type {};

// Operands that make an expression differentiable.
template <class E>
concept differentiable =
    is_variable<std::remove_cvref_t<E>>::value || is_var_expr<std::remove_cvref_t<E>>::value;

template <class T, std::size_t R>
auto as_var_expr(const Variable<T, R>& v) {
    return var_expr<leaf<T, R>, Variable<T, R>>(leaf<T, R>(TensorView<const T, R>(v.value().view())),
                                                std::tuple<Variable<T, R>>(v));
}
template <class N, class... V>
const var_expr<N, V...>& as_var_expr(const var_expr<N, V...>& e) {
    return e;
}
// Constant tensors and tensor expressions: no variables.
template <class E>
requires expression<E>
auto as_var_expr(const E& e) {
    return var_expr<node_t<E>>(as_node(e), {});
}

template <class E>
using var_node_t = typename std::remove_cvref_t<decltype(as_var_expr(std::declval<const E&>()))>::node_type;

namespace detail {

template <class F, class... Es>
auto combine(F f, const Es&... es) {
    auto vars = std::tuple_cat(as_var_expr(es).vars()...);
    return std::apply(
        [&](auto... v) {
            return var_expr<map<F, var_node_t<Es>...>, decltype(v)...>(
                map<F, var_node_t<Es>...>(f, as_var_expr(es).node()...), std::tuple<decltype(v)...>(v...));
        },
        vars);
}

template <class E, class S>
auto constant_for(S s) {
    using T = typename std::remove_cvref_t<decltype(as_var_expr(std::declval<const E&>()))>::value_type;
    return scalar<T>(static_cast<T>(s));
}

template <class F, class A, class B>
auto combine_binary(F f, const A& a, const B& b) {
    if constexpr (arithmetic_scalar<B>) {
        return combine(f, a, constant_for<A>(b));
    } else if constexpr (arithmetic_scalar<A>) {
        return combine(f, constant_for<B>(a), b);
    } else {
        return combine(f, a, b);
    }
}

} // namespace detail

template <class A, class B>
concept differentiable_operands = (differentiable<A> &&
                                   (differentiable<B> || expression<B> || arithmetic_scalar<B>)) ||
                                  (differentiable<B> && (expression<A> || arithmetic_scalar<A>));

#define CINEDIFF_DIFFERENTIABLE_BINARY(name, functor)                                                        \
    template <class A, class B>                                                                              \
    requires differentiable_operands<A, B>                                                                   \
    auto name(const A& a, const B& b) {                                                                      \
        return detail::combine_binary(op::functor{}, a, b);                                                  \
    }
CINEDIFF_DIFFERENTIABLE_BINARY(operator+, plus)
CINEDIFF_DIFFERENTIABLE_BINARY(operator-, minus)
CINEDIFF_DIFFERENTIABLE_BINARY(operator*, multiplies)
CINEDIFF_DIFFERENTIABLE_BINARY(operator/, divides)
CINEDIFF_DIFFERENTIABLE_BINARY(maximum, maximum)
CINEDIFF_DIFFERENTIABLE_BINARY(minimum, minimum)
CINEDIFF_DIFFERENTIABLE_BINARY(pow, power)
#undef CINEDIFF_DIFFERENTIABLE_BINARY

#define CINEDIFF_DIFFERENTIABLE_UNARY(name, functor)                                                         \
    template <differentiable A>                                                                              \
    auto name(const A& a) {                                                                                  \
        return detail::combine(op::functor{}, a);                                                            \
    }
CINEDIFF_DIFFERENTIABLE_UNARY(operator-, negate)
CINEDIFF_DIFFERENTIABLE_UNARY(abs, abs)
CINEDIFF_DIFFERENTIABLE_UNARY(exp, exp)
CINEDIFF_DIFFERENTIABLE_UNARY(log, log)
CINEDIFF_DIFFERENTIABLE_UNARY(sqrt, sqrt)
CINEDIFF_DIFFERENTIABLE_UNARY(rsqrt, rsqrt)
CINEDIFF_DIFFERENTIABLE_UNARY(tanh, tanh)
CINEDIFF_DIFFERENTIABLE_UNARY(erf, erf)
CINEDIFF_DIFFERENTIABLE_UNARY(sin, sin)
CINEDIFF_DIFFERENTIABLE_UNARY(cos, cos)
CINEDIFF_DIFFERENTIABLE_UNARY(square, square)
CINEDIFF_DIFFERENTIABLE_UNARY(sigmoid, sigmoid)
#undef CINEDIFF_DIFFERENTIABLE_UNARY

template <differentiable A>
auto clamp(const A& a, double lo, double hi) {
    using T = typename std::remove_cvref_t<decltype(as_var_expr(a))>::value_type;
    return detail::combine(op::clamp<T>{static_cast<T>(lo), static_cast<T>(hi)}, a);
}

// where(condition, a, b) with a constant condition (a bool tensor expression); the gradient flows
// to a where the condition holds and to b elsewhere.
template <expression C, class A, class B>
requires differentiable_operands<A, B>
auto where(const C& condition, const A& a, const B& b) {
    auto operand = [](const auto& x, const auto& other) {
        if constexpr (arithmetic_scalar<decltype(x)>) {
            return as_var_expr(detail::constant_for<std::remove_cvref_t<decltype(other)>>(x));
        } else {
            return as_var_expr(x);
        }
    };
    return detail::combine(op::select{}, as_var_expr(condition), operand(a, b), operand(b, a));
}

// Evaluates a differentiable expression (records one fused node).
template <class N, class... V>
auto eval(const var_expr<N, V...>& e) {
    return e.as_variable();
}

} // namespace cinediff::autograd
