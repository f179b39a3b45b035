#pragma once

#include <algorithm>

#include <Eigen/Core>

#include <cinediff/tensor/shape.hpp>

// Host GEMM through Eigen: C = alpha * op(A) * op(B) + beta * C on row-major matrices with leading
// dimensions (row strides) in elements, bit-identical for every thread count.
//
// Eigen parallelises over blocks of C with OpenMP and never splits the inner dimension k across
// threads, but it chooses its cache block along k from the thread count, so for k beyond a few
// hundred an element of C is summed in a different order with 1 and with 2 threads. gemm() cuts k
// into fixed chunks no longer than the smallest block Eigen uses in any mode and accumulates them
// into C in order (about 5 % slower than one raw Eigen call on 1024^2; tests/unit/nn/linear_test
// checks the bits).
namespace cinediff::backend {

enum class transpose : bool { no = false, yes = true };

namespace detail {

// The longest inner dimension Eigen computes as one cache block for every thread count.
template <class T>
index_t gemm_depth_chunk() {
    static const index_t chunk = [] {
        index_t best = index_t(1) << 20;
        for (index_t threads : {1, 2, 3, 4, 8, 16, 32, 64, 128}) {
            Eigen::Index k = Eigen::Index(1) << 20, m = Eigen::Index(1) << 12, n = Eigen::Index(1) << 12;
            Eigen::internal::computeProductBlockingSizes<T, T, 1>(k, m, n, Eigen::Index(threads));
            best = std::min<index_t>(best, static_cast<index_t>(k));
        }
        return std::max<index_t>(best, 8);
    }();
    return chunk;
}

// One raw Eigen product (not thread-count deterministic for large k; use gemm()).
template <class T>
void eigen_gemm(transpose trans_a, transpose trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
                index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc) {
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

} // namespace detail

template <class T>
void gemm(transpose trans_a, transpose trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
          index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc) {
    const index_t chunk = detail::gemm_depth_chunk<T>();
    if (k <= chunk) {
        detail::eigen_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    for (index_t k0 = 0; k0 < k; k0 += chunk) {
        const index_t kk = std::min(chunk, k - k0);
        const T* a0 = trans_a == transpose::no ? a + k0 : a + k0 * lda;
        const T* b0 = trans_b == transpose::no ? b + k0 * ldb : b + k0;
        detail::eigen_gemm(trans_a, trans_b, m, n, kk, alpha, a0, lda, b0, ldb, k0 == 0 ? beta : T(1), c,
                           ldc);
    }
}

} // namespace cinediff::backend
