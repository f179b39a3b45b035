#pragma once

// Benchmark-only prototypes of executor changes proposed in docs/performance.md ("Findings").
// Nothing in the library includes this file; it exists so the proposals come with measurements.
// It uses only the public node protocol (leaf::view(), map::children(), kernel(), flat_ok()).

#include <cmath>
#include <cstddef>
#include <cstring>
#include <tuple>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::bench_proto {

// ---- Proposal A: coalesce trailing axes in the strided (broadcast) path -------------------------
//
// run_assignment's row path iterates over rows of the *last* axis only (32 elements for a
// (N,C,T,H,W) latent) and unravels each row index with R-1 divisions. When the trailing axes are
// mergeable for the destination and for every leaf (stride[d] == stride[d+1] * extent[d+1], which
// holds for contiguous operands and for broadcast (stride 0) axes alike), they form one long row:
// for (1,C,1,1,1) parameters against an (N,C,T,H,W) input the row becomes T*H*W = 8192 elements.
// The existing row kernels stay valid unchanged: a leaf's row is p[i * inner_stride], and on merged
// axes the element i of the long row is exactly at i * inner_stride.

namespace detail {

template <std::size_t R>
struct merge_state {
    bool ok[R > 0 ? R : 1]; // ok[d]: axis d merges with axis d+1 for every operand seen so far
};

template <std::size_t R>
void check_strides(const index_t* strides, const shape_t<R>& out, merge_state<R>& m) {
    for (std::size_t d = 0; d + 1 < R; ++d) {
        if (strides[d] != strides[d + 1] * out[d + 1]) {
            m.ok[d] = false;
        }
    }
}

template <std::size_t R, class Node>
void visit_leaves(const Node& node, const shape_t<R>& out, merge_state<R>& m) {
    if constexpr (requires { node.view(); }) {
        const auto k = node.template kernel<R>(out); // broadcast strides in the output's axes
        check_strides<R>(k.strides, out, m);
    } else if constexpr (requires { node.children(); }) {
        std::apply([&](const auto&... c) { (visit_leaves<R>(c, out, m), ...); }, node.children());
    }
}

template <std::size_t R>
inline void unravel_prefix(index_t row, const index_t* shape, std::size_t outer_axes, index_t* outer) {
    for (std::size_t d = outer_axes; d-- > 0;) {
        outer[d] = row % shape[d];
        row /= shape[d];
    }
}

} // namespace detail

template <class T, std::size_t R, class Node>
void run_assignment_coalesced(const TensorView<T, R>& dst, const Node& node) {
    static_assert(R >= 1);
    const index_t n = dst.size();
    if (n == 0) {
        return;
    }
    T* out = dst.data();
    if (dst.is_contiguous() && node.flat_ok(dst.shape())) { // unchanged flat path
        cinediff::detail::run_assignment(dst, node);
        return;
    }
    const auto& shape = dst.shape();
    detail::merge_state<R> m{};
    for (auto& b : m.ok) {
        b = true;
    }
    detail::check_strides<R>(dst.strides().data(), shape, m);
    detail::visit_leaves<R>(node, shape, m);
    // Axes first..R-1 form the inner row.
    std::size_t first = R - 1;
    while (first > 0 && m.ok[first - 1]) {
        --first;
    }
    index_t inner = 1;
    for (std::size_t d = first; d < R; ++d) {
        inner *= shape[d];
    }
    const index_t rows = n / inner;
    const index_t os = dst.strides()[R - 1];
    const auto k = node.kernel(shape);
    backend::parallel_for(rows, inner, [&](index_t row) {
        index_t outer[R > 1 ? R - 1 : 1] = {}; // merged axes keep index 0
        detail::unravel_prefix<R>(row, shape.data(), first, outer);
        const auto r = k.row(outer);
        T* o = out + cinediff::detail::outer_offset<R>(outer, dst.strides().data());
        if (os == 1) {
            for (index_t i = 0; i < inner; ++i) {
                o[i] = static_cast<T>(r[i]);
            }
        } else {
            for (index_t i = 0; i < inner; ++i) {
                o[i * os] = static_cast<T>(r[i]);
            }
        }
    });
}

