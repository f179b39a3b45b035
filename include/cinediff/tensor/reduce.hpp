#pragma once

#include <cmath>
#include <limits>

#include <cinediff/backend/lane_sum.hpp>
#include <cinediff/tensor/tensor.hpp>

// Reductions over chosen axes, and the cumulative sum.
//
//     auto s = sum(x, {1, 2});            // rank R-2
//     auto m = mean(x, {-1}, keep_dims);  // rank R, reduced axes have extent 1
//     double total = sum(x);              // everything
//
// Floating-point sums accumulate in double (as PyTorch's CPU kernels do for cumsum). Summation
// order (docs/numerics.md, "Summation order"): the reduced elements of each output element are
// visited in row-major order as runs along the innermost reduced axes (merged where they are
// contiguous); sum, mean and var spread each run over 16 double accumulators (element j of a run
// to lane j % 16, backend/lane_sum.hpp) combined by a fixed pairwise tree; full reductions do the
// same within fixed-size blocks and combine the blocks left to right. max, min, argmax and
// logsumexp visit the elements one by one in row-major order. cumsum adds sequentially along its
// axis (lines that differ in the last axis are scanned side by side; each line's order is the same). The
// order never depends on the thread count, so results are identical for every thread count.
namespace cinediff {

struct keep_dims_t {};
inline constexpr keep_dims_t keep_dims{};

namespace detail {

template <class T>
using accumulate_t = std::conditional_t<std::is_floating_point_v<compute_type_t<T>>, double, std::int64_t>;

// The type a sum or mean of T is returned in: T's compute type for floats, int64 for integers.
template <class T>
using sum_result_t =
    std::conditional_t<std::is_floating_point_v<compute_type_t<T>>, compute_type_t<T>, std::int64_t>;

// An expression as a readable view; anything that is not already a plain view is evaluated once.
template <class E>
auto materialize(const E& e) {
    using N = node_t<E>;
    using V = typename N::value_type;
    if constexpr (std::is_same_v<N, leaf<V, N::rank>>) {
        return as_node(e).view();
    } else {
        return TensorView<const V, N::rank>(Tensor<V, N::rank>(e).view());
    }
}

template <std::size_t R, std::size_t N>
std::array<bool, R> reduced_axes(const index_t (&axes)[N], const char* what) {
    std::array<bool, R> reduced{};
    for (index_t a : axes) {
        const std::size_t d = normalize_axis(a, R, what);
        if (reduced[d]) {
            throw shape_error(std::string(what) + ": axis " + std::to_string(d) + " is given twice");
        }
        reduced[d] = true;
    }
    return reduced;
}

// The reduced elements of one output element: visit(fn) calls fn(x) for each of them in
// row-major order; visit.runs(fn) calls fn(p, n, stride) for the same elements grouped in runs
// p[0], p[stride], ..., p[(n - 1) * stride] along the innermost reduced axes (contiguous reduced
// axes merged into one run), in the same order.
template <class T, std::size_t R>
struct reduction_visitor {
    const T* base = nullptr;
    index_t run_extent = 1;                // elements per run
    index_t run_stride = 0;                // their stride
    std::size_t outer_count = 0;           // number of outer reduced dimensions
    std::array<index_t, R> outer_extent{}; // outer reduced dimensions, row-major
    std::array<index_t, R> outer_stride{};
    index_t count = 0; // reduced elements in total

