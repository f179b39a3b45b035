#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <boost/test/unit_test.hpp>

#include <cinediff/backend/thrust_kernels.hpp>
#include <cinediff/tensor/reduce.hpp>
#include <cinediff/tensor/tensor.hpp>

#include "test_util.hpp"

// The Thrust path on the host: thrust::host is the sequential CPP system, thrust::device is the
// device system, which host builds set to OpenMP.
using namespace cinediff;
using cinediff::test::distinct;

namespace {

// Runs fn with the OpenMP thread count set to `threads`, then restores it.
template <class Fn>
auto with_threads([[maybe_unused]] int threads, Fn&& fn) {
#if defined(_OPENMP)
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto result = fn();
    omp_set_num_threads(saved);
    return result;
#else
    return fn();
#endif
}

template <class T>
bool bitwise_equal(const T& x, const T& y) {
    return std::memcmp(&x, &y, sizeof(T)) == 0;
}

std::vector<double> irregular(index_t n, double seed, double offset = 0.0, double scale = 1.0) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
        v[static_cast<std::size_t>(i)] = offset + scale * std::sin(0.37 * static_cast<double>(i) + seed);
    }
    return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(thrust_kernels)

BOOST_AUTO_TEST_CASE(evaluate_flat_matches_the_host_executor) {
    // Large enough for both the host executor and Thrust's OpenMP system to go parallel.
    const shape_t<4> shape{4, 3, 64, 128};
    const auto a = distinct<float, 4>(shape, 0.1);
    const auto b = distinct<float, 4>(shape, 0.7, 3.0);
    const auto e = a * sigmoid(b) + 1.0f;
    const Tensor<float, 4> expected = e;

    BOOST_REQUIRE(e.flat_ok(shape));
    const auto kernel = e.kernel(shape).flat();
    static_assert(std::is_trivially_copy_constructible_v<decltype(kernel)>);
    static_assert(std::is_trivially_destructible_v<decltype(kernel)>);

    Tensor<float, 4> on_device_system(shape);
    Tensor<float, 4> on_host_system(shape);
    backend::evaluate_flat(thrust::device, on_device_system.data(), numel(shape), kernel);
    backend::evaluate_flat(thrust::host, on_host_system.data(), numel(shape), kernel);
    const auto bytes = static_cast<std::size_t>(numel(shape)) * sizeof(float);
    BOOST_TEST(std::memcmp(expected.data(), on_device_system.data(), bytes) == 0);
    BOOST_TEST(std::memcmp(expected.data(), on_host_system.data(), bytes) == 0);
}

BOOST_AUTO_TEST_CASE(evaluate_flat_over_raw_pointer_views_and_casts) {
    // Views over caller-owned memory (what device code builds) and a converting destination.
    std::vector<double> x = irregular(1000, 0.3);
    std::vector<double> y = irregular(1000, 1.1);
    const TensorView<double, 2> vx(x.data(), {10, 100});
    const TensorView<double, 2> vy(y.data(), {10, 100});
    const auto e = where(vx > vy, vx * 2.0, exp(vy) - 1.0);
    BOOST_REQUIRE(e.flat_ok(vx.shape()));
    std::vector<float> out(1000);
    backend::evaluate_flat(thrust::device, out.data(), 1000, e.kernel(vx.shape()).flat());
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double want = x[i] > y[i] ? x[i] * 2.0 : std::exp(y[i]) - 1.0;
        BOOST_TEST(out[i] == static_cast<float>(want));
    }
}

