#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/metrics/bootstrap.hpp>
#include <cinediff/metrics/classification.hpp>
#include <cinediff/metrics/roc.hpp>

#include "metrics_test_util.hpp"

using namespace cinediff;
using namespace cinediff::metrics;
using test::check_value;
using test::check_values;
using test::golden_doubles;
using test::golden_labels;
using test::golden_scalar;

namespace {

std::vector<std::string> cases_of_kind(const std::string& kind) {
    const auto& g = test::metrics_golden();
    std::vector<std::string> out;
    for (const auto& c : g.cases()) {
        if (nlohmann::json::parse(g.metadata(c))["kind"] == kind) {
            out.push_back(c);
        }
    }
    return out;
}

void check_confusion(const Tensor<std::int64_t, 2>& got, const std::string& name) {
    const auto ref = test::metrics_golden().get<std::int64_t, 2>(name);
    BOOST_REQUIRE(got.shape() == ref.shape());
    for (index_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got.data()[i] == ref.data()[i], name << " element " << i);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_classification)

BOOST_AUTO_TEST_CASE(binary_metrics_match_sklearn) {
    const auto cases = cases_of_kind("binary");
    BOOST_REQUIRE_EQUAL(cases.size(), 4u);
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c) {
            const auto yt = golden_labels(c + ".y_true");
            const auto yp = golden_labels(c + ".y_pred");
            const auto ys = golden_doubles(c + ".y_score");
            const auto roc = roc_curve(yt, ys);
            check_values(roc.fpr, golden_doubles(c + ".fpr"), c + " fpr");
            check_values(roc.tpr, golden_doubles(c + ".tpr"), c + " tpr");
            check_values(roc.thresholds, golden_doubles(c + ".thresholds"), c + " thresholds");
            check_value(roc_auc_score(yt, ys), golden_scalar(c + ".auc"), c + " auc");
            check_confusion(confusion_matrix(yt, yp), c + ".confusion");
            check_value(accuracy(yt, yp), golden_scalar(c + ".accuracy"), c + " accuracy");
            check_value(balanced_accuracy(yt, yp), golden_scalar(c + ".balanced_accuracy"), c + " balanced");
            check_value(precision_score(yt, yp), golden_scalar(c + ".precision"), c + " precision");
            check_value(recall_score(yt, yp), golden_scalar(c + ".recall"), c + " recall");
            check_value(f1_score(yt, yp), golden_scalar(c + ".f1"), c + " f1");
            check_value(specificity_score(yt, yp), golden_scalar(c + ".specificity"), c + " specificity");
        }
    }
}

