// The portable kernels compiled by nvcc with THRUST_DEVICE_SYSTEM=CUDA: the same thrust_kernels.hpp
// functions and cinediff expression kernels the host tests run, here over device memory. Without
// a GPU the program exits 77, which CTest reports as skipped; building it is the compile check.
//
// Only device-visible headers are included: the expression nodes and functors, the operators that
// build them, and the Thrust kernels. No tensor.hpp (host executor, OpenMP), no Eigen.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>
#include <vector>

#include <cinediff/backend/thrust_kernels.hpp>
#include <cinediff/tensor/operators.hpp>

using namespace cinediff;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

void cuda_check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) {
        std::fprintf(stderr, "CUDA error in %s: %s\n", what, cudaGetErrorString(err));
        std::exit(1);
    }
}

// A device buffer holding a copy of `host` (or `n` uninitialised elements).
template <class T>
class device_buffer {
  public:
    explicit device_buffer(std::size_t n) : m_n(n) {
        cuda_check(cudaMalloc(&m_p, n * sizeof(T) + 1), "cudaMalloc");
    }
    explicit device_buffer(const std::vector<T>& host) : device_buffer(host.size()) {
        cuda_check(cudaMemcpy(m_p, host.data(), m_n * sizeof(T), cudaMemcpyHostToDevice), "upload");
    }
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    ~device_buffer() { cudaFree(m_p); }
    T* get() const { return m_p; }
    std::vector<T> download() const {
        std::vector<T> host(m_n);
        cuda_check(cudaMemcpy(host.data(), m_p, m_n * sizeof(T), cudaMemcpyDeviceToHost), "download");
        return host;
    }

  private:
    T* m_p = nullptr;
    std::size_t m_n;
};

template <class T>
std::vector<T> irregular(index_t n, double seed, double offset = 0.0, double scale = 1.0) {
    std::vector<T> v(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
        v[static_cast<std::size_t>(i)] =
            static_cast<T>(offset + scale * std::sin(0.37 * static_cast<double>(i) + seed));
    }
    return v;
}

bool close(double x, double y, double rel) {
    return std::abs(x - y) <= rel * (1.0 + std::abs(y));
}

// Device functors (named types: nvcc needs no extended lambdas for them).
struct read_element {
    const double* p;
    CINEDIFF_HOST_DEVICE double operator()(index_t i) const { return p[i] * p[i] - 0.5 * p[i]; }
};

struct modular_square {
    CINEDIFF_HOST_DEVICE std::int64_t operator()(index_t i) const { return i * i % 1009; }
};

// The fused expression a * sigmoid(b) + 1 over contiguous views of `a` and `b`, evaluated into out.
template <class Policy>
void fused(const Policy& policy, const float* a, const float* b, float* out, const shape_t<2>& shape) {
    const TensorView<const float, 2> va(a, shape);
    const TensorView<const float, 2> vb(b, shape);
    const auto e = va * sigmoid(vb) + 1.0f;
    backend::evaluate_flat(policy, out, numel(shape), e.kernel(shape).flat());
}

void test_expression_kernel() {
    const shape_t<2> shape{300, 1000};
    const index_t n = numel(shape);
    const auto a = irregular<float>(n, 0.1);
    const auto b = irregular<float>(n, 0.7, 0.0, 3.0);
    std::vector<float> on_host(a.size());
    fused(thrust::host, a.data(), b.data(), on_host.data(), shape);

    const device_buffer<float> da(a), db(b);
    device_buffer<float> dout(a.size());
    fused(thrust::device, da.get(), db.get(), dout.get(), shape);
    const auto on_device = dout.download();
    bool ok = true;
    for (std::size_t i = 0; i < on_host.size(); ++i) {
        ok = ok && close(on_device[i], on_host[i], 1e-6);
    }
    check(ok, "evaluate_flat of a * sigmoid(b) + 1 on the GPU matches the host");
}

void test_reductions() {
    const index_t n = 1000003;
    const auto x = irregular<double>(n, 0.25, 0.0, 1e3);
    const device_buffer<double> dx(x);
    const read_element on_host{x.data()};
    const read_element on_device{dx.get()};

    const double host_fixed = backend::deterministic_transform_reduce_sum(thrust::host, n, on_host);
    const double device_fixed = backend::deterministic_transform_reduce_sum(thrust::device, n, on_device);
    const double device_fixed_again =
        backend::deterministic_transform_reduce_sum(thrust::device, n, on_device);
    const double device_fast = backend::transform_reduce_sum(thrust::device, n, on_device);
    check(close(device_fixed, host_fixed, 1e-12), "deterministic sum on the GPU matches the host");
    check(std::memcmp(&device_fixed, &device_fixed_again, sizeof(double)) == 0,
          "deterministic sum on the GPU is reproducible bit for bit");
    check(close(device_fast, host_fixed, 1e-9), "transform_reduce_sum on the GPU matches the host");

    std::int64_t expected = 0;
    for (index_t i = 0; i < n; ++i) {
        expected += modular_square{}(i);
    }
    check(backend::transform_reduce_sum(thrust::device, n, modular_square{}) == expected,
          "integer transform_reduce_sum on the GPU is exact");
}

void test_scans() {
    const index_t n = 1 << 20;
    std::vector<std::int64_t> in(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
        in[static_cast<std::size_t>(i)] = (i * 7919) % 1013 - 500;
    }
    std::vector<std::int64_t> expected(in.size());
    backend::inclusive_scan(thrust::host, in.data(), expected.data(), n, thrust::plus<std::int64_t>());
    const device_buffer<std::int64_t> din(in);
    device_buffer<std::int64_t> dout(in.size());
    backend::inclusive_scan(thrust::device, din.get(), dout.get(), n, thrust::plus<std::int64_t>());
    check(dout.download() == expected, "integer inclusive_scan on the GPU is exact");

    for (const double h0 : {0.0, 2.5}) {
        const auto a = irregular<double>(n, 0.2, 0.75, 0.2);
        const auto b = irregular<double>(n, 1.3);
        std::vector<double> reference(a.size());
        backend::linear_recurrence_reference(a.data(), b.data(), reference.data(), n, h0);
        const device_buffer<double> da(a), db(b);
        device_buffer<double> dh(a.size());
        backend::linear_recurrence_scan(thrust::device, da.get(), db.get(), dh.get(), n, h0);
        const auto h = dh.download();
        bool ok = true;
        for (std::size_t t = 0; t < h.size(); ++t) {
            ok = ok && close(h[t], reference[t], 1e-12);
        }
        check(ok, "linear_recurrence_scan on the GPU matches the sequential loop");
    }
}

} // namespace

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("test_cuda_kernels: no CUDA device; compiled only, skipping\n");
        return 77;
    }
    test_expression_kernel();
    test_reductions();
    test_scans();
    cuda_check(cudaDeviceSynchronize(), "synchronize");
    if (failures != 0) {
        std::fprintf(stderr, "test_cuda_kernels: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("test_cuda_kernels: all checks passed\n");
    return 0;
}
