#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <utility>

#include <cinediff/tensor/dtype.hpp>
#include <cinediff/tensor/functors.hpp>
#include <cinediff/tensor/tensor_view.hpp>

// Lazy element-wise expressions with NumPy broadcasting.
//
// An expression is a tree of small nodes: `leaf` (a strided view), `scalar`, and `map` (a functor
// applied to 1-3 child expressions). Nothing is computed when a tree is built; assigning it to a
// Tensor or a view runs one fused loop (backend executor) with no temporaries.
//
// Closure rule (why `auto e = a * sigmoid(b) + 1.0f;` never dangles): a leaf holds a view, and a
// view shares ownership of its memory; child nodes are held by value. So an expression kept in
// `auto` stays valid after the tensors it was built from go out of scope. It stays *lazy*:
// evaluating it later reads the current contents of those tensors.
//
// Evaluation protocol (what the executor needs from every node E with output shape `out`):
//   E::value_type, E::rank, E::shape()
//   E::kernel<R>(out): a trivially copyable functor tree (host and device) with
//       row(outer_index) -> row kernel r, r[i] = element i of that innermost row;
//       flat()            -> flat kernel f, f[i] = element i in row-major order;
//   E::flat_ok(out): true when every leaf is contiguous with exactly the shape `out`, so the
//       flat kernel is valid and the whole evaluation is one vectorisable loop;
//   E::for_each_leaf(fn): visits the leaves' views (the executor's aliasing check).
//
// Host-only extensions of the kernel protocol, used by the executor's broadcast/strided path when
// every kernel in the tree has them (assign.hpp); kernels without them still work through row():
//   K::tile_bytes: scratch bytes per tile element that K's subtree needs (sizeof(T) per leaf);
//   k.visit_strides(fn): calls fn(const index_t* strides) with each leaf's broadcast strides;
//   k.tile(args, scratch): like row(args.outer), but a row of *contiguous* operands covering
//       elements [args.begin, args.begin + args.len) of that row, indexed from 0: a leaf with inner
//       stride 1 is its own memory, any other leaf is copied into its part of `scratch`
//       (args.cap * tile_bytes bytes, 64-byte aligned). A stride-0 leaf is copied only when
//       args.fresh (the first tile of a row in this scratch, of the largest length). Its row
//       types are exactly those of flat(), so a tile vectorises like the flat path and gives
//       bit-identical results.
namespace cinediff {

namespace detail {

template <std::size_t R>
constexpr index_t outer_offset(const index_t* outer, const index_t* strides) {
    index_t o = 0;
    for (std::size_t d = 0; d + 1 < R; ++d) {
        o += outer[d] * strides[d];
    }
    return o;
}

template <class T>
struct strided_row {
    const T* p;
    index_t stride;
    CINEDIFF_HOST_DEVICE T operator[](index_t i) const { return p[i * stride]; }
};

template <class T>
struct flat_row {
    const T* p;
    CINEDIFF_HOST_DEVICE T operator[](index_t i) const { return p[i]; }
};

template <class T>
struct constant_row {
    T v;
    CINEDIFF_HOST_DEVICE T operator[](index_t) const { return v; }
};

// One tile of a row for kernel::tile (see the protocol above).
struct tile_args {
    const index_t* outer; // multi-index of the row (as for row())
    index_t begin;        // first element of the tile within the row
    index_t len;          // elements in the tile, <= cap
    index_t cap;          // elements per tile buffer
    bool fresh;           // first tile of this row in this scratch: refill broadcast buffers
};

template <class K>
concept tileable_kernel = requires(const K& k, const tile_args& a, std::byte* scratch) {
    { K::tile_bytes } -> std::convertible_to<std::size_t>;
    k.tile(a, scratch);
};

template <class K>
concept stride_visitable_kernel = requires(const K& k) {
    k.visit_strides([](const index_t*) {});
};

template <class T, std::size_t R>
struct leaf_kernel {
    const T* data;
    index_t strides[R > 0 ? R : 1]; // broadcast strides in the output's axes
    CINEDIFF_HOST_DEVICE strided_row<T> row(const index_t* outer) const {
        if constexpr (R == 0) {
            return {data, 0};
        } else {
            return {data + outer_offset<R>(outer, strides), strides[R - 1]};
        }
    }
    CINEDIFF_HOST_DEVICE flat_row<T> flat() const { return {data}; }