// ---- Proposal A2: coalesced rows evaluated in tiles with contiguous operand rows -------------
//
// Coalescing alone does not make the row loop fast: a leaf row is p[i * stride] with a runtime
// stride, which GCC vectorises as element-by-element inserts (vinsertps) for every leaf. A tiled
// row kernel removes the runtime stride from the inner loop: per tile of `tile` elements each leaf
// yields a *contiguous* row (flat_row): its own memory when its inner stride is 1, a small
// per-thread buffer filled once per row with its value when the stride is 0 (broadcast), or a
// buffer gathered per tile otherwise. The map tree then has exactly the flat path's types, and the
// tile loop vectorises like the flat path.
inline constexpr index_t tile = 512;
inline constexpr std::size_t max_slots = 8;

namespace detail {

template <class T, std::size_t R>
struct leaf_tile {
    const T* data;
    index_t strides[R];
    std::size_t slot; // this leaf's buffer in the per-thread scratch
    cinediff::detail::flat_row<T> row(const index_t* outer, index_t begin, index_t len, std::byte* scratch) const {
        const T* p = data + cinediff::detail::outer_offset<R>(outer, strides);
        const index_t s = strides[R - 1];
        if (s == 1) {
            return {p + begin};
        }
        T* buf = reinterpret_cast<T*>(scratch + slot * tile * sizeof(double));
        if (s == 0) {
            if (begin == 0) { // constant over the whole row: fill once
                std::fill_n(buf, tile, p[0]);
            }
        } else {
            for (index_t i = 0; i < len; ++i) {
                buf[i] = p[(begin + i) * s];
            }
        }
        return {buf};
    }
};

template <class T>
struct scalar_tile {
    T v;
    cinediff::detail::constant_row<T> row(const index_t*, index_t, index_t, std::byte*) const { return {v}; }
};

template <class F, class... K>
struct map_tile {
    F f;
    std::tuple<K...> kernels;
    auto row(const index_t* outer, index_t begin, index_t len, std::byte* scratch) const {
        return std::apply(
            [&](const auto&... k) {
                return cinediff::detail::map_row<F, decltype(k.row(outer, begin, len, scratch))...>{
                    f, {k.row(outer, begin, len, scratch)...}};
            },
            kernels);
    }
};

template <std::size_t R, class Node>
auto make_tile(const Node& node, const shape_t<R>& out, std::size_t& slot) {
    if constexpr (requires { node.view(); }) {
        const auto k = node.template kernel<R>(out);
        using T = typename Node::value_type;
        leaf_tile<T, R> t{k.data, {}, slot++};
        for (std::size_t d = 0; d < R; ++d) {
            t.strides[d] = k.strides[d];
        }
        return t;
    } else if constexpr (requires { node.children(); }) {
        return std::apply(
            [&](const auto&... c) {
                // braced init: children are visited left to right, so slots are assigned in order
                return map_tile<std::remove_cvref_t<decltype(node.functor())>,
                                decltype(make_tile<R>(c, out, slot))...>{node.functor(),
                                                                         {make_tile<R>(c, out, slot)...}};
            },
            node.children());
    } else {
        return scalar_tile<typename Node::value_type>{node.template kernel<R>(out).v};
    }
}

} // namespace detail