    template <class Fn>
    void runs(Fn&& fn) const {
        if (count == 0) {
            return;
        }
        std::array<index_t, R> idx{};
        for (index_t r = 0; r < count / run_extent; ++r) {
            index_t offset = 0;
            for (std::size_t k = 0; k < outer_count; ++k) {
                offset += idx[k] * outer_stride[k];
            }
            fn(base + offset, run_extent, run_stride);
            for (std::size_t k = outer_count; k-- > 0;) { // odometer over the outer reduced dims
                if (++idx[k] < outer_extent[k]) {
                    break;
                }
                idx[k] = 0;
            }
        }
    }
    template <class Fn>
    void operator()(Fn&& fn) const {
        runs([&](const T* p, index_t n, index_t stride) {
            for (index_t i = 0; i < n; ++i) {
                fn(p[i * stride]);
            }
        });
    }
};

// Sum over a visitor's elements of f(x) in lane order (backend/lane_sum.hpp), per run.
template <class Acc, class T, std::size_t R, class F>
Acc lane_sum(const reduction_visitor<T, R>& visit, F&& f) {
    backend::lane_accumulator<Acc> acc;
    visit.runs([&](const T* p, index_t n, index_t stride) {
        if (stride == 1) {
            acc.add(n, [&](index_t j) { return f(p[j]); });
        } else {
            acc.add(n, [&](index_t j) { return f(p[j * stride]); });
        }
    });
    return acc.total();
}

// Calls per_output(o, visit, count) for every output element o (row-major over the kept axes);
// visit is the reduction_visitor of o's `count` reduced elements.
template <class T, std::size_t R, class PerOutput>
void for_each_reduction(const TensorView<const T, R>& in, const std::array<bool, R>& reduced,
                        PerOutput&& per_output) {
    std::array<std::size_t, R> kept_axes{};
    std::size_t nk = 0;
    index_t out_count = 1;
    reduction_visitor<T, R> proto{};
    proto.base = in.data();
    proto.count = 1;
    // Reduced dimensions, outermost first; an axis merges into the following reduced axis when
    // it is adjacent and stride[d] == stride[d + 1] * shape[d + 1].
    std::array<index_t, R> red_extent{}, red_stride{};
    std::size_t nr = 0;
    for (std::size_t d = 0; d < R; ++d) {
        if (reduced[d]) {
            proto.count *= in.shape(d);
            if (nr > 0 && reduced[d - 1] && red_stride[nr - 1] == in.strides()[d] * in.shape(d)) {
                red_extent[nr - 1] *= in.shape(d);
                red_stride[nr - 1] = in.strides()[d];
            } else {
                red_extent[nr] = in.shape(d);
                red_stride[nr] = in.strides()[d];
                ++nr;
            }
        } else {
            kept_axes[nk++] = d;
            out_count *= in.shape(d);
        }
    }
    if (nr > 0) {
        proto.run_extent = red_extent[nr - 1];
        proto.run_stride = red_stride[nr - 1];
        proto.outer_count = nr - 1;
        for (std::size_t k = 0; k + 1 < nr; ++k) {
            proto.outer_extent[k] = red_extent[k];
            proto.outer_stride[k] = red_stride[k];
        }
    }
    const index_t red_count = proto.count;
    backend::parallel_for(out_count, red_count, [&](index_t o) {
        index_t base = 0;
        for (std::size_t k = nk, rest = static_cast<std::size_t>(o); k-- > 0;) {
            const index_t extent = in.shape(kept_axes[k]);
            base +=
                static_cast<index_t>(rest % static_cast<std::size_t>(extent)) * in.strides()[kept_axes[k]];
            rest /= static_cast<std::size_t>(extent);
        }
        reduction_visitor<T, R> visit = proto;
        visit.base = in.data() + base;
        per_output(o, visit, red_count);
    });
}

template <std::size_t R, std::size_t N>
shape_t<R - N> dropped_shape(const shape_t<R>& shape, const std::array<bool, R>& reduced) {
    shape_t<R - N> out{};
    for (std::size_t d = 0, k = 0; d < R; ++d) {
        if (!reduced[d]) {
            out[k++] = shape[d];
        }
    }
    return out;
}

template <std::size_t R>
shape_t<R> kept_shape(const shape_t<R>& shape, const std::array<bool, R>& reduced) {
    shape_t<R> out = shape;
    for (std::size_t d = 0; d < R; ++d) {
        if (reduced[d]) {
            out[d] = 1;
        }
    }
    return out;
}

// Runs one reduction: value(visit, count) computes an output element from its reduced elements.
template <class Out, bool Keep, std::size_t N, class E, class Value>
auto reduce_with(const E& e, const index_t (&axes)[N], const char* what, Value&& value) {
    const auto in = materialize(e);
    constexpr std::size_t R = decltype(in)::rank;
    static_assert(N <= R, "cinediff: more reduction axes than the expression has");
    const auto reduced = reduced_axes<R>(axes, what);
    auto out_shape = [&] {
        if constexpr (Keep) {
            return kept_shape<R>(in.shape(), reduced);
        } else {
            return dropped_shape<R, N>(in.shape(), reduced);
        }
    }();
    Tensor<Out, std::tuple_size_v<decltype(out_shape)>> out(out_shape);
    Out* o = out.data();
    for_each_reduction(in, reduced,
                       [&](index_t i, auto& visit, index_t count) { o[i] = value(visit, count); });
    return out;
}

template <class T>
constexpr bool is_nan(T x) {
    return x != x;
}

} // namespace detail

#define CINEDIFF_REDUCTION(name, Out, body)                                                                  \
    template <expression E, std::size_t N>                                                                   \
    auto name(const E& e, const index_t(&axes)[N]) {                                                         \
        using T = value_type_of<E>;                                                                          \
        return detail::reduce_with<Out, false>(e, axes, #name, body);                                        \
    }                                                                                                        \
    template <expression E, std::size_t N>                                                                   \
    auto name(const E& e, const index_t(&axes)[N], keep_dims_t) {                                            \
        using T = value_type_of<E>;                                                                          \
        return detail::reduce_with<Out, true>(e, axes, #name, body);                                         \
    }

CINEDIFF_REDUCTION(sum, detail::sum_result_t<T>, ([](auto& visit, index_t) {
                       using Acc = detail::accumulate_t<T>;
                       const Acc acc = detail::lane_sum<Acc>(
                           visit, [](T x) { return static_cast<Acc>(static_cast<compute_type_t<T>>(x)); });
                       return static_cast<detail::sum_result_t<T>>(acc);
                   }))
CINEDIFF_REDUCTION(mean, compute_type_t<T>, ([](auto& visit, index_t count) {
                       static_assert(std::is_floating_point_v<compute_type_t<T>>,
                                     "cinediff: mean needs a floating-point tensor");
                       const double acc =
                           detail::lane_sum<double>(visit, [](T x) { return static_cast<double>(x); });
                       return static_cast<compute_type_t<T>>(count > 0
                                                                 ? acc / static_cast<double>(count)
                                                                 : std::numeric_limits<double>::quiet_NaN());
                   }))
CINEDIFF_REDUCTION(max, compute_type_t<T>, ([](auto& visit, index_t count) {
                       if (count == 0) {
                           throw shape_error("max: reduction over an empty axis");
                       }
                       auto acc = -std::numeric_limits<compute_type_t<T>>::infinity();
                       if constexpr (!std::numeric_limits<compute_type_t<T>>::has_infinity) {
                           acc = std::numeric_limits<compute_type_t<T>>::lowest();
                       }
                       visit([&](T x) {
                           const compute_type_t<T> v = x;
                           acc = (detail::is_nan(acc) || v > acc || detail::is_nan(v))
                                     ? (detail::is_nan(acc) ? acc : v)
                                     : acc;
                       });
                       return acc;
                   }))
CINEDIFF_REDUCTION(min, compute_type_t<T>, ([](auto& visit, index_t count) {
                       if (count == 0) {
                           throw shape_error("min: reduction over an empty axis");
                       }
                       auto acc = std::numeric_limits<compute_type_t<T>>::infinity();
                       if constexpr (!std::numeric_limits<compute_type_t<T>>::has_infinity) {
                           acc = std::numeric_limits<compute_type_t<T>>::max();
                       }
                       visit([&](T x) {
                           const compute_type_t<T> v = x;
                           acc = (detail::is_nan(acc) || v < acc || detail::is_nan(v))
                                     ? (detail::is_nan(acc) ? acc : v)
                                     : acc;
                       });
                       return acc;
                   }))
CINEDIFF_REDUCTION(logsumexp, compute_type_t<T>, ([](auto& visit, index_t) {
                       double m = -std::numeric_limits<double>::infinity();
                       visit([&](T x) { m = std::max(m, static_cast<double>(x)); });
                       const double shift = std::isfinite(m) ? m : 0.0;
                       double acc = 0;
                       visit([&](T x) { acc += std::exp(static_cast<double>(x) - shift); });
                       return static_cast<compute_type_t<T>>(std::log(acc) + shift);
                   }))
#undef CINEDIFF_REDUCTION

// Variance with Bessel's correction by default (torch.var(unbiased=True) / correction=1);
// two passes (mean, then squared deviations) for accuracy.
template <expression E, std::size_t N>
auto var(const E& e, const index_t (&axes)[N], int correction = 1) {
    using T = value_type_of<E>;
    return detail::reduce_with<compute_type_t<T>, false>(
        e, axes, "var", [correction](auto& visit, index_t count) {
            const double m = detail::lane_sum<double>(visit, [](T x) { return static_cast<double>(x); }) /
                             static_cast<double>(count);
            const double ss = detail::lane_sum<double>(
                visit, [m](T x) { return (static_cast<double>(x) - m) * (static_cast<double>(x) - m); });
            const double dof = static_cast<double>(count - correction);
            return static_cast<compute_type_t<T>>(dof > 0 ? ss / dof
                                                          : std::numeric_limits<double>::quiet_NaN());
        });
}
template <expression E, std::size_t N>
auto var(const E& e, const index_t (&axes)[N], keep_dims_t, int correction = 1) {
    using T = value_type_of<E>;
    return detail::reduce_with<compute_type_t<T>, true>(
        e, axes, "var", [correction](auto& visit, index_t count) {
            const double m = detail::lane_sum<double>(visit, [](T x) { return static_cast<double>(x); }) /
                             static_cast<double>(count);
            const double ss = detail::lane_sum<double>(
                visit, [m](T x) { return (static_cast<double>(x) - m) * (static_cast<double>(x) - m); });
            const double dof = static_cast<double>(count - correction);
            return static_cast<compute_type_t<T>>(dof > 0 ? ss / dof
                                                          : std::numeric_limits<double>::quiet_NaN());
        });
}

// Index of the first maximum along one axis (a NaN counts as the maximum, as in torch.argmax).
template <expression E>
auto argmax(const E& e, index_t axis) {
    using T = value_type_of<E>;
    const index_t axes[1] = {axis};
    return detail::reduce_with<std::int64_t, false>(e, axes, "argmax", [](auto& visit, index_t count) {
        if (count == 0) {
            throw shape_error("argmax: reduction over an empty axis");
        }
        std::int64_t best = 0, i = 0;
        compute_type_t<T> best_value{};
        bool found_nan = false;
        visit([&](T x) {
            const compute_type_t<T> v = x;
            if (!found_nan && (i == 0 || detail::is_nan(v) || v > best_value)) {
                best = i;
                best_value = v;
                found_nan = detail::is_nan(v);
            }
            ++i;
        });
        return best;
    });
}

// Sum of every element (double accumulation for floats; lane order within fixed blocks, the blocks
// combined in order).
template <expression E>
auto sum(const E& e) {
    using T = value_type_of<E>;
    const auto in = detail::materialize(e);
    const Tensor<T, decltype(in)::rank> flat =
        in.is_contiguous() ? Tensor<T, decltype(in)::rank>() : in.contiguous();
    const T* p = in.is_contiguous() ? in.data() : flat.data();
    using Acc = detail::accumulate_t<T>;
    const Acc total = backend::deterministic_reduce(
        in.size(), 65536, Acc{0},
        [&](index_t b, index_t end) {
            // Lane order within the block: the additions of deterministic_transform_reduce_sum.
            backend::lane_accumulator<Acc> acc;
            const T* q = p + b;
            acc.add(end - b,
                    [q](index_t j) { return static_cast<Acc>(static_cast<compute_type_t<T>>(q[j])); });
            return acc.total();
        },
        [](Acc a, Acc b) { return a + b; });
    return static_cast<detail::sum_result_t<T>>(total);
}

template <expression E>
auto mean(const E& e) {
    using T = value_type_of<E>;
    static_assert(std::is_floating_point_v<compute_type_t<T>>,
                  "cinediff: mean needs a floating-point tensor");
    const index_t n = as_node(e).shape().empty() ? 1 : numel(as_node(e).shape());
    return static_cast<compute_type_t<T>>(static_cast<double>(sum(e)) / static_cast<double>(n));
}

// Cumulative sum along `axis` (torch.cumsum); floats accumulate in double.
template <expression E>
auto cumsum(const E& e, index_t axis) {
    using T = value_type_of<E>;
    const auto in = detail::materialize(e);
    constexpr std::size_t R = decltype(in)::rank;
    static_assert(R > 0, "cinediff: cumsum needs rank >= 1");
    const std::size_t a = normalize_axis(axis, R, "cumsum");
    using Out = detail::sum_result_t<T>;
    Tensor<Out, R> out(in.shape());
    const auto out_strides = out.strides();
    const index_t len = in.shape(a);
    const index_t lines = len == 0 ? 0 : in.size() / len;
    using Acc = detail::accumulate_t<T>;
    if (a + 1 < R && in.strides()[R - 1] == 1 && in.shape(R - 1) > 1) {
        // Lines that differ only in the (contiguous) last axis are scanned side by side, a block of
        // columns at a time: each line still adds in order along `a`, so results are those of the
        // line-by-line loop below, but the adds vectorise across columns.
        constexpr index_t block = 64;
        const index_t width = in.shape(R - 1);
        backend::parallel_for(lines / width, len * width, [&](index_t group) {
            index_t in_off = 0, out_off = 0;
            for (std::size_t d = R - 1, rest = static_cast<std::size_t>(group); d-- > 0;) {
                if (d == a) {
                    continue;
                }
                const auto i = static_cast<index_t>(rest % static_cast<std::size_t>(in.shape(d)));
                rest /= static_cast<std::size_t>(in.shape(d));
                in_off += i * in.strides()[d];
                out_off += i * out_strides[d];
            }
            for (index_t c0 = 0; c0 < width; c0 += block) {
                const index_t cw = std::min(block, width - c0);
                Acc acc[block] = {};
                for (index_t i = 0; i < len; ++i) {
                    const T* src = in.data() + in_off + i * in.strides()[a] + c0;
                    Out* dst = out.data() + out_off + i * out_strides[a] + c0;
                    for (index_t c = 0; c < cw; ++c) {
                        acc[c] += static_cast<Acc>(static_cast<compute_type_t<T>>(src[c]));
                        dst[c] = static_cast<Out>(acc[c]);
                    }
                }
            }
        });
        return out;
    }
    backend::parallel_for(lines, len, [&](index_t line) {
        index_t in_off = 0, out_off = 0;
        for (std::size_t d = R, rest = static_cast<std::size_t>(line); d-- > 0;) {
            if (d == a) {
                continue;
            }
            const auto i = static_cast<index_t>(rest % static_cast<std::size_t>(in.shape(d)));
            rest /= static_cast<std::size_t>(in.shape(d));
            in_off += i * in.strides()[d];
            out_off += i * out_strides[d];
        }
        Acc acc = 0;
        for (index_t i = 0; i < len; ++i) {
            acc += static_cast<Acc>(static_cast<compute_type_t<T>>(in.data()[in_off + i * in.strides()[a]]));
            out.data()[out_off + i * out_strides[a]] = static_cast<Out>(acc);
        }
    });
    return out;
}

} // namespace cinediff