    static constexpr std::size_t tile_bytes = sizeof(T);
    flat_row<T> tile(const tile_args& a, std::byte* scratch) const {
        const T* p = data;
        index_t s = 0;
        if constexpr (R > 0) {
            p += outer_offset<R>(a.outer, strides);
            s = strides[R - 1];
        }
        if (s == 1) {
            return {p + a.begin};
        }
        T* buf = reinterpret_cast<T*>(scratch);
        if (s == 0) {
            if (a.fresh) {
                std::fill_n(buf, a.len, p[0]);
            }
        } else {
            for (index_t i = 0; i < a.len; ++i) {
                buf[i] = p[(a.begin + i) * s];
            }
        }
        return {buf};
    }
    template <class Fn>
    void visit_strides(Fn&& fn) const {
        fn(static_cast<const index_t*>(strides));
    }
};

template <class T>
struct scalar_kernel {
    T v;
    CINEDIFF_HOST_DEVICE constant_row<T> row(const index_t*) const { return {v}; }
    CINEDIFF_HOST_DEVICE constant_row<T> flat() const { return {v}; }

    static constexpr std::size_t tile_bytes = 0;
    constant_row<T> tile(const tile_args&, std::byte*) const { return {v}; }
    template <class Fn>
    void visit_strides(Fn&&) const {}
};

template <class F, class... Rows>
struct map_row {
    F f;
    std::tuple<Rows...> rows;
    CINEDIFF_HOST_DEVICE auto operator[](index_t i) const {
        return std::apply([&](const auto&... r) { return f(r[i]...); }, rows);
    }
};

template <class K>
constexpr std::size_t tile_bytes_of() {
    if constexpr (requires { K::tile_bytes; }) {
        return K::tile_bytes;
    } else {
        return 0;
    }
}

template <class F, class... Kernels>
struct map_kernel {
    F f;
    std::tuple<Kernels...> kernels;
    CINEDIFF_HOST_DEVICE auto row(const index_t* outer) const {
        return std::apply(
            [&](const auto&... k) {
                return map_row<F, decltype(k.row(outer))...>{f, {k.row(outer)...}};
            },
            kernels);
    }
    CINEDIFF_HOST_DEVICE auto flat() const {
        return std::apply(
            [&](const auto&... k) {
                return map_row<F, decltype(k.flat())...>{f, {k.flat()...}};
            },
            kernels);
    }

    static constexpr std::size_t tile_bytes = (std::size_t{0} + ... + tile_bytes_of<Kernels>());
    auto tile(const tile_args& a, std::byte* scratch) const requires(tileable_kernel<Kernels>&&...) {
        return tile_impl(a, scratch, std::index_sequence_for<Kernels...>{});
    }
    template <class Fn>
    void visit_strides(Fn&& fn) const requires(stride_visitable_kernel<Kernels>&&...) {
        std::apply([&](const auto&... k) { (k.visit_strides(fn), ...); }, kernels);
    }

    // Child I's scratch starts after the bytes of children 0..I-1.
    template <std::size_t I>
    static constexpr std::size_t scratch_offset() {
        constexpr std::size_t bytes[] = {tile_bytes_of<Kernels>()..., 0};
        std::size_t o = 0;
        for (std::size_t j = 0; j < I; ++j) {
            o += bytes[j];
        }
        return o;
    }
    template <std::size_t... I>
    auto tile_impl(const tile_args& a, std::byte* scratch, std::index_sequence<I...>) const {
        return map_row<F, decltype(std::get<I>(kernels).tile(a, scratch))...>{
            f,
            {std::get<I>(kernels).tile(a,
                                       scratch + scratch_offset<I>() * static_cast<std::size_t>(a.cap))...}};
    }
};

// NumPy broadcasting of two shapes (aligned at the right).
template <std::size_t A, std::size_t B>
shape_t<(A > B ? A : B)> broadcast_shapes(const shape_t<A>& a, const shape_t<B>& b) {
    constexpr std::size_t R = A > B ? A : B;
    shape_t<R> out{};
    for (std::size_t d = 0; d < R; ++d) {
        const index_t ea = d + A >= R ? a[d + A - R] : 1;
        const index_t eb = d + B >= R ? b[d + B - R] : 1;
        if (ea != eb && ea != 1 && eb != 1) {
            throw shape_error("broadcast: shapes " + shape_to_string(a) + " and " + shape_to_string(b) +
                              " are not compatible at axis " + std::to_string(d));
        }
        out[d] = ea == 1 ? eb : ea;
    }
    return out;
}

} // namespace detail

// ---- nodes ---------------------------------------------------------------------------------------

template <class T, std::size_t Rank>
class leaf {
  public:
    using value_type = std::remove_const_t<T>;
    static constexpr std::size_t rank = Rank;

    explicit leaf(TensorView<const value_type, Rank> view) : m_view(std::move(view)) {}
    const shape_t<Rank>& shape() const { return m_view.shape(); }
    const TensorView<const value_type, Rank>& view() const { return m_view; }

