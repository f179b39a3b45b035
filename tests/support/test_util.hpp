#pragma once

// Helpers shared by the unit tests: deterministic fills and element-wise comparisons.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::test {

// Distinct, irregular values: element i gets sin(0.37 i + seed) * scale.
template <class T, std::size_t R>
Tensor<T, R> distinct(const shape_t<R>& shape, double seed = 0.0, double scale = 1.0) {
    Tensor<T, R> t(shape);
    for (index_t i = 0; i < t.size(); ++i) {
        t.data()[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i) + seed) * scale);
    }
    return t;
}

// Calls fn(index array) for every multi-index of `shape` in row-major order.
template <std::size_t R, class Fn>
void for_each_index(const shape_t<R>& shape, Fn&& fn) {
    if (numel(shape) == 0) {
        return;
    }
    shape_t<R> idx{};
    for (index_t n = 0; n < numel(shape); ++n) {
        fn(idx);
        for (std::size_t d = R; d-- > 0;) {
            if (++idx[d] < shape[d]) {
                break;
            }
            idx[d] = 0;
        }
    }
}

template <class V, std::size_t R>
auto element(const V& v, const shape_t<R>& idx) {
    return std::apply([&](auto... i) { return v(i...); }, idx);
}

// max |a - b| over all elements of two same-shaped views or tensors.
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
    BOOST_REQUIRE(a.shape() == b.shape());
    double m = 0;
    const auto va = a.view();
    const auto vb = b.view();
    for_each_index(a.shape(), [&](const auto& idx) {
        const double d =
            std::abs(static_cast<double>(element(va, idx)) - static_cast<double>(element(vb, idx)));
        m = std::isnan(d) ? INFINITY : std::max(m, d);
    });
    return m;
}

} // namespace cinediff::test
