#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/metrics/dynamic_smoothness.hpp>
#include <cinediff/metrics/frechet.hpp>
#include <cinediff/metrics/kernel_distance.hpp>
#include <cinediff/metrics/kmeans.hpp>
#include <cinediff/metrics/sample_diversity.hpp>
#include <cinediff/metrics/sequence_consistency.hpp>

#include "metrics_test_util.hpp"
#include "test_util.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace cinediff;
using namespace cinediff::metrics;
using test::check_value;
using test::golden_scalar;

BOOST_AUTO_TEST_SUITE(metrics_clustering_and_generation)

BOOST_AUTO_TEST_CASE(kmeans_finds_sklearn_centres_up_to_permutation) {
    const auto& g = test::metrics_golden();
    int seen = 0;
    for (const auto& c : g.cases()) {
        const auto attrs = nlohmann::json::parse(g.metadata(c));
        if (attrs["kind"] != "kmeans") {
            continue;
        }
        ++seen;
        const auto x = g.get<double, 2>(c + ".x");
        const auto ref = g.get<double, 2>(c + ".centers");
        const index_t k = attrs["k"];
        const auto r = kmeans(x, {.n_clusters = k, .n_init = 10, .seed = 5});
        BOOST_REQUIRE(r.centers.shape() == ref.shape());
        // match every reference centre to the nearest of ours; the matching must be a permutation
        std::vector<int> used(static_cast<std::size_t>(k), 0);
        for (index_t i = 0; i < k; ++i) {
            index_t best = -1;
            double bd = 1e300;
            for (index_t j = 0; j < k; ++j) {
                double d = 0;
                for (index_t f = 0; f < x.shape(1); ++f) {
                    d += (ref(i, f) - r.centers(j, f)) * (ref(i, f) - r.centers(j, f));
                }
                if (d < bd) {
                    bd = d;
                    best = j;
                }
            }
            ++used[static_cast<std::size_t>(best)];
            BOOST_TEST(std::sqrt(bd) < 1e-10, c << " centre " << i << " is " << std::sqrt(bd) << " away");
        }
        BOOST_TEST(std::count(used.begin(), used.end(), 1) == k);
        check_value(r.inertia, golden_scalar(c + ".inertia"), c + " inertia", 1e-10, 1e-10);
        // labels are a relabelling of sklearn's
        const auto ref_labels = test::golden_labels(c + ".labels");
        BOOST_TEST(metrics::detail::same_clustering(r.labels, ref_labels));
        // same result with one thread and with two
#if defined(_OPENMP)
        const int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        const auto r1 = kmeans(x, {.n_clusters = k, .n_init = 10, .seed = 5});
        omp_set_num_threads(threads);
        BOOST_TEST(r1.inertia == r.inertia);
        BOOST_TEST(test::max_abs_diff(r1.centers, r.centers) == 0.0);
#endif
    }
    BOOST_TEST(seen == 3);
}

BOOST_AUTO_TEST_CASE(vae_seq_thresholds_are_midpoints_of_sorted_centroids) {
    const auto& g = test::metrics_golden();
    const auto x = g.get<double, 2>("kmeans_vaeseq1d.x");
    const auto ref = g.get<double, 2>("kmeans_vaeseq1d.centers");
    std::vector<double> rc(ref.data(), ref.data() + ref.size());
    std::sort(rc.begin(), rc.end());
    const auto t = vae_seq_thresholds(x.span());
    test::check_values(t.centroids, rc, "sorted centroids", 1e-10, 1e-12);
    check_value(t.low, (rc[0] + rc[1]) / 2, "low", 1e-10, 1e-12);
    check_value(t.high, (rc[2] + rc[3]) / 2, "high", 1e-10, 1e-12);
    BOOST_CHECK_THROW(kmeans(Tensor<double, 2>(shape_t<2>{3, 1}), {.n_clusters = 4}), std::invalid_argument);
    // identical points: every run ends with inertia 0 (empty clusters relocated, no NaN)
    const auto same = kmeans(Tensor<double, 2>(shape_t<2>{6, 2}, 1.5), {.n_clusters = 3, .n_init = 2});
    BOOST_TEST(same.inertia == 0.0);
    BOOST_TEST(std::isfinite(same.centers(2, 1)));
}

