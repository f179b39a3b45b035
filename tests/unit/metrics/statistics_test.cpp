#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/metrics/mcnemar.hpp>
#include <cinediff/metrics/paired_t_test.hpp>
#include <cinediff/metrics/special_functions.hpp>
#include <cinediff/metrics/wilcoxon.hpp>

#include "metrics_test_util.hpp"

using namespace cinediff;
using namespace cinediff::metrics;
using test::check_value;
using test::golden_doubles;
using test::golden_labels;
using test::golden_scalar;

BOOST_AUTO_TEST_SUITE(metrics_statistics)

BOOST_AUTO_TEST_CASE(special_functions_match_known_values) {
    // I_x(a, b) closed forms: I_x(1, b) = 1 - (1 - x)^b, I_x(a, 1) = x^a
    check_value(incomplete_beta(1.0, 3.5, 0.3), 1.0 - std::pow(0.7, 3.5), "I(1, 3.5)", 1e-15, 1e-14);
    check_value(incomplete_beta(4.0, 1.0, 0.6), std::pow(0.6, 4.0), "I(4, 1)", 1e-15, 1e-14);
    // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on both sides of the switch point
    for (double x : {0.05, 0.3, 0.5, 0.7, 0.95}) {
        check_value(incomplete_beta(2.5, 7.0, x), 1.0 - incomplete_beta(7.0, 2.5, 1.0 - x), "symmetry", 1e-15,
                    1e-13);
    }
    // t distribution: t(1) is Cauchy, t(2) has a closed form
    check_value(student_t_sf(1.7, 1.0), 0.5 - std::atan(1.7) / M_PI, "Cauchy", 1e-16, 1e-13);
    check_value(student_t_sf(-0.4, 2.0), 0.5 - (-0.4) / (2.0 * std::sqrt(2.0 + 0.16)), "t2", 1e-16, 1e-13);
    check_value(student_t_sf(40.0, 2.0), 0.5 - 40.0 / (2.0 * std::sqrt(2.0 + 1600.0)), "t2 tail", 0, 1e-10);
    // binomial: P(X <= 3), X ~ Bin(10, 1/2) = 176 / 1024
    check_value(binomial_cdf(3, 10, 0.5), 176.0 / 1024.0, "binomial", 1e-16, 1e-13);
    check_value(chi2_1_sf(3.841458820694124), 0.05, "chi2 0.95 quantile", 1e-14, 1e-12);
    check_value(normal_sf(1.959963984540054), 0.025, "normal 0.975 quantile", 1e-15, 1e-12);
    // NumPy percentiles
    const std::vector<double> v{1, 2, 3, 4};
    check_value(percentile(v, 50), 2.5, "median");
    check_value(percentile(v, 95), 3.85, "p95");
}

