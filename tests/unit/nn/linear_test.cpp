#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/linear.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cstring>
#include <vector>

using namespace cinediff;
using autograd::Variable;
namespace F = cinediff::nn::functional;
namespace K = cinediff::nn::kernels;
using cinediff::test::distinct;

namespace {

using json = nlohmann::json;

template <class T>
double& max_error() {
    static double e = 0;
    return e;
}

template <class T, std::size_t R>
void compare(const Tensor<T, R>& got, const Tensor<T, R>& ref, const std::string& what) {
    cinediff::test::check_close(got, ref, what);
    max_error<T>() = std::max(max_error<T>(), cinediff::test::max_abs_diff(got, ref));
}

template <class T, std::size_t R>
void linear_case(const cinediff::test::golden_file& f, const std::string& name, bool has_bias) {
    Variable<T, R> x(f.get<T, R>(name + ".input"), true);
    Variable<T, 2> w(f.get<T, 2>(name + ".weight"), true);
    std::optional<Variable<T, 1>> b;
    if (has_bias) {
        b.emplace(f.get<T, 1>(name + ".bias"), true);
    }
    auto y = F::linear(x, w, b);
    compare(y.value(), f.get<T, R>(name + ".output"), name + ".output");
    y.backward(f.get<T, R>(name + ".grad_output"));
    compare(x.grad(), f.get<T, R>(name + ".grad_input"), name + ".grad_input");
    compare(w.grad(), f.get<T, 2>(name + ".grad_weight"), name + ".grad_weight");
    if (b) {
        compare(b->grad(), f.get<T, 1>(name + ".grad_bias"), name + ".grad_bias");
    }
}

template <class T, std::size_t RA, std::size_t RB>
void matmul_case(const cinediff::test::golden_file& f, const std::string& name, bool is_bmm) {
    constexpr std::size_t R = RA > RB ? RA : RB;
    Variable<T, RA> a(f.get<T, RA>(name + ".input"), true);
    Variable<T, RB> b(f.get<T, RB>(name + ".other"), true);
    Variable<T, R> y;
    if constexpr (RA == 3 && RB == 3) {
        y = is_bmm ? F::bmm(a, b) : F::matmul(a, b);
    } else {
        y = F::matmul(a, b);
    }
    compare(y.value(), f.get<T, R>(name + ".output"), name + ".output");
    y.backward(f.get<T, R>(name + ".grad_output"));
    compare(a.grad(), f.get<T, RA>(name + ".grad_input"), name + ".grad_input");
    compare(b.grad(), f.get<T, RB>(name + ".grad_other"), name + ".grad_other");
}

void set_threads([[maybe_unused]] int n) {
#if defined(_OPENMP)
    omp_set_num_threads(n);
#endif
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0;
}

template <class T, std::size_t R>
bool bit_identical(const Tensor<T, R>& a, const Tensor<T, R>& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_linear)

BOOST_AUTO_TEST_CASE(golden_against_torch) {
    const cinediff::test::golden_file f("nn/linear.safetensors");
    const auto cases = f.cases();
    BOOST_TEST(cases.size() == 10u);
    for (const auto& name : cases) {
        const json a = json::parse(f.metadata(name));
        const std::string op = a["op"];
        // Ranks are static, so each case name selects its instantiation.
        BOOST_TEST_CONTEXT(name << " " << a.dump()) {
            if (name == "lin_3d_f32") {
                linear_case<float, 3>(f, name, true);
            } else if (name == "lin_2d_nobias_f64") {
                linear_case<double, 2>(f, name, false);
            } else if (name == "lin_1d_f32") {
                linear_case<float, 1>(f, name, true);
            } else if (name == "lin_4d_f64") {
                linear_case<double, 4>(f, name, true);
            } else if (name == "mm_2x2_f32") {
                matmul_case<float, 2, 2>(f, name, false);
            } else if (name == "mm_3x2_f64") {
                matmul_case<double, 3, 2>(f, name, false);
            } else if (name == "mm_4x3_f32") {
                matmul_case<float, 4, 3>(f, name, false);
            } else if (name == "mm_2x4_f64") {
                matmul_case<double, 2, 4>(f, name, false);
            } else if (name == "bmm_f32") {
                matmul_case<float, 3, 3>(f, name, true);
            } else if (name == "bmm_f64") {
                matmul_case<double, 3, 3>(f, name, true);
            } else {
                BOOST_ERROR("unexpected case " << name << " (" << op << ")");
            }
        }
    }
    BOOST_TEST_MESSAGE("linear/matmul golden: max |error| float32 " << max_error<float>() << ", float64 "
                                                                    << max_error<double>());
}

BOOST_AUTO_TEST_CASE(gradcheck_linear_matmul_bmm) {
    using V1 = Variable<double, 1>;
    using V2 = Variable<double, 2>;
    using V3 = Variable<double, 3>;
    using V4 = Variable<double, 4>;
    auto check = [](const char* name, const autograd::gradcheck_result& r) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check("linear",
          autograd::gradcheck([](const V3& x, const V2& w, const V1& b) { return F::linear(x, w, b); },
                              std::make_tuple(V3(distinct<double, 3>({2, 3, 4}), true),
                                              V2(distinct<double, 2>({3, 4}, 1.0), true),
                                              V1(distinct<double, 1>({3}, 2.0), true))));
    check("matmul_broadcast",
          autograd::gradcheck([](const V4& a, const V3& b) { return F::matmul(a, b); },
                              std::make_tuple(V4(distinct<double, 4>({2, 1, 3, 4}), true),
                                              V3(distinct<double, 3>({3, 4, 2}, 1.0), true))));
    check("bmm", autograd::gradcheck([](const V3& a, const V3& b) { return F::bmm(a, b); },
                                     std::make_tuple(V3(distinct<double, 3>({2, 3, 4}), true),
                                                     V3(distinct<double, 3>({2, 4, 2}, 1.0), true))));
}

BOOST_AUTO_TEST_CASE(bad_shapes_name_the_op_and_values) {
    auto message_of = [](auto&& fn) {
        try {
            fn();
        } catch (const shape_error& e) {
            return std::string(e.what());
        }
        return std::string("(no exception)");
    };
    auto contains = [](const std::string& text, const std::string& part) {
        BOOST_TEST(text.find(part) != std::string::npos, "expected '" << part << "' in: " << text);
    };
    Variable<float, 2> x(Tensor<float, 2>({3, 5}));
    contains(message_of([&] {
                 F::linear(x, Variable<float, 2>(Tensor<float, 2>({2, 4})));
             }),
             "linear: weight of shape (2, 4) expects 4 input features, input of shape (3, 5) has 5");
    contains(message_of([&] {
                 F::linear(x, Variable<float, 2>(Tensor<float, 2>({2, 5})),
                           Variable<float, 1>(Tensor<float, 1>({3})));
             }),
             "linear: bias of shape (3)");
    contains(message_of([&] {
                 F::matmul(x, Variable<float, 2>(Tensor<float, 2>({4, 2})));
             }),
             "matmul: input of shape (3, 5) and other of shape (4, 2) cannot be multiplied");
    contains(message_of([&] {
                 F::matmul(Variable<float, 3>(Tensor<float, 3>({2, 3, 5})),
                           Variable<float, 3>(Tensor<float, 3>({3, 5, 1})));
             }),
             "matmul: batch axes of input (2, 3, 5) and other (3, 5, 1) do not broadcast");
    contains(message_of([&] {
                 F::bmm(Variable<float, 3>(Tensor<float, 3>({2, 3, 5})),
                        Variable<float, 3>(Tensor<float, 3>({1, 5, 1})));
             }),
             "bmm: input of shape (2, 3, 5) and mat2 of shape (1, 5, 1) have different batch sizes");
}

// Eigen never splits the inner dimension across threads, but it chooses its cache block along k
// from the thread count, which changes the summation order once k exceeds that block (a few
// hundred). backend::gemm cuts k into fixed chunks; this test checks it, and reports whether one
// raw Eigen call (backend::detail::eigen_gemm) differs on this machine.
BOOST_AUTO_TEST_CASE(gemm_is_bit_identical_for_one_and_two_threads) {
    struct dims {
        index_t m, n, k;
    };
    bool raw_always_same = true;
    for (const dims d :
         {dims{256, 256, 1000}, dims{37, 1000, 2000}, dims{1000, 37, 700}, dims{129, 67, 4099}}) {
        std::vector<float> a(static_cast<std::size_t>(d.m * d.k)), b(static_cast<std::size_t>(d.k * d.n));
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
        }
        for (std::size_t i = 0; i < b.size(); ++i) {
            b[i] = static_cast<float>(std::cos(0.11 * static_cast<double>(i)));
        }
        auto run = [&](bool raw, int threads) {
            set_threads(threads);
            std::vector<float> c(static_cast<std::size_t>(d.m * d.n), 0.5f);
            if (raw) {
                backend::detail::eigen_gemm(backend::transpose::no, backend::transpose::no, d.m, d.n, d.k,
                                            1.0f, a.data(), d.k, b.data(), d.n, 1.0f, c.data(), d.n);
            } else {
                backend::gemm(backend::transpose::no, backend::transpose::no, d.m, d.n, d.k, 1.0f, a.data(),
                              d.k, b.data(), d.n, 1.0f, c.data(), d.n);
            }
            return c;
        };
        BOOST_TEST_CONTEXT("m=" << d.m << " n=" << d.n << " k=" << d.k) {
            BOOST_TEST(same_bits(run(false, 1), run(false, 2)));
            raw_always_same = raw_always_same && same_bits(run(true, 1), run(true, 2));
        }
    }
    BOOST_TEST_MESSAGE("backend::gemm (raw Eigen) bit-identical for 1 and 2 threads at large k: "
                       << (raw_always_same ? "yes" : "no") << "; backend::gemm depth chunk "
                       << backend::detail::gemm_depth_chunk<float>() << " (float), "
                       << backend::detail::gemm_depth_chunk<double>() << " (double)");
    set_threads(2);
}