    template <std::size_t R>
    detail::leaf_kernel<value_type, R> kernel(const shape_t<R>& out) const {
        static_assert(R >= Rank);
        detail::leaf_kernel<value_type, R> k{m_view.data(), {}};
        for (std::size_t d = 0; d < R; ++d) {
            if (d + Rank < R) {
                k.strides[d] = 0;
            } else {
                const std::size_t s = d - (R - Rank);
                k.strides[d] = (m_view.shape(s) == 1 && out[d] != 1) ? 0 : m_view.strides()[s];
            }
        }
        return k;
    }
    template <std::size_t R>
    bool flat_ok(const shape_t<R>& out) const {
        if constexpr (R != Rank) {
            return numel(out) == 1 && m_view.size() == 1;
        } else {
            return m_view.shape() == out && m_view.is_contiguous();
        }
    }
    template <class Fn>
    void for_each_leaf(Fn&& fn) const {
        fn(m_view.data(), m_view.size(), m_view.owner());
    }

  private:
    TensorView<const value_type, Rank> m_view;
};

template <class T>
class scalar {
  public:
    using value_type = T;
    static constexpr std::size_t rank = 0;

    explicit scalar(T v) : m_value(v) {}
    shape_t<0> shape() const { return {}; }
    template <std::size_t R>
    detail::scalar_kernel<T> kernel(const shape_t<R>&) const {
        return {m_value};
    }
    template <std::size_t R>
    bool flat_ok(const shape_t<R>&) const {
        return true;
    }
    template <class Fn>
    void for_each_leaf(Fn&&) const {}

  private:
    T m_value;
};

template <class F, class... Children>
class map {
  public:
    using value_type = std::remove_cvref_t<std::invoke_result_t<F, typename Children::value_type...>>;
    static constexpr std::size_t rank = std::max({Children::rank...});

    explicit map(F f, Children... children)
        : m_f(f), m_children(std::move(children)...), m_shape(compute_shape(m_children)) {}

    const shape_t<rank>& shape() const { return m_shape; }
    const std::tuple<Children...>& children() const { return m_children; }
    const F& functor() const { return m_f; }

    template <std::size_t R>
    auto kernel(const shape_t<R>& out) const {
        return std::apply(
            [&](const auto&... c) {
                return detail::map_kernel<F, decltype(c.kernel(out))...>{m_f, {c.kernel(out)...}};
            },
            m_children);
    }
    template <std::size_t R>
    bool flat_ok(const shape_t<R>& out) const {
        return std::apply([&](const auto&... c) { return (c.flat_ok(out) && ...); }, m_children);
    }
    template <class Fn>
    void for_each_leaf(Fn&& fn) const {
        std::apply([&](const auto&... c) { (c.for_each_leaf(fn), ...); }, m_children);
    }

  private:
    static shape_t<rank> compute_shape(const std::tuple<Children...>& children) {
        return std::apply(
            [](const auto&... c) {
                shape_t<0> start{};
                return fold_shapes(start, c.shape()...);
            },
            children);
    }
    template <std::size_t A>
    static auto fold_shapes(const shape_t<A>& acc) {
        return acc;
    }
    template <std::size_t A, std::size_t B, class... Rest>
    static auto fold_shapes(const shape_t<A>& acc, const shape_t<B>& next, const Rest&... rest) {
        return fold_shapes(detail::broadcast_shapes(acc, next), rest...);
    }

    F m_f;
    std::tuple<Children...> m_children;
    shape_t<rank> m_shape;
};

// ---- what counts as an expression, and how operands are captured --------------------------------

template <class E>
struct is_expression_node : std::false_type {};
template <class T, std::size_t R>
struct is_expression_node<leaf<T, R>> : std::true_type {};
template <class T>
struct is_expression_node<scalar<T>> : std::true_type {};
template <class F, class... C>
struct is_expression_node<map<F, C...>> : std::true_type {};

template <class T>
struct is_tensor_like : std::false_type {};
template <class T, std::size_t R>
struct is_tensor_like<TensorView<T, R>> : std::true_type {};
template <class T, std::size_t R>
struct is_tensor_like<Tensor<T, R>> : std::true_type {};

// Anything usable as an operand: a node, a Tensor, or a TensorView.
template <class E>
concept expression =
    is_expression_node<std::remove_cvref_t<E>>::value || is_tensor_like<std::remove_cvref_t<E>>::value;

template <class E>
concept arithmetic_scalar = std::is_arithmetic_v<std::remove_cvref_t<E>>;

// Turns an operand into a node. Tensors become leaves viewing their (shared) memory.
template <class E>
requires expression<E>
auto as_node(const E& e) {
    using D = std::remove_cvref_t<E>;
    if constexpr (is_expression_node<D>::value) {
        return e;
    } else {
        return leaf<typename D::value_type, D::rank>(
            TensorView<const typename D::value_type, D::rank>(view_of(e)));
    }
}

template <class T, std::size_t R>
TensorView<T, R> view_of(const TensorView<T, R>& v) {
    return v;
}

template <class E>
using node_t = decltype(as_node(std::declval<const E&>()));

template <class E>
using value_type_of = typename node_t<E>::value_type;

} // namespace cinediff