BOOST_AUTO_TEST_CASE(mcnemar_matches_statsmodels) {
    const auto& g = test::metrics_golden();
    int seen = 0;
    for (const auto& c : g.cases()) {
        const auto kind = nlohmann::json::parse(g.metadata(c))["kind"];
        if (kind == "mcnemar") {
            const auto t = g.get<std::int64_t, 2>(c + ".table");
            const std::array<std::int64_t, 4> table{t(0, 0), t(0, 1), t(1, 0), t(1, 1)};
            const auto e = mcnemar(table, {.exact = true});
            check_value(e.statistic, golden_scalar(c + ".exact_stat"), c + " exact statistic");
            check_value(e.pvalue, golden_scalar(c + ".exact_p"), c + " exact p", 1e-15, 1e-11);
            const auto a = mcnemar(table, {.exact = false, .correction = true});
            check_value(a.statistic, golden_scalar(c + ".chi2_stat"), c + " chi2 statistic");
            check_value(a.pvalue, golden_scalar(c + ".chi2_p"), c + " chi2 p", 1e-15, 1e-11);
            const auto u = mcnemar(table, {.exact = false, .correction = false});
            check_value(u.statistic, golden_scalar(c + ".chi2_nocorr_stat"),
                        c + " chi2 statistic (no correction)");
            check_value(u.pvalue, golden_scalar(c + ".chi2_nocorr_p"), c + " chi2 p (no correction)", 1e-15,
                        1e-11);
            ++seen;
        } else if (kind == "mcnemar_vectors") {
            const auto yt = golden_labels(c + ".y_true");
            const auto pa = golden_labels(c + ".pred_a");
            const auto pb = golden_labels(c + ".pred_b");
            const auto t = g.get<std::int64_t, 2>(c + ".table");
            const auto table = mcnemar_table(yt, pa, pb);
            BOOST_TEST((table == std::array<std::int64_t, 4>{t(0, 0), t(0, 1), t(1, 0), t(1, 1)}));
            check_value(mcnemar(yt, pa, pb).pvalue, golden_scalar(c + ".exact_p"), c + " exact p", 1e-15,
                        1e-11);
            check_value(mcnemar(yt, pa, pb, {.exact = false}).pvalue, golden_scalar(c + ".chi2_p"),
                        c + " chi2 p", 1e-15, 1e-11);
            ++seen;
        }
    }
    BOOST_TEST(seen == 7);
    // no discordant pairs: p = 1 in both modes (statsmodels' chi-square mode gives inf / 0 here)
    const auto z = mcnemar(std::array<std::int64_t, 4>{5, 0, 0, 7}, {.exact = false});
    BOOST_TEST(z.pvalue == 1.0);
    BOOST_TEST(z.statistic == 0.0);
    BOOST_TEST(mcnemar(std::array<std::int64_t, 4>{5, 0, 0, 7}).pvalue == 1.0);
    BOOST_CHECK_THROW(mcnemar(std::array<std::int64_t, 4>{5, -1, 0, 7}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(paired_tests_match_scipy) {
    const auto& g = test::metrics_golden();
    int seen = 0;
    for (const auto& c : g.cases()) {
        if (nlohmann::json::parse(g.metadata(c))["kind"] != "paired") {
            continue;
        }
        const auto a = golden_doubles(c + ".a");
        const auto b = golden_doubles(c + ".b");
        const auto t = paired_t_test(a, b);
        check_value(t.statistic, golden_scalar(c + ".t_stat"), c + " t", 1e-12, 1e-10);
        check_value(t.pvalue, golden_scalar(c + ".t_p"), c + " t p", 1e-15, 1e-10);
        const auto w = wilcoxon(a, b);
        check_value(w.statistic, golden_scalar(c + ".w_stat"), c + " wilcoxon T");
        check_value(w.pvalue, golden_scalar(c + ".w_p"), c + " wilcoxon p", 1e-15, 1e-11);
        ++seen;
    }
    BOOST_TEST(seen == 8);
}

BOOST_AUTO_TEST_CASE(paired_tests_degenerate_inputs_follow_scipy) {
    const std::vector<double> empty;
    BOOST_TEST(std::isnan(paired_t_test(empty, empty).pvalue));
    BOOST_TEST(std::isnan(wilcoxon(empty, empty).pvalue));
    const std::vector<double> one{1.0};
    BOOST_TEST(std::isnan(paired_t_test(one, std::vector<double>{0.5}).statistic));
    const std::vector<double> a{1, 2, 3}, b{0, 1, 2};
    const auto t = paired_t_test(a, b); // constant non-zero difference
    BOOST_TEST(std::isinf(t.statistic));
    BOOST_TEST(t.pvalue == 0.0);
    BOOST_TEST(std::isnan(paired_t_test(a, a).statistic));
    BOOST_CHECK_THROW(wilcoxon(a, a), std::invalid_argument); // all differences zero
    BOOST_CHECK_THROW(paired_t_test(a, one), std::invalid_argument);
    // exact null distribution: symmetric, sums to 1, n = 3: subsets of {1,2,3}
    const auto pmf = wilcoxon_null_pmf(3);
    const std::vector<double> expect{1, 1, 1, 2, 1, 1, 1};
    for (std::size_t s = 0; s < pmf.size(); ++s) {
        BOOST_TEST(pmf[s] == expect[s] / 8.0);
    }
    const auto big = wilcoxon_null_pmf(50);
    double total = 0;
    for (double p : big) {
        total += p;
    }
    BOOST_TEST(std::abs(total - 1.0) < 1e-14);
}

BOOST_AUTO_TEST_SUITE_END()