BOOST_AUTO_TEST_CASE(for_each_index_visits_every_index_once) {
    std::vector<int> hits(100000, 0);
    int* p = hits.data();
    backend::for_each_index(thrust::device, 100000, [p](index_t i) { p[i] += 1; });
    BOOST_TEST(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
    backend::for_each_index(thrust::host, 0, [p](index_t) { p[0] = 5; });
    BOOST_TEST(hits[0] == 1);
}

BOOST_AUTO_TEST_CASE(reductions_match_a_sequential_loop) {
    const index_t n = 250000;
    // Integers: exact for every association.
    const auto square = [](index_t i) { return i * i % 1009; };
    std::int64_t expected = 0;
    for (index_t i = 0; i < n; ++i) {
        expected += square(i);
    }
    BOOST_TEST(backend::transform_reduce_sum(thrust::device, n, square) == expected);
    BOOST_TEST(backend::transform_reduce_sum(thrust::host, n, square) == expected);
    BOOST_TEST(backend::deterministic_transform_reduce_sum(thrust::device, n, square) == expected);
    BOOST_TEST(backend::deterministic_transform_reduce_sum(thrust::device, n, square, std::int64_t{7},
                                                           1000) == expected + 7);

    // Floats accumulated in double: equal up to rounding.
    const std::vector<double> v = irregular(n, 0.5);
    const double* p = v.data();
    const auto value = [p](index_t i) { return static_cast<float>(p[i]); };
    double sequential = 0;
    for (index_t i = 0; i < n; ++i) {
        sequential += static_cast<double>(value(i));
    }
    const double fast = backend::transform_reduce_sum(thrust::device, n, value, 0.0);
    const double fixed = backend::deterministic_transform_reduce_sum(thrust::device, n, value, 0.0);
    BOOST_TEST(fast == sequential, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(fixed == sequential, boost::test_tools::tolerance(1e-9));

    // Empty ranges give init.
    BOOST_TEST(backend::transform_reduce_sum(thrust::device, 0, value, 2.5f) == 2.5f);
    BOOST_TEST(backend::deterministic_transform_reduce_sum(thrust::device, 0, value, 2.5f) == 2.5f);
}

BOOST_AUTO_TEST_CASE(deterministic_reduction_is_identical_for_every_thread_count) {
    const index_t n = 1000003;
    const Tensor<double, 1> t = distinct<double, 1>({n}, 0.25, 1e3);
    const double* p = t.data();
    const auto value = [p](index_t i) { return p[i] * p[i] - 0.5 * p[i]; };
    const auto run = [&](index_t block) {
        return [&, block] {
            return backend::deterministic_transform_reduce_sum(thrust::device, n, value, 0.0, block);
        };
    };
    for (const index_t block : {index_t{1000}, backend::deterministic_block}) {
        const double one = with_threads(1, run(block));
        const double two = with_threads(2, run(block));
        const double three = with_threads(3, run(block));
        BOOST_TEST(bitwise_equal(one, two));
        BOOST_TEST(bitwise_equal(one, three));
        BOOST_TEST(bitwise_equal(
            one, backend::deterministic_transform_reduce_sum(thrust::host, n, value, 0.0, block)));
    }
    // With the default block the additions are exactly those of cinediff::sum.
    const auto identity = [p](index_t i) { return p[i]; };
    const double via_thrust = with_threads(
        2, [&] { return backend::deterministic_transform_reduce_sum(thrust::device, n, identity); });
    BOOST_TEST(bitwise_equal(via_thrust, static_cast<double>(sum(t))));
}

BOOST_AUTO_TEST_CASE(inclusive_scan_matches_a_sequential_scan) {
    const index_t n = 100000;
    std::vector<std::int64_t> in(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
        in[static_cast<std::size_t>(i)] = (i * 7919) % 1013 - 500;
    }
    std::vector<std::int64_t> expected(in.size());
    std::partial_sum(in.begin(), in.end(), expected.begin());
    std::vector<std::int64_t> out(in.size());
    backend::inclusive_scan(thrust::device, in.data(), out.data(), n, thrust::plus<std::int64_t>());
    BOOST_TEST(out == expected, boost::test_tools::per_element());

    const std::vector<double> x = irregular(n, 0.9);
    std::vector<double> seq(x.size());
    std::vector<double> par(x.size());
    std::partial_sum(x.begin(), x.end(), seq.begin());
    backend::inclusive_scan(thrust::device, x.data(), par.data(), n, thrust::plus<double>());
    for (std::size_t i = 0; i < x.size(); i += 97) {
        BOOST_TEST(par[i] == seq[i], boost::test_tools::tolerance(1e-9));
    }
}

BOOST_AUTO_TEST_CASE(linear_recurrence_op_is_associative_composition) {
    using pair = backend::linear_recurrence_pair<double>;
    const backend::linear_recurrence_op<double> op;
    const pair p{0.5, 1.0}, q{2.0, -3.0}, r{-1.5, 0.25};
    const pair left = op(op(p, q), r);
    const pair right = op(p, op(q, r));
    BOOST_TEST(left.a == right.a);
    BOOST_TEST(left.b == right.b);
    // Applying op(p, q) to h equals applying p, then q.
    const double h = 0.75;
    const pair pq = op(p, q);
    BOOST_TEST(pq.a * h + pq.b == q.a * (p.a * h + p.b) + q.b);
}

BOOST_AUTO_TEST_CASE(linear_recurrence_scan_matches_the_sequential_loop) {
    for (const index_t n : {index_t{1}, index_t{2}, index_t{17}, index_t{100000}}) {
        const std::vector<double> a = irregular(n, 0.2, 0.75, 0.2); // |a| < 1: a decaying state
        const std::vector<double> b = irregular(n, 1.3);
        for (const double h0 : {0.0, 2.5}) {
            std::vector<double> expected(a.size());
            std::vector<double> on_device_system(a.size());
            std::vector<double> on_host_system(a.size());
            backend::linear_recurrence_reference(a.data(), b.data(), expected.data(), n, h0);
            backend::linear_recurrence_scan(thrust::device, a.data(), b.data(), on_device_system.data(), n,
                                            h0);
            backend::linear_recurrence_scan(thrust::host, a.data(), b.data(), on_host_system.data(), n, h0);
            for (std::size_t t = 0; t < a.size(); ++t) {
                BOOST_TEST(on_device_system[t] == expected[t], boost::test_tools::tolerance(1e-12));
                BOOST_TEST(on_host_system[t] == expected[t], boost::test_tools::tolerance(1e-12));
            }
        }
    }
    // The pairwise scan itself: the a-component is the running product.
    const std::vector<double> a = irregular(50, 0.4, 0.9, 0.05);
    const std::vector<double> b = irregular(50, 2.0);
    std::vector<backend::linear_recurrence_pair<double>> pairs(50), scanned(50);
    for (std::size_t t = 0; t < 50; ++t) {
        pairs[t] = {a[t], b[t]};
    }
    backend::inclusive_scan(thrust::device, pairs.data(), scanned.data(), 50,
                            backend::linear_recurrence_op<double>{});
    double product = 1.0;
    double h = 0.0;
    for (std::size_t t = 0; t < 50; ++t) {
        product *= a[t];
        h = a[t] * h + b[t];
        BOOST_TEST(scanned[t].a == product, boost::test_tools::tolerance(1e-13));
        BOOST_TEST(scanned[t].b == h, boost::test_tools::tolerance(1e-13));
    }
}

BOOST_AUTO_TEST_CASE(float_recurrence_and_empty_ranges) {
    const index_t n = 4096;
    std::vector<float> a(static_cast<std::size_t>(n)), b(a.size()), h(a.size()), ref(a.size());
    for (index_t t = 0; t < n; ++t) {
        a[static_cast<std::size_t>(t)] =
            0.9f + 0.05f * static_cast<float>(std::sin(0.1 * static_cast<double>(t)));
        b[static_cast<std::size_t>(t)] = static_cast<float>(std::cos(0.37 * static_cast<double>(t)));
    }
    backend::linear_recurrence_reference(a.data(), b.data(), ref.data(), n, 1.0);
    backend::linear_recurrence_scan(thrust::device, a.data(), b.data(), h.data(), n, 1.0);
    for (std::size_t t = 0; t < h.size(); ++t) {
        BOOST_TEST(h[t] == ref[t], boost::test_tools::tolerance(1e-4f));
    }
    float untouched = 42.0f;
    backend::linear_recurrence_scan(thrust::device, a.data(), b.data(), &untouched, 0);
    backend::inclusive_scan(thrust::device, a.data(), &untouched, 0, thrust::plus<float>());
    BOOST_TEST(untouched == 42.0f);
}

BOOST_AUTO_TEST_SUITE_END()