template <class T, std::size_t R, class Node>
void run_assignment_tiled(const TensorView<T, R>& dst, const Node& node) {
    static_assert(R >= 1);
    const index_t n = dst.size();
    if (n == 0) {
        return;
    }
    if (dst.is_contiguous() && node.flat_ok(dst.shape())) { // unchanged flat path
        cinediff::detail::run_assignment(dst, node);
        return;
    }
    const auto& shape = dst.shape();
    detail::merge_state<R> m{};
    for (auto& b : m.ok) {
        b = true;
    }
    detail::check_strides<R>(dst.strides().data(), shape, m);
    detail::visit_leaves<R>(node, shape, m);
    std::size_t first = R - 1;
    while (first > 0 && m.ok[first - 1]) {
        --first;
    }
    index_t inner = 1;
    for (std::size_t d = first; d < R; ++d) {
        inner *= shape[d];
    }
    const index_t rows = n / inner;
    const index_t os = dst.strides()[R - 1];
    std::size_t slots = 0;
    const auto tk = detail::make_tile<R>(node, shape, slots);
    if (slots > max_slots) {
        throw shape_error("run_assignment_tiled (prototype): too many leaves");
    }
    T* out = dst.data();
    backend::parallel_for(rows, inner, [&](index_t row) {
        index_t outer[R > 1 ? R - 1 : 1] = {};
        detail::unravel_prefix<R>(row, shape.data(), first, outer);
        T* o = out + cinediff::detail::outer_offset<R>(outer, dst.strides().data());
        // prototype: room for max_slots leaves; a real implementation sizes it from the node type
        alignas(64) std::byte scratch[max_slots * tile * sizeof(double)];
        for (index_t b = 0; b < inner; b += tile) {
            const index_t len = std::min(tile, inner - b);
            const auto r = tk.row(outer, b, len, scratch);
            if (os == 1) {
                T* CINEDIFF_RESTRICT ob = o + b;
                CINEDIFF_OMP(omp simd)
                for (index_t i = 0; i < len; ++i) {
                    ob[i] = static_cast<T>(r[i]);
                }
            } else {
                for (index_t i = 0; i < len; ++i) {
                    o[(b + i) * os] = static_cast<T>(r[i]);
                }
            }
        }
    });
}

// ---- Proposal C: a vectorisable, still deterministic, float sum -------------------------------
//
// reduce.hpp sums each output element with one double accumulator in row-major order: a serial
// dependency chain of double adds (latency-bound, ~4 cycles/element, never vectorised). Keeping
// the double accumulation and the thread-count independence, but spreading each contiguous run
// over `lanes` accumulators (element i goes to lane i % lanes, lanes combined in a fixed order at
// the end) lets GCC vectorise it. The result differs from the sequential sum only by rounding of
// the double partial sums (far below float resolution).
template <int lanes = 16>
double sum_contiguous_lanes(const float* p, index_t n) {
    double acc[lanes] = {};
    index_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (int l = 0; l < lanes; ++l) {
            acc[l] += static_cast<double>(p[i + l]);
        }
    }
    for (int l = 0; i < n; ++i, ++l) {
        acc[l] += static_cast<double>(p[i]);
    }
    double total = 0;
    for (int l = 0; l < lanes; ++l) {
        total += acc[l];
    }
    return total;
}

// ---- Proposal B: a sigmoid / exp that the compiler can vectorise --------------------------------
//
// op::sigmoid calls std::exp(float); without -ffast-math glibc does not declare its vector
// variants (libmvec), so every `omp simd` loop containing sigmoid/exp falls back to one scalar
// expf call per element. A branch-free Cephes-style expf (the algorithm Eigen's pexp uses:
// range reduction by ln2, degree-6 polynomial, exponent insertion) auto-vectorises; its error is
// a few ulp (checked against std::exp in the checksums).
CINEDIFF_FORCEINLINE float vexpf(float x) {
    x = x > 88.0f ? 88.0f : x;   // keeps 2^k a normal float: k in [-126, 127]
    x = x < -87.3f ? -87.3f : x; // (exp(x) below ~1e-38 flushes to ~1e-38, not 0)
    // exp(x) = 2^k * exp(r), r = x - k ln2, |r| <= ln2/2
    // k = round(x / ln2) with the 1.5 * 2^23 trick: std::floor / std::nearbyint do not
    // vectorise with GCC 12 unless -fno-trapping-math.
    const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    const float e = p * r * r + r + 1.0f;
    const auto ki = static_cast<std::int32_t>(k);
    std::int32_t bits = (ki + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

struct fast_sigmoid {
    template <class A>
    CINEDIFF_HOST_DEVICE A operator()(A a) const {
        return A(1) / (A(1) + vexpf(-a));
    }
};

template <expression A>
auto sigmoid_v(const A& a) {
    return cinediff::detail::make_unary(fast_sigmoid{}, a);
}

} // namespace cinediff::bench_proto
