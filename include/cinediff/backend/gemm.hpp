#pragma once

#include <cinediff/tensor/shape.hpp>

#include <Eigen/Core>

// Host GEMM through Eigen: C = alpha * op(A) * op(B) + beta * C on row-major matrices with leading
// dimensions (row strides) in elements. Eigen parallelises over blocks of C with OpenMP, never
// over the inner dimension, so every element of C is summed in the same order for any thread
// count (tests/unit/backend check this).
namespace cinediff::backend {

enum class transpose : bool { no = false, yes = true };

template <class T>
void gemm(transpose trans_a, transpose trans_b, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
          const T* b, index_t ldb, T beta, T* c, index_t ldc) {
    using stride = Eigen::OuterStride<Eigen::Dynamic>;
    using row_major = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using col_major = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
    Eigen::Map<row_major, 0, stride> cm(c, m, n, stride(ldc));
    if (m == 0 || n == 0) {
        return;
    }
    if (k == 0 || alpha == T(0)) {
        if (beta == T(0)) {
            cm.setZero();
        } else {
            cm *= beta;
        }
        return;
    }
    // A row-major (m x k) matrix with row stride lda is a column-major (k x m) one: its transpose.
    auto run = [&](const auto& am, const auto& bm) {
        if (beta == T(0)) {
            cm.noalias() = alpha * am * bm;
        } else {
            cm *= beta;
            cm.noalias() += alpha * am * bm;
        }
    };
    const bool ta = trans_a == transpose::yes;
    const bool tb = trans_b == transpose::yes;
    if (!ta && !tb) {
        run(Eigen::Map<const row_major, 0, stride>(a, m, k, stride(lda)),
            Eigen::Map<const row_major, 0, stride>(b, k, n, stride(ldb)));
    } else if (ta && !tb) {
        run(Eigen::Map<const col_major, 0, stride>(a, m, k, stride(lda)),
            Eigen::Map<const row_major, 0, stride>(b, k, n, stride(ldb)));
    } else if (!ta && tb) {
        run(Eigen::Map<const row_major, 0, stride>(a, m, k, stride(lda)),
            Eigen::Map<const col_major, 0, stride>(b, k, n, stride(ldb)));
    } else {
        run(Eigen::Map<const col_major, 0, stride>(a, m, k, stride(lda)),
            Eigen::Map<const col_major, 0, stride>(b, k, n, stride(ldb)));
    }
}

} // namespace cinediff::backend
