#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/metrics/overlap.hpp>
#include <cinediff/metrics/surface_distance.hpp>
#include <cinediff/tensor/random_tensor.hpp>

#include "metrics_test_util.hpp"

using namespace cinediff;
using namespace cinediff::metrics;
using test::check_value;
using test::golden_doubles;
using test::golden_scalar;

namespace {

// Brute-force distances between the set bits of two masks (physical units).
template <std::size_t R>
std::vector<double> brute_directed(const Tensor<std::uint8_t, R>& from, const Tensor<std::uint8_t, R>& to,
                                   const std::vector<double>& spacing) {
    const auto strides = contiguous_strides(from.shape());
    auto coords = [&](index_t i) {
        std::array<double, R> c{};
        for (std::size_t d = 0; d < R; ++d) {
            c[d] = static_cast<double>(i / strides[d]) * spacing[d];
            i %= strides[d];
        }
        return c;
    };
    std::vector<double> out;
    for (index_t i = 0; i < from.size(); ++i) {
        if (!from.data()[i]) {
            continue;
        }
        const auto a = coords(i);
        double best = std::numeric_limits<double>::infinity();
        for (index_t j = 0; j < to.size(); ++j) {
            if (to.data()[j]) {
                const auto b = coords(j);
                double s = 0;
                for (std::size_t d = 0; d < R; ++d) {
                    s += (a[d] - b[d]) * (a[d] - b[d]);
                }
                best = std::min(best, s);
            }
        }
        out.push_back(std::sqrt(best));
    }
    return out;
}

template <std::size_t R>
void check_case(const std::string& c) {
    const auto& g = test::metrics_golden();
    const auto pred = g.get<std::uint8_t, R>(c + ".pred");
    const auto ref = g.get<std::uint8_t, R>(c + ".ref");
    const auto sp = golden_doubles(c + ".spacing");
    const auto o = overlap(pred, ref);
    check_value(o.dice, golden_scalar(c + ".dice"), c + " dice");
    check_value(o.iou, golden_scalar(c + ".iou"), c + " iou");
    check_value(o.sensitivity, golden_scalar(c + ".sensitivity"), c + " sensitivity");
    check_value(o.precision, golden_scalar(c + ".precision"), c + " precision");
    const double tol = 1e-12;
    check_value(hausdorff_distance(pred, ref, {.spacing = sp}), golden_scalar(c + ".hd"), c + " HD", tol,
                tol);
    check_value(hausdorff_distance(pred, ref, {.spacing = sp, .percentile = 95}), golden_scalar(c + ".hd95"),
                c + " HD95", tol, tol);
    check_value(hausdorff_distance(pred, ref, {.spacing = sp, .percentile = 90}), golden_scalar(c + ".hd90"),
                c + " HD90", tol, tol);
    check_value(average_surface_distance(pred, ref, {.spacing = sp}), golden_scalar(c + ".asd"), c + " ASD",
                tol, tol);
    check_value(average_symmetric_surface_distance(pred, ref, {.spacing = sp}), golden_scalar(c + ".assd"),
                c + " ASSD", tol, tol);
    check_value(g2re(pred, ref, {.spacing = sp}), golden_scalar(c + ".g2re"), c + " G2RE", tol, tol);
    check_value(r2ge(pred, ref, {.spacing = sp}), golden_scalar(c + ".r2ge"), c + " R2GE", tol, tol);
    check_value(g2re(pred, ref, {.spacing = sp, .points = point_set::surface}),
                golden_scalar(c + ".g2re_surface"), c + " G2RE surface", tol, tol);
    check_value(r2ge(pred, ref, {.spacing = sp, .points = point_set::surface}),
                golden_scalar(c + ".r2ge_surface"), c + " R2GE surface", tol, tol);
    // the distance transform agrees with brute force
    const auto d = surface_distances(pred, ref, sp, point_set::foreground);
    test::check_values(d.from_prediction, brute_directed(pred, ref, sp), c + " EDT vs brute force", 1e-12,
                       1e-13);
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_segmentation)

BOOST_AUTO_TEST_CASE(segmentation_metrics_match_scipy) {
    const auto& g = test::metrics_golden();
    int seen = 0;
    for (const auto& c : g.cases()) {
        const auto attrs = nlohmann::json::parse(g.metadata(c));
        if (attrs["kind"] != "segmentation") {
            continue;
        }
        BOOST_TEST_CONTEXT(c) {
            if (attrs["rank"] == 2) {
                check_case<2>(c);
            } else {
                check_case<3>(c);
            }
        }
        ++seen;
    }
    BOOST_TEST(seen == 5);
}

BOOST_AUTO_TEST_CASE(distance_transform_is_exact_on_random_masks) {
    philox_generator gen(17);
    for (int rep = 0; rep < 4; ++rep) {
        Tensor<std::uint8_t, 3> a(shape_t<3>{5, 7, 6}), b(shape_t<3>{5, 7, 6});
        fill_bernoulli(a, gen, 0.05 + 0.1 * rep);
        fill_bernoulli(b, gen, 0.03);
        b(4, 6, 5) = 1;
        const std::vector<double> sp{1.7, 0.6, 1.1};
        const auto d = surface_distances(a, b, sp, point_set::foreground);
        test::check_values(d.from_prediction, brute_directed(a, b, sp), "from a", 1e-12, 1e-13);
        test::check_values(d.from_reference, brute_directed(b, a, sp), "from b", 1e-12, 1e-13);
    }
}

BOOST_AUTO_TEST_CASE(empty_masks_follow_the_documented_conventions) {
    Tensor<bool, 2> empty(shape_t<2>{6, 5});
    Tensor<bool, 2> one(shape_t<2>{6, 5});
    one(2, 2) = true;
    // both empty: perfect agreement
    const auto o = overlap(empty, empty);
    BOOST_TEST(o.dice == 1.0);
    BOOST_TEST(o.iou == 1.0);
    BOOST_TEST(o.sensitivity == 1.0);
    BOOST_TEST(o.precision == 1.0);
    BOOST_TEST(hausdorff_distance(empty, empty) == 0.0);
    BOOST_TEST(average_symmetric_surface_distance(empty, empty) == 0.0);
    BOOST_TEST(g2re(empty, empty) == 0.0);
    // one empty
    const auto p = overlap(one, empty);
    BOOST_TEST(p.dice == 0.0);
    BOOST_TEST(std::isnan(p.sensitivity));
    BOOST_TEST(p.precision == 0.0);
    BOOST_TEST(std::isnan(overlap(empty, one).precision));
    BOOST_TEST(std::isinf(hausdorff_distance(one, empty)));
    BOOST_TEST(std::isinf(hausdorff_distance(empty, one, {.percentile = 95})));
    BOOST_TEST(std::isinf(r2ge(one, empty)));
    // identical masks
    BOOST_TEST(hausdorff_distance(one, one) == 0.0);
    BOOST_TEST(dice(one, one) == 1.0);
    // a single voxel is its own surface; spacing scales distances
    Tensor<bool, 2> other(shape_t<2>{6, 5});
    other(5, 4) = true;
    check_value(hausdorff_distance(one, other, {.spacing = {2.0, 0.5}}), std::sqrt(36.0 + 1.0), "scaled HD");
    BOOST_CHECK_THROW(hausdorff_distance(one, Tensor<bool, 2>(shape_t<2>{5, 5})), shape_error);
    BOOST_CHECK_THROW(hausdorff_distance(one, other, {.spacing = {1.0}}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