BOOST_AUTO_TEST_CASE(frechet_distance_matches_the_sqrtm_formula) {
    const auto& g = test::metrics_golden();
    for (const std::string c : {"frechet_full", "frechet_singular", "frechet_same"}) {
        const auto x = g.get<double, 2>(c + ".x");
        const auto y = g.get<double, 2>(c + ".y");
        const double d = frechet_distance(x, y);
        check_value(d, golden_scalar(c + ".fid_eigh"), c + " vs eigh reference", 1e-9, 1e-10);
        // scipy.linalg.sqrtm(C1 C2) is less accurate (Schur form of a non-symmetric product), and for the
        // singular case it needs pytorch-fid's eps fallback
        check_value(d, golden_scalar(c + ".fid_sqrtm"), c + " vs sqrtm reference", 1e-6, 1e-6);
    }
    BOOST_TEST(frechet_distance(g.get<double, 2>("frechet_same.x"), g.get<double, 2>("frechet_same.x")) <
               1e-10);
    BOOST_CHECK_THROW(
        frechet_distance(Tensor<double, 2>(shape_t<2>{1, 3}), Tensor<double, 2>(shape_t<2>{4, 3})),
        std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(kernel_distance_is_the_unbiased_mmd) {
    const auto& g = test::metrics_golden();
    const auto x = g.get<double, 2>("kid.x");
    const auto y = g.get<double, 2>("kid.y");
    check_value(kernel_distance(x, y).mean, golden_scalar("kid.mmd2"), "mmd2", 1e-12, 1e-11);
    // one subset as large as both sets is the full estimate (any order of the samples)
    const auto full = kernel_distance(x, y, {.subsets = 1, .subset_size = 100, .seed = 3});
    check_value(full.mean, golden_scalar("kid.mmd2"), "mmd2 one full subset", 1e-12, 1e-10);
    const auto sub = kernel_distance(x, y, {.subsets = 20, .subset_size = 10, .seed = 3});
    BOOST_TEST(sub.std > 0);
    BOOST_TEST(std::abs(sub.mean - golden_scalar("kid.mmd2")) < 4 * sub.std);
}

BOOST_AUTO_TEST_CASE(sequence_scores_follow_their_definitions) {
    const auto& g = test::metrics_golden();
    const auto frames = g.get<double, 4>("frame_consistency.frames");
    check_value(frame_consistency(frames), golden_scalar("frame_consistency.value"), "frame consistency",
                1e-14, 1e-12);
    check_value(vae_seq(frames), 100 * golden_scalar("frame_consistency.value"), "VAE-Seq", 1e-12, 1e-12);
    const double rounded = vae_seq(frames, {.round_to_2_decimals = true});
    BOOST_TEST(std::abs(rounded * 100 - std::round(rounded * 100)) < 1e-9);
    BOOST_CHECK_THROW(frame_consistency(Tensor<double, 2>(shape_t<2>{1, 4})), std::invalid_argument);
    // an all-zero frame has cosine 0 with its neighbours
    Tensor<double, 2> z(shape_t<2>{2, 3});
    z(1, 0) = 1;
    BOOST_TEST(frame_consistency(z) == 0.0);

    const auto video = g.get<double, 3>("dynamic_smoothness.video");
    const auto ds = dynamic_smoothness(video);
    check_value(ds.mae, golden_scalar("dynamic_smoothness.mae"), "DS mae", 1e-12, 1e-12);
    check_value(ds.score, golden_scalar("dynamic_smoothness.score"), "DS score", 1e-12, 1e-12);
    check_value(dynamic_smoothness(g.get<double, 3>("dynamic_smoothness.video8")).mae,
                golden_scalar("dynamic_smoothness.mae8"), "DS mae (even frame count)", 1e-12, 1e-12);
    // a custom interpolator that returns the true middle frame gives a perfect score
    const dynamic_smoothness_options o{
        .max_value = 255.0,
        .interpolate = [](std::span<const double> a, std::span<const double>, std::span<double> out) {
            std::copy(a.begin(), a.end(), out.begin());
        }};
    Tensor<double, 2> still(shape_t<2>{5, 4}, 7.0);
    BOOST_TEST(dynamic_smoothness(still, o).score == 1.0);
    BOOST_TEST(dynamic_smoothness(still).mae == 0.0);

    const auto gen = g.get<double, 2>("diversity.generated");
    const auto train = g.get<double, 2>("diversity.training");
    check_value(diversity_score(gen), golden_scalar("diversity.ds_euclidean"), "diversity euclidean", 1e-12,
                1e-12);
    check_value(diversity_score(gen, {.distance = feature_distance::cosine}),
                golden_scalar("diversity.ds_cosine"), "diversity cosine", 1e-12, 1e-12);
    check_value(overfitting_score(gen, train), golden_scalar("diversity.overfitting"), "overfitting", 1e-12,
                1e-12);
}

BOOST_AUTO_TEST_SUITE_END()
