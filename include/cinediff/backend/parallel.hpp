#pragma once

#include <algorithm>
#include <vector>

#include <cinediff/config.hpp>
#include <cinediff/tensor/shape.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

// Where host kernels run: index-space launches over OpenMP. This layer knows nothing about
// tensors; it runs a functor over [0, n) in blocks. Work is split into blocks of a size that does
// not depend on the thread count, and each block's result depends only on its index range, so
// every kernel built on these functions gives bit-identical results for any OMP_NUM_THREADS.
namespace cinediff::backend {

// Below this many elements a launch runs on the calling thread: starting a parallel region costs
// more than the loop.
inline constexpr index_t parallel_grain = 32768;

inline int max_threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Calls fn(begin, end) for consecutive blocks covering [0, n).
template <class Fn>
void parallel_for_blocks(index_t n, index_t block, Fn&& fn) {
    if (n <= 0) {
        return;
    }
    block = std::max<index_t>(block, 1);
    const index_t blocks = (n + block - 1) / block;
    if (n < parallel_grain || blocks == 1) {
        for (index_t b = 0; b < blocks; ++b) {
            fn(b * block, std::min(n, (b + 1) * block));
        }
        return;
    }
    CINEDIFF_OMP(omp parallel for schedule(static))
    for (index_t b = 0; b < blocks; ++b) {
        fn(b * block, std::min(n, (b + 1) * block));
    }
}

// Calls fn(i) for every i in [0, n), in parallel when n is large; `cost` is a rough per-index
// weight (elements touched per index) used to decide whether to go parallel.
template <class Fn>
void parallel_for(index_t n, index_t cost, Fn&& fn) {
    if (n <= 0) {
        return;
    }
    if (n * std::max<index_t>(cost, 1) < parallel_grain || n == 1) {
        for (index_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    CINEDIFF_OMP(omp parallel for schedule(static))
    for (index_t i = 0; i < n; ++i) {
        fn(i);
    }
}

// Deterministic parallel reduction: block_value(begin, end) reduces one fixed-size block, and the
// block results are combined left to right. The block size is fixed, so the result is the same
// for every thread count.
template <class Acc, class BlockFn, class Combine>
Acc deterministic_reduce(index_t n, index_t block, Acc init, BlockFn&& block_value, Combine&& combine) {
    if (n <= 0) {
        return init;
    }
    const index_t blocks = (n + block - 1) / block;
    std::vector<Acc> partial(static_cast<std::size_t>(blocks), init);
    parallel_for(blocks, block, [&](index_t b) {
        partial[static_cast<std::size_t>(b)] = block_value(b * block, std::min(n, (b + 1) * block));
    });
    Acc acc = init;
    for (const Acc& p : partial) {
        acc = combine(acc, p);
    }
    return acc;
}

} // namespace cinediff::backend