BOOST_AUTO_TEST_CASE(multiclass_metrics_match_sklearn) {
    const auto cases = cases_of_kind("multiclass");
    BOOST_REQUIRE_EQUAL(cases.size(), 3u);
    const auto& g = test::metrics_golden();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c) {
            const auto attrs = nlohmann::json::parse(g.metadata(c));
            const auto yt = golden_labels(c + ".y_true");
            const auto yp = golden_labels(c + ".y_pred");
            const auto ys = g.get<double, 2>(c + ".y_score");
            check_confusion(confusion_matrix(yt, yp), c + ".confusion");
            check_value(accuracy(yt, yp), golden_scalar(c + ".accuracy"), c + " accuracy");
            check_value(balanced_accuracy(yt, yp), golden_scalar(c + ".balanced_accuracy"), c + " balanced");
            if (g.has(c + ".auc_macro")) {
                check_value(roc_auc_score(yt, ys), golden_scalar(c + ".auc_macro"), c + " auc macro");
                check_value(roc_auc_score(yt, ys, {.average = roc_average::weighted}),
                            golden_scalar(c + ".auc_weighted"), c + " auc weighted");
            }
            for (const auto& [name, avg] :
                 std::vector<std::pair<std::string, averaging>>{{"macro", averaging::macro},
                                                                {"weighted", averaging::weighted},
                                                                {"micro", averaging::micro}}) {
                const prf_options o{.average = avg};
                check_value(precision_score(yt, yp, o), golden_scalar(c + ".precision_" + name),
                            c + " precision " + name);
                check_value(recall_score(yt, yp, o), golden_scalar(c + ".recall_" + name),
                            c + " recall " + name);
                check_value(f1_score(yt, yp, o), golden_scalar(c + ".f1_" + name), c + " f1 " + name);
            }
            const auto per = precision_recall_fscore_support(yt, yp, {.average = averaging::none});
            BOOST_TEST(per.labels == golden_labels(c + ".labels_none"), boost::test_tools::per_element());
            BOOST_TEST(per.support == golden_labels(c + ".support_none"), boost::test_tools::per_element());
            check_values(per.precision, golden_doubles(c + ".precision_none"), c + " precision none");
            check_values(per.recall, golden_doubles(c + ".recall_none"), c + " recall none");
            check_values(per.fscore, golden_doubles(c + ".f1_none"), c + " f1 none");
            check_values(per.specificity, golden_doubles(c + ".specificity_none"), c + " specificity none");
            for (int k : attrs["k"]) {
                check_value(top_k_accuracy(yt, ys, {.k = k}), golden_scalar(c + ".top" + std::to_string(k)),
                            c + " top-" + std::to_string(k));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(edge_cases_are_clear) {
    const std::vector<std::int64_t> one_class{1, 1, 1};
    const std::vector<double> s{0.1, 0.5, 0.9};
    BOOST_CHECK_THROW(roc_auc_score(one_class, s), std::invalid_argument);
    BOOST_CHECK_THROW(roc_auc_score(std::vector<std::int64_t>{}, std::vector<double>{}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(accuracy(std::vector<std::int64_t>{}, std::vector<std::int64_t>{}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(accuracy(one_class, std::vector<std::int64_t>{1}), std::invalid_argument);
    // roc_curve without negatives: fpr is NaN (sklearn warns)
    const auto r = roc_curve(one_class, s);
    BOOST_TEST(std::isnan(r.fpr.back()));
    // constant scores: one threshold, AUC 0.5
    BOOST_TEST(roc_auc_score(std::vector<std::int64_t>{0, 1, 0, 1}, std::vector<double>{2, 2, 2, 2}) == 0.5);
    // multi-class: a class missing from y_true, or rows not summing to 1
    Tensor<double, 2> p(shape_t<2>{4, 3}, {0.2, 0.3, 0.5, 0.6, 0.2, 0.2, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4});
    BOOST_CHECK_THROW(roc_auc_score(std::vector<std::int64_t>{0, 1, 1, 0}, p), std::invalid_argument);
    const double auc = roc_auc_score(std::vector<std::int64_t>{0, 1, 2, 0}, p);
    BOOST_TEST(std::isfinite(auc));
    p(0, 0) = 0.9;
    BOOST_CHECK_THROW(roc_auc_score(std::vector<std::int64_t>{0, 1, 2, 0}, p), std::invalid_argument);
    // binary average with three labels
    BOOST_CHECK_THROW(f1_score(std::vector<std::int64_t>{0, 1, 2}, std::vector<std::int64_t>{0, 1, 2}),
                      std::invalid_argument);
    // zero_division = 1
    const std::vector<std::int64_t> yt{0, 0, 1, 1}, yp{0, 0, 0, 0};
    BOOST_TEST(precision_score(yt, yp) == 0.0);
    BOOST_TEST(precision_score(yt, yp, {.zero_division = 1.0}) == 1.0);
    BOOST_TEST(top_k_accuracy(std::vector<std::int64_t>{0, 2}, Tensor<double, 2>(shape_t<2>{2, 3}, 1.0),
                              {.k = 1}) == 0.5); // ties: the highest index ranks first
}

BOOST_AUTO_TEST_CASE(bootstrap_ci_resamples_the_test_set) {
    const std::string c = "bin_distinct";
    const auto yt = golden_labels(c + ".y_true");
    const auto ys = golden_doubles(c + ".y_score");
    auto auroc = [&](std::span<const index_t> idx) {
        std::vector<std::int64_t> t;
        std::vector<double> s;
        for (index_t i : idx) {
            t.push_back(yt[static_cast<std::size_t>(i)]);
            s.push_back(ys[static_cast<std::size_t>(i)]);
        }
        return roc_auc_score(t, s);
    };
    const auto n = static_cast<index_t>(yt.size());
    const auto r = bootstrap_ci(auroc, n, {.n_resamples = 500, .seed = 7});
    check_value(r.estimate, golden_scalar(c + ".auc"), "estimate");
    BOOST_TEST(r.valid == 500);
    BOOST_TEST(r.lower < r.estimate);
    BOOST_TEST(r.upper > r.estimate);
    BOOST_TEST(r.upper <= 1.0);
    // the interval is the 2.5 / 97.5 percentiles of the resample values, each a function of (seed, b)
    std::vector<double> v;
    for (index_t b = 0; b < 500; ++b) {
        v.push_back(auroc(bootstrap_indices(n, b, 7)));
    }
    check_values(r.values, v, "resample values", 0, 0);
    check_value(r.lower, percentile(v, 2.5), "lower", 1e-14, 0);
    check_value(r.upper, percentile(v, 97.5), "upper", 1e-14, 0);
    // parallel evaluation gives the same result
    const auto rp = bootstrap_ci(auroc, n, {.n_resamples = 500, .seed = 7, .parallel = true});
    BOOST_TEST(rp.lower == r.lower);
    BOOST_TEST(rp.upper == r.upper);

    // single-class resamples are skipped and counted
    const std::vector<std::int64_t> rare{0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::vector<double> rs{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.15, 0.9};
    auto rare_auc = [&](std::span<const index_t> idx) {
        std::vector<std::int64_t> t;
        std::vector<double> s;
        for (index_t i : idx) {
            t.push_back(rare[static_cast<std::size_t>(i)]);
            s.push_back(rs[static_cast<std::size_t>(i)]);
        }
        return roc_auc_score(t, s);
    };
    const auto rr = bootstrap_ci(rare_auc, 10, {.n_resamples = 2000, .seed = 1});
    BOOST_TEST(rr.skipped > 0);
    BOOST_TEST(rr.valid + rr.skipped == 2000);
    // P(no positive in 10 draws) = 0.9^10 = 0.349
    BOOST_TEST(std::abs(static_cast<double>(rr.skipped) / 2000.0 - 0.3487) < 0.04);
    BOOST_TEST(rr.estimate == 1.0);

    // the mean of normal data: CI ~ mean +- 1.96 sd / sqrt(n)
    std::vector<double> x(400);
    philox_generator gen(3);
    fill_normal(std::span<double>(x), gen);
    auto mean = [&](std::span<const index_t> idx) {
        double s = 0;
        for (index_t i : idx) {
            s += x[static_cast<std::size_t>(i)];
        }
        return s / static_cast<double>(idx.size());
    };
    const auto rm = bootstrap_ci(mean, 400, {.seed = 11});
    BOOST_TEST(std::abs((rm.upper - rm.lower) / (2 * 1.96 / 20.0) - 1.0) < 0.1);
    BOOST_CHECK_THROW(bootstrap_ci(mean, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
