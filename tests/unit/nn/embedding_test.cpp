#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/embedding.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
using namespace cinediff::nn::functional;
using autograd::Variable;
using cinediff::test::distinct;
using cinediff::test::golden_file;

namespace {

// The embedding and timestep cases live in the activation file (tests/golden/nn_activation.py).
const golden_file& golden() {
    static const golden_file f("nn/activation.safetensors");
    return f;
}

template <class T, std::size_t R>
double max_error(const Tensor<T, R>& got, const Tensor<T, R>& ref) {
    double worst = 0;
    for (index_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst,
                         std::abs(static_cast<double>(got.data()[i]) - static_cast<double>(ref.data()[i])));
    }
    return worst;
}

template <class T, std::size_t R>
void embedding_case(const std::string& c, const nlohmann::json& a) {
    const auto& f = golden();
    const auto indices = f.get<std::int64_t, R>(c + ".indices");
    Variable<T, 2> weight(f.get<T, 2>(c + ".weight"), true);
    embedding_options options;
    if (!a.at("padding_idx").is_null()) {
        options.padding_idx = a.at("padding_idx").get<index_t>();
    }
    options.scale_grad_by_freq = a.at("scale_grad_by_freq").get<bool>();
    auto y = embedding(indices, weight, options);
    const auto out = f.get<T, R + 1>(c + ".output");
    cinediff::test::check_close(y.value(), out, c + ".output");
    y.backward(f.get<T, R + 1>(c + ".grad_output"));
    const auto gw = f.get<T, 2>(c + ".grad_weight");
    cinediff::test::check_close(weight.grad(), gw, c + ".grad_weight");
    BOOST_TEST_MESSAGE("max |error| " << c << " output " << max_error(y.value(), out) << " grad_weight "
                                      << max_error(weight.grad(), gw));
}

template <class T>
void embedding_case_of_rank(const std::string& c, const nlohmann::json& a) {
    switch (a.at("rank").get<int>()) {
    case 0:
        return embedding_case<T, 0>(c, a);
    case 1:
        return embedding_case<T, 1>(c, a);
    case 2:
        return embedding_case<T, 2>(c, a);
    case 3:
        return embedding_case<T, 3>(c, a);
    default:
        BOOST_FAIL("unexpected rank in case " << c);
    }
}

template <class T>
void timestep_case(const std::string& c, const nlohmann::json& a) {
    const auto& f = golden();
    const auto t = f.get<T, 1>(c + ".timesteps");
    const auto ref = f.get<T, 2>(c + ".output");
    const auto got =
        get_timestep_embedding(t, a.at("embedding_dim").get<index_t>(), a.at("flip_sin_to_cos").get<bool>(),
                               a.at("downscale_freq_shift").get<double>(), a.at("scale").get<double>(),
                               a.at("max_period").get<double>());
    // float32: the argument t * freq reaches ~1000, where one ulp of a differently rounded exp or
    // sin (torch uses SLEEF, we use libm) moves the result by up to ~6e-5 in the worst case
    // (measured here: 4e-6); float64 keeps the suite's tolerance.
    const double atol = std::is_same_v<T, float> ? 5e-5 : 1e-10;
    cinediff::test::check_close(got, ref, c + ".output", atol, 0.0);
    BOOST_TEST_MESSAGE("max |error| " << c << " output " << max_error(got, ref));
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_embedding)

BOOST_AUTO_TEST_CASE(golden_against_torch_and_diffusers) {
    const auto& f = golden();
    int embeddings = 0, timesteps = 0;
    for (const auto& c : f.cases()) {
        const bool is_embedding = c.starts_with("embedding");
        const bool is_timestep = c.starts_with("timestep");
        if (!is_embedding && !is_timestep) {
            continue;
        }
        BOOST_TEST_CONTEXT(c) {
            const auto attrs = nlohmann::json::parse(f.metadata(c));
            const bool f32 = c.ends_with("_f32");
            if (is_embedding) {
                ++embeddings;
                f32 ? embedding_case_of_rank<float>(c, attrs) : embedding_case_of_rank<double>(c, attrs);
            } else {
                ++timesteps;
                f32 ? timestep_case<float>(c, attrs) : timestep_case<double>(c, attrs);
            }
        }
    }
    BOOST_TEST(embeddings == 10);
    BOOST_TEST(timesteps == 10);
}

BOOST_AUTO_TEST_CASE(gradcheck_weight) {
    // padding_idx and scale_grad_by_freq alter the gradient on purpose (torch's convention, checked
    // against the golden cases), so only the plain lookup is a true derivative.
    const Tensor<std::int64_t, 2> idx({2, 3}, {1, 3, 1, 0, 3, 3});
    const Variable<double, 2> w(distinct<double, 2>({4, 3}, 0.5), true);
    const auto r = autograd::gradcheck(
        [&](const Variable<double, 2>& weight) { return embedding(idx, weight); }, std::make_tuple(w));
    BOOST_TEST(r.ok, r.message);
}

BOOST_AUTO_TEST_CASE(backward_is_deterministic_across_thread_counts) {
#if defined(_OPENMP)
    Tensor<std::int64_t, 2> idx({64, 512});
    for (index_t i = 0; i < idx.size(); ++i) {
        idx.data()[i] = (i * 7919 + i / 13) % 50;
    }
    const auto gy = distinct<float, 3>({64, 512, 16}, 0.7);
    auto grad_with = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 2> w(distinct<float, 2>({50, 16}), true);
        auto y = embedding(idx, w);
        y.backward(gy);
        omp_set_num_threads(2);
        return Tensor<float, 2>(w.grad());
    };
    BOOST_TEST(cinediff::test::max_abs_diff(grad_with(1), grad_with(2)) == 0.0);
#endif
}

BOOST_AUTO_TEST_CASE(bad_indices_and_padding_idx) {
    const Variable<float, 2> w(distinct<float, 2>({10, 4}), true);
    const Tensor<std::int64_t, 1> bad({3}, {1, 12, 2});
    try {
        (void)embedding(bad, w);
        BOOST_ERROR("no exception");
    } catch (const std::out_of_range& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "embedding: index 12 at position 1 is out of range for 10 embeddings");
    }
    const Tensor<std::int64_t, 1> good({2}, {1, 2});
    BOOST_CHECK_THROW(embedding(good, w, {.padding_idx = 10}), std::invalid_argument);
    BOOST_CHECK_THROW(get_timestep_embedding(Tensor<float, 1>({2}), 2), std::invalid_argument);
    BOOST_CHECK_THROW(get_timestep_embedding(Tensor<float, 1>({2}), 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
