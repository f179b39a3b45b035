#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/gradcheck.hpp>
#include <cinediff/nn/functional/interpolate.hpp>

#include "golden.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
namespace F = cinediff::nn::functional;
using cinediff::autograd::Variable;

namespace {

using json = nlohmann::json;

F::interpolate_options options_from(const json& m) {
    F::interpolate_options o;
    if (!m.at("size").is_null()) {
        o.size = m.at("size").get<std::vector<index_t>>();
    }
    if (!m.at("scale_factor").is_null()) {
        o.scale_factor = m.at("scale_factor").get<std::vector<double>>();
    }
    o.mode = m.at("mode").get<std::string>();
    if (!m.at("align_corners").is_null()) {
        o.align_corners = m.at("align_corners").get<bool>();
    }
    if (!m.at("recompute_scale_factor").is_null()) {
        o.recompute_scale_factor = m.at("recompute_scale_factor").get<bool>();
    }
    return o;
}

template <class T, std::size_t R>
void golden_case(const test::golden_file& g, const std::string& c, const json& m, double& worst) {
    Variable<T, R> x(g.get<T, R>(c + ".input"), true);
    auto y = F::interpolate(x, options_from(m));
    const auto ref = g.get<T, R>(c + ".output");
    test::check_close(y.value(), ref, c + ".output");
    y.backward(g.get<T, R>(c + ".grad_output"));
    const auto ref_grad = g.get<T, R>(c + ".grad_input");
    test::check_close(x.grad(), ref_grad, c + ".grad_input");
    worst = std::max({worst, test::max_abs_diff(y.value(), ref), test::max_abs_diff(x.grad(), ref_grad)});
}

template <class T>
void golden_rank(const test::golden_file& g, const std::string& c, const json& m, double& worst) {
    switch (m.at("rank").get<int>()) {
    case 3:
        golden_case<T, 3>(g, c, m, worst);
        break;
    case 4:
        golden_case<T, 4>(g, c, m, worst);
        break;
    default:
        golden_case<T, 5>(g, c, m, worst);
        break;
    }
}

auto message_has(const std::string& text) {
    return [text](const std::exception& e) { return std::string(e.what()).find(text) != std::string::npos; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(nn_interpolate)

BOOST_AUTO_TEST_CASE(golden_interpolate_matches_torch) {
    const test::golden_file g("nn/resample.safetensors");
    double worst32 = 0, worst64 = 0;
    int count = 0;
    for (const auto& c : g.cases()) {
        const json m = json::parse(g.metadata(c));
        if (m.at("op") != "interpolate") {
            continue;
        }
        BOOST_TEST_CONTEXT(c) {
            if (m.at("dtype") == "float32") {
                golden_rank<float>(g, c, m, worst32);
            } else {
                golden_rank<double>(g, c, m, worst64);
            }
        }
        ++count;
    }
    BOOST_TEST(count == 34);
    BOOST_TEST_MESSAGE("interpolate vs torch: max |error| float32 " << worst32 << ", float64 " << worst64);
}

BOOST_AUTO_TEST_CASE(gradcheck_interpolate) {
    Variable<double, 3> x1(test::distinct<double, 3>({1, 2, 5}), true);
    Variable<double, 4> x2(test::distinct<double, 4>({1, 2, 4, 5}), true);
    Variable<double, 5> x3(test::distinct<double, 5>({1, 1, 3, 4, 3}), true);
    auto check = [](const char* name, auto x, F::interpolate_options o) {
        const auto r =
            autograd::gradcheck([&](const auto& v) { return F::interpolate(v, o); }, std::make_tuple(x));
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(r.ok, r.message);
        }
    };
    check("nearest1", x1, {.size = {8}});
    check("linear1", x1, {.scale_factor = {1.5}, .mode = "linear", .align_corners = true});
    check("bilinear_up", x2, {.size = {7, 9}, .mode = "bilinear", .align_corners = false});
    check("bilinear_down", x2, {.size = {3, 2}, .mode = "bilinear", .align_corners = true});
    check("nearest2", x2, {.scale_factor = {1.7}});
    check("nearest_exact2", x2, {.size = {3, 7}, .mode = "nearest-exact"});
    check("trilinear", x3, {.size = {4, 6, 5}, .mode = "trilinear", .align_corners = false});
    check("area", x2, {.size = {3, 3}, .mode = "area"});
}

BOOST_AUTO_TEST_CASE(interpolate_is_identical_for_one_and_two_threads) {
#if defined(_OPENMP)
    const Tensor<float, 4> input = test::distinct<float, 4>({2, 8, 24, 24});
    const Tensor<float, 4> gy = test::distinct<float, 4>({2, 8, 53, 41}, 1.0);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Variable<float, 4> x(input, true);
        auto y = F::interpolate(x, {.size = {53, 41}, .mode = "bilinear", .align_corners = false});
        auto z = F::interpolate(x, {.size = {53, 41}});
        y.backward(gy);
        z.backward(gy);
        return std::make_tuple(Tensor<float, 4>(y.value()), Tensor<float, 4>(z.value()),
                               Tensor<float, 4>(x.grad()));
    };
    const int saved = omp_get_max_threads();
    const auto one = run(1);
    const auto two = run(2);
    omp_set_num_threads(saved);
    BOOST_TEST(test::max_abs_diff(std::get<0>(one), std::get<0>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<1>(one), std::get<1>(two)) == 0.0);
    BOOST_TEST(test::max_abs_diff(std::get<2>(one), std::get<2>(two)) == 0.0);
#endif
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_explained) {
    Variable<float, 4> x(Tensor<float, 4>({1, 1, 4, 4}));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.size = {8, 8}, .scale_factor = {2.0}}), std::invalid_argument,
                          message_has("only one of size or scale_factor should be defined"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {}), std::invalid_argument,
                          message_has("either size or scale_factor should be defined"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.size = {8, 8}, .mode = "trilinear"}), shape_error,
                          message_has("trilinear mode needs 5D input"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.size = {8, 8}, .align_corners = true}), std::invalid_argument,
                          message_has("align_corners can only be set with the interpolating modes"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.size = {8, 8}, .mode = "bicubic"}), std::invalid_argument,
                          message_has("mode 'bicubic' is not supported"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.size = {8, 8, 8}}), shape_error,
                          message_has("expected 1 or 2 values"));
    BOOST_CHECK_EXCEPTION(F::interpolate(x, {.scale_factor = {0.1}}), shape_error,
                          message_has("input and output sizes should be greater than 0"));
}

BOOST_AUTO_TEST_SUITE_END()
