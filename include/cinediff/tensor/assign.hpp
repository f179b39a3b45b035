#pragma once

#include <algorithm>
#include <cstddef>

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

// Advances the multi-index outer[0..axes) by one in row-major order.
inline void increment_outer(index_t* outer, const index_t* shape, std::size_t axes) {
    for (std::size_t d = axes; d-- > 0;) {
        if (++outer[d] < shape[d]) {
            return;
        }
        outer[d] = 0;
    }
}

// Elements per tile of the broadcast/strided path, and per parallel work item.
inline constexpr index_t assign_tile = 512;
inline constexpr index_t assign_chunk = 16384;

// The first axis of the longest run of trailing axes that merge into one row for every operand
// (the destination and each leaf's broadcast strides): a run of axes merges when element i of the
// merged row lies at i * (innermost stride) in every operand, i.e. stride[d] == stride[d+1] *
// shape[d+1] with extent-1 axes ignored. This holds for contiguous runs and broadcast (stride 0)
// runs alike, so (1, C, 1, 1, 1) parameters against (N, C, T, H, W) give rows of T*H*W.
template <std::size_t R, class K>
std::size_t merged_row_start(const index_t* shape, const index_t* dst_strides, const K& k) {
    static_assert(R >= 1);
    bool merges[R] = {};
    for (std::size_t d = 0; d + 1 < R; ++d) {
        merges[d] = true;
    }
    auto check = [&](const index_t* strides) {
        index_t inner = strides[R - 1]; // effective stride of axis d + 1
        for (std::size_t d = R - 1; d-- > 0;) {
            const index_t expected = inner * shape[d + 1];
            if (shape[d] != 1 && strides[d] != expected) {
                merges[d] = false;
            }
            inner = shape[d] == 1 ? expected : strides[d];
        }
    };
    check(dst_strides);
    if constexpr (stride_visitable_kernel<K>) {
        k.visit_strides(check);
    } else {
        return R - 1;
    }
    std::size_t first = R - 1;
    while (first > 0 && merges[first - 1]) {
        --first;
    }
    return first;
}

// The broadcast / strided path. Rows are runs of the trailing axes [first, R) (merged, see
// merged_row_start); work items are groups of whole rows, or parts of one row when rows are long,
// of about assign_chunk elements each. Each element is computed from the same values by the same
// functor tree as on the flat path, so results do not depend on the path or on the thread count.
//   tileable kernels: each row is evaluated in tiles of contiguous operand rows (kernel::tile)
//       with an `omp simd` loop;
//   others: row() with its runtime strides.
template <class T, std::size_t R, class K>
void run_rows(const TensorView<T, R>& dst, const K& k) {
    const auto& shape = dst.shape();
    const index_t* dst_strides = dst.strides().data();
    const std::size_t first = merged_row_start<R>(shape.data(), dst_strides, k);
    index_t inner = 1;
    for (std::size_t d = first; d < R; ++d) {
        inner *= shape[d];
    }
    const index_t rows = dst.size() / inner;
    const index_t os = dst_strides[R - 1];
    T* const out = dst.data();
    // A work item is rows [r0, r0 + row_count) restricted to columns [c0, c1).
    const index_t segments = inner > 2 * assign_chunk ? (inner + assign_chunk - 1) / assign_chunk : 1;
    const index_t seg_len = (inner + segments - 1) / segments;
    const index_t rows_per_item = segments > 1 ? 1 : std::max<index_t>(1, assign_chunk / inner);
    const index_t row_items = (rows + rows_per_item - 1) / rows_per_item;

    backend::parallel_for(row_items * segments, rows_per_item * seg_len, [&](index_t item) {
        const index_t r0 = (item / segments) * rows_per_item;
        const index_t r1 = std::min(rows, r0 + rows_per_item);
        const index_t c0 = (item % segments) * seg_len;
        const index_t c1 = std::min(inner, c0 + seg_len);
        index_t outer[R > 1 ? R - 1 : 1] = {}; // merged axes keep index 0
        for (std::size_t d = first, rest = static_cast<std::size_t>(r0); d-- > 0;) {
            outer[d] = static_cast<index_t>(rest % static_cast<std::size_t>(shape[d]));
            rest /= static_cast<std::size_t>(shape[d]);
        }
        if constexpr (tileable_kernel<K>) {
            constexpr std::size_t bytes = std::max<std::size_t>(K::tile_bytes, 1);
            // Tile length: assign_tile, fewer for very wide trees (keeps scratch <= 64 KiB).
            constexpr index_t cap =
                std::clamp<index_t>(static_cast<index_t>(65536 / bytes) / 64 * 64, 64, assign_tile);
            alignas(64) std::byte scratch[bytes * static_cast<std::size_t>(cap)];
            for (index_t r = r0; r < r1; ++r) {
                T* o = out + outer_offset<R>(outer, dst_strides);
                for (index_t b = c0; b < c1; b += cap) {
                    const index_t len = std::min(cap, c1 - b);
                    const auto row = k.tile(tile_args{outer, b, len, cap, b == c0}, scratch);
                    if (os == 1) {
                        T* CINEDIFF_RESTRICT ob = o + b;
                        CINEDIFF_OMP(omp simd)
                        for (index_t i = 0; i < len; ++i) {
                            ob[i] = static_cast<T>(row[i]);
                        }
                    } else {
                        for (index_t i = 0; i < len; ++i) {
                            o[(b + i) * os] = static_cast<T>(row[i]);
                        }
                    }
                }
                increment_outer(outer, shape.data(), first);
            }
        } else {
            for (index_t r = r0; r < r1; ++r) {
                const auto row = k.row(outer);
                T* o = out + outer_offset<R>(outer, dst_strides);
                for (index_t i = c0; i < c1; ++i) {
                    o[i * os] = static_cast<T>(row[i]);
                }
                increment_outer(outer, shape.data(), first);
            }
        }
    });
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
        run_rows(dst, node.kernel(dst.shape()));
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