BOOST_AUTO_TEST_CASE(linear_and_matmul_are_bit_identical_for_one_and_two_threads) {
    const Tensor<float, 3> x = distinct<float, 3>({4, 100, 512});
    const Tensor<float, 2> w = distinct<float, 2>({384, 512}, 1.0, 0.05);
    const Tensor<float, 1> bias = distinct<float, 1>({384}, 2.0);
    const Tensor<double, 4> a = distinct<double, 4>({2, 3, 64, 600});
    const Tensor<double, 3> b = distinct<double, 3>({3, 600, 48}, 1.0);
    auto run = [&] {
        const auto y = K::linear_forward(x, w, &bias);
        const auto g = K::linear_backward(x, w, y);
        const auto z = K::matmul_forward(a, b);
        const auto gz = K::matmul_backward(a, b, z);
        return std::make_tuple(y, *g.input, *g.weight, *g.bias, z, *gz.input, *gz.other);
    };
    set_threads(1);
    const auto one = run();
    set_threads(2);
    const auto two = run();
    BOOST_TEST(bit_identical(std::get<0>(one), std::get<0>(two)));
    BOOST_TEST(bit_identical(std::get<1>(one), std::get<1>(two)));
    BOOST_TEST(bit_identical(std::get<2>(one), std::get<2>(two)));
    BOOST_TEST(bit_identical(std::get<3>(one), std::get<3>(two)));
    BOOST_TEST(bit_identical(std::get<4>(one), std::get<4>(two)));
    BOOST_TEST(bit_identical(std::get<5>(one), std::get<5>(two)));
    BOOST_TEST(bit_identical(std::get<6>(one), std::get<6>(two)));
}

BOOST_AUTO_TEST_SUITE_END()
