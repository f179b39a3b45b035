#pragma once

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/operators.hpp>

// Evaluation of an expression into a destination view: one fused loop, no temporaries.
namespace cinediff {

namespace detail {

// Fills outer[0..R-2] with the multi-index of innermost row `row` of `shape`.
template <std::size_t R>
CINEDIFF_HOST_DEVICE inline void unravel_row(index_t row, const index_t* shape, index_t* outer) {
    for (std::size_t d = R - 1; d-- > 0;) {
        outer[d] = row % shape[d];
        row /= shape[d];
    }
}

// Does the expression read memory that `dst` writes, other than element-for-element in place?
template <class T, std::size_t R, class Node>
bool aliases(const TensorView<T, R>& dst, const Node& node) {
    bool conflict = false;
    const auto* lo = reinterpret_cast<const char*>(dst.data());
    node.for_each_leaf([&](const auto* data, index_t size, const storage_owner& owner) {
        if (conflict || size == 0 || dst.size() == 0) {
            return;
        }
        const bool same_storage = owner && dst.owner() && owner == dst.owner();
        const auto* p = reinterpret_cast<const char*>(data);
        if (!same_storage && (p == nullptr || lo == nullptr)) {
            return;
        }
        conflict = same_storage || p == lo;
    });
    if (!conflict) {
        return false;
    }
    // Reading exactly the destination element by element is safe (x = x * 2 + 1).
    bool all_identical = true;
    node.for_each_leaf([&](const auto* data, index_t, const storage_owner& owner) {
        if (owner && owner == dst.owner() &&
            static_cast<const void*>(data) != static_cast<const void*>(dst.data())) {
            all_identical = false;
        }
    });
    return !(all_identical && node.flat_ok(dst.shape()) && dst.is_contiguous());
}

template <class T, std::size_t R, class Node>
void run_assignment(const TensorView<T, R>& dst, const Node& node) {
    const index_t n = dst.size();
    if (n == 0) {
        return;
    }
    T* out = dst.data();
    if (dst.is_contiguous() && node.flat_ok(dst.shape())) {
        const auto k = node.kernel(dst.shape());
        backend::parallel_for_blocks(n, 16384, [&](index_t begin, index_t end) {
            const auto f = k.flat();
            CINEDIFF_OMP(omp simd)
            for (index_t i = begin; i < end; ++i) {
                out[i] = static_cast<T>(f[i]);
            }
        });
        return;
    }
    if constexpr (R == 0) {
        out[0] = static_cast<T>(node.kernel(dst.shape()).flat()[0]);
    } else {
        const auto k = node.kernel(dst.shape());
        const index_t inner = dst.shape(R - 1);
        const index_t rows = n / inner;
        const index_t out_inner_stride = dst.strides()[R - 1];
        backend::parallel_for(rows, inner, [&](index_t row) {
            index_t outer[R > 1 ? R - 1 : 1] = {};
            unravel_row<R>(row, dst.shape().data(), outer);
            const auto r = k.row(outer);
            T* o = out + outer_offset<R>(outer, dst.strides().data());
            if (out_inner_stride == 1) {
                for (index_t i = 0; i < inner; ++i) {
                    o[i] = static_cast<T>(r[i]);
                }
            } else {
                for (index_t i = 0; i < inner; ++i) {
                    o[i * out_inner_stride] = static_cast<T>(r[i]);
                }
            }
        });
    }
}

} // namespace detail

// Writes expression `e` into `dst`, broadcasting `e` to dst's shape. If `e` reads dst's memory in
// any other pattern than element-for-element, it is evaluated into a temporary first, so
// `x = transpose_view_of_x + 1` is correct.
template <class T, std::size_t R, class E>
requires(expression<E> || arithmetic_scalar<E>) void assign(const TensorView<T, R>& dst, const E& e) {
    static_assert(!std::is_const_v<T>, "cinediff: cannot assign into a read-only view");
    if constexpr (arithmetic_scalar<E>) {
        assign(dst, scalar<compute_type_t<T>>(static_cast<compute_type_t<T>>(e)));
    } else {
        const auto node = as_node(e);
        using N = decltype(node);
        static_assert(N::rank <= R, "cinediff: the expression has a higher rank than the destination");
        if (detail::broadcast_shapes(node.shape(), dst.shape()) != dst.shape()) {
            throw shape_error("assign: an expression of shape " + shape_to_string(node.shape()) +
                              " cannot be written into shape " + shape_to_string(dst.shape()));
        }
        if (detail::aliases(dst, node)) {
            Tensor<std::remove_const_t<typename N::value_type>, R> tmp(dst.shape());
            detail::run_assignment(tmp.view(), node);
            detail::run_assignment(dst, as_node(tmp));
            return;
        }
        detail::run_assignment(dst, node);
    }
}

} // namespace cinediff
