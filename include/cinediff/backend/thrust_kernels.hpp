#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/iterator/transform_output_iterator.h>
#include <thrust/memory.h>
#include <thrust/scan.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cinediff/backend/lane_sum.hpp>
#include <cinediff/config.hpp>
#include <cinediff/tensor/shape.hpp>

// Portable kernels: the Thrust path. Every function takes a Thrust execution policy, raw pointers
// and counts, and a functor written once with CINEDIFF_HOST_DEVICE. The same source runs
//   - on the host: thrust::host (CPP system, sequential), thrust::device (the device system, which
//     host builds set to OpenMP), thrust::omp::par, thrust::seq;
//   - on a GPU: thrust::device / thrust::cuda::par when the translation unit is compiled by nvcc
//     with THRUST_DEVICE_SYSTEM=CUDA; pointers must then point to device memory.
// This header includes only Thrust/CUB, the standard library and cinediff's std-only config.hpp,
// shape.hpp and lane_sum.hpp, so nvcc can compile it. The host executor in tensor/assign.hpp remains the
// default path for tensors; this one is for code that must also compile for the GPU.
//
// Determinism. thrust::reduce / transform_reduce on the OpenMP system split the range into
// omp_get_num_procs() intervals (CCCL 3.0), so floating-point sums depend on the processors the
// process may use (machine, cgroup, `taskset`), though not on OMP_NUM_THREADS; on CUDA they depend
// on the tiling and the GPU. deterministic_transform_reduce_sum() fixes the association instead:
// blocks of a fixed size, each summed sequentially by one call, block partials combined left to
// right on the host. Its result depends only on n, the block size and the values, for every
// thread count and machine; with block = deterministic_block it performs exactly the additions of
// cinediff::sum() (backend::deterministic_reduce). Host and GPU results of the same kernel may
// still differ in the last bits (device math library, FMA contraction by nvcc).
// Scans: the OpenMP system runs inclusive_scan sequentially (Thrust has no OpenMP scan), which is
// deterministic; CUDA's decoupled look-back scan is not guaranteed bitwise reproducible for floats.
namespace cinediff::backend {

// Block size of the deterministic reduction; equal to the one cinediff::sum uses on the host.
inline constexpr index_t deterministic_block = 65536;

namespace thrust_detail {

template <class T, class K>
struct flat_writer {
    T* out;
    K kernel;
    CINEDIFF_HOST_DEVICE void operator()(index_t i) const { out[i] = static_cast<T>(kernel[i]); }
};

template <class Acc, class F>
struct cast_to {
    F f;
    CINEDIFF_HOST_DEVICE Acc operator()(index_t i) const { return static_cast<Acc>(f(i)); }
};

template <class F>
struct shifted {
    const F* f;
    index_t begin;
    CINEDIFF_HOST_DEVICE auto operator()(index_t j) const { return (*f)(begin + j); }
};

template <class Acc, class F>
struct block_sum {
    F f;
    index_t n;
    index_t block;
    CINEDIFF_HOST_DEVICE Acc operator()(index_t b) const {
        const index_t begin = b * block;
        const index_t end = begin + block < n ? begin + block : n;
        lane_accumulator<Acc> acc;
        acc.add(end - begin, shifted<F>{&f, begin});
        return acc.total();
    }
};

template <class F>
using result_t = std::remove_cvref_t<std::invoke_result_t<const F&, index_t>>;

} // namespace thrust_detail

// Calls f(i) for every i in [0, n), in no particular order.
template <class Policy, class F>
void for_each_index(const Policy& policy, index_t n, F f) {
    if (n <= 0) {
        return;
    }
    thrust::for_each_n(policy, thrust::counting_iterator<index_t>(0), n, f);
}

// out[i] = static_cast<T>(kernel[i]) for i in [0, n). `kernel` is any trivially copyable functor
// with operator[](index_t), e.g. the flat kernel of an expression node:
//     const auto k = node.kernel(shape).flat();  // valid when node.flat_ok(shape)
//     evaluate_flat(thrust::device, out, numel(shape), k);
template <class Policy, class T, class K>
void evaluate_flat(const Policy& policy, T* out, index_t n, K kernel) {
    for_each_index(policy, n, thrust_detail::flat_writer<T, K>{out, kernel});
}

// Sum of f(i) over [0, n), accumulated in Acc (f's result type unless given). Fast, but for
// floating-point Acc not bitwise reproducible across machines (see the note above).
template <class Policy, class F, class Acc = thrust_detail::result_t<F>>
Acc transform_reduce_sum(const Policy& policy, index_t n, F f, Acc init = Acc(0)) {
    if (n <= 0) {
        return init;
    }
    return thrust::transform_reduce(policy, thrust::counting_iterator<index_t>(0),
                                    thrust::counting_iterator<index_t>(n), thrust_detail::cast_to<Acc, F>{f},
                                    init, thrust::plus<Acc>());
}

// Sum of f(i) over [0, n) with a fixed association: ((init + s_0) + s_1) + ..., where s_b is the
// sum of f over block b = [b * block, (b + 1) * block) in the lane order of lane_sum.hpp (the
// order every cinediff sum uses; see docs/numerics.md, "Summation order"). Blocks run in
// parallel; the result is identical for every thread count.
template <class Policy, class F, class Acc = thrust_detail::result_t<F>>
Acc deterministic_transform_reduce_sum(const Policy& policy, index_t n, F f, Acc init = Acc(0),
                                       index_t block = deterministic_block) {
    if (n <= 0) {
        return init;
    }
    block = block < 1 ? 1 : block;
    const index_t blocks = (n + block - 1) / block;
    std::vector<Acc> host_partial(static_cast<std::size_t>(blocks));
    auto buffer = thrust::get_temporary_buffer<Acc>(policy, blocks);
    thrust::transform(policy, thrust::counting_iterator<index_t>(0),
                      thrust::counting_iterator<index_t>(blocks), buffer.first,
                      thrust_detail::block_sum<Acc, F>{f, n, block});
    // No policy: Thrust dispatches on the buffer's system and copies device -> host if needed.
    thrust::copy(buffer.first, buffer.first + blocks, host_partial.begin());
    thrust::return_temporary_buffer(policy, buffer.first, buffer.second);
    Acc acc = init;
    for (const Acc& p : host_partial) {
        acc = acc + p;
    }
    return acc;
}

// out[i] = in[0] op in[1] op ... op in[i]; `op` must be associative (not necessarily commutative).
template <class Policy, class In, class Out, class Op>
void inclusive_scan(const Policy& policy, In in, Out out, index_t n, Op op) {
    if (n <= 0) {
        return;
    }
    thrust::inclusive_scan(policy, in, in + n, out, op);
}

// ---- first-order linear recurrence h_t = a_t h_{t-1} + b_t as an associative scan ---------------

// (a, b) stands for the affine map h -> a h + b.
template <class T>
struct linear_recurrence_pair {
    T a;
    T b;
};

// Composition of affine maps, left applied first: h -> r.a (l.a h + l.b) + r.b. Associative, so
// an inclusive scan over (a_t, b_t) gives at t the map from h_{-1} to h_t; with h_{-1} = 0, h_t
// is the b component.
template <class T>
struct linear_recurrence_op {
    using pair = linear_recurrence_pair<T>;
    CINEDIFF_HOST_DEVICE pair operator()(pair l, pair r) const { return {l.a * r.a, r.a * l.b + r.b}; }
};

namespace thrust_detail {

// Element t of the scan input; h0 is folded into t = 0 as b_0' = a_0 h0 + b_0.
template <class T>
struct recurrence_input {
    const T* a;
    const T* b;
    T h0;
    CINEDIFF_HOST_DEVICE linear_recurrence_pair<T> operator()(index_t t) const {
        return {a[t], t == 0 ? a[0] * h0 + b[0] : b[t]};
    }
};

template <class T>
struct recurrence_output {
    CINEDIFF_HOST_DEVICE T operator()(const linear_recurrence_pair<T>& p) const { return p.b; }
};

} // namespace thrust_detail

// h[t] = a[t] * h[t-1] + b[t] for t in [0, n), with h[-1] = h0, as one parallel scan. a, b and h
// live in the policy's memory (device memory under CUDA); h must not overlap a or b.
template <class Policy, class T>
void linear_recurrence_scan(const Policy& policy, const T* a, const T* b, T* h, index_t n,
                            std::type_identity_t<T> h0 = T(0)) {
    if (n <= 0) {
        return;
    }
    auto in = thrust::make_transform_iterator(thrust::counting_iterator<index_t>(0),
                                              thrust_detail::recurrence_input<T>{a, b, h0});
    auto out = thrust::make_transform_output_iterator(h, thrust_detail::recurrence_output<T>{});
    thrust::inclusive_scan(policy, in, in + n, out, linear_recurrence_op<T>{});
}

// The sequential loop the scan replaces (reference for tests; host memory).
template <class T>
CINEDIFF_HOST_DEVICE void linear_recurrence_reference(const T* a, const T* b, T* h, index_t n,
                                                      std::type_identity_t<T> h0 = T(0)) {
    T state = h0;
    for (index_t t = 0; t < n; ++t) {
        state = a[t] * state + b[t];
        h[t] = state;
    }
}

} // namespace cinediff::backend
