// cinediff-ops entries for include/cinediff/metrics/: classification scores, ROC, significance
// tests, bootstrap CIs, KMeans, generation scores and segmentation overlaps/distances. Names,
// inputs and attributes follow scikit-learn / SciPy / statsmodels (docs/metrics.md says which).
//
// All of them are forward-only: no input is differentiable. Labels are int64 (any shape, read
// flat); scores and features are float32 or float64 and computed in float64; results are float64
// (rank 0 for a single number) or int64 for labels and counts.
#include <cinediff/metrics/bootstrap.hpp>
#include <cinediff/metrics/classification.hpp>
#include <cinediff/metrics/dynamic_smoothness.hpp>
#include <cinediff/metrics/frechet.hpp>
#include <cinediff/metrics/kernel_distance.hpp>
#include <cinediff/metrics/kmeans.hpp>
#include <cinediff/metrics/mcnemar.hpp>
#include <cinediff/metrics/overlap.hpp>
#include <cinediff/metrics/paired_t_test.hpp>
#include <cinediff/metrics/roc.hpp>
#include <cinediff/metrics/sample_diversity.hpp>
#include <cinediff/metrics/sequence_consistency.hpp>
#include <cinediff/metrics/surface_distance.hpp>
#include <cinediff/metrics/wilcoxon.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace M = cinediff::metrics;

// ---- reading inputs ---------------------------------------------------------------------------

std::vector<std::int64_t> labels(op_context& c, const std::string& name) {
    if (c.input_dtype(name) != dtype::i64) {
        throw usage_error(c.spec().name + ": input '" + name + "' must be int64 labels, got " +
                          std::string(dtype_name(c.input_dtype(name))));
    }
    index_t n = 1;
    for (auto e : c.input_shape(name)) {
        n *= e;
    }
    const auto t = c.constant_as<std::int64_t, 1>(name, shape_t<1>{n});
    return {t.data(), t.data() + t.size()};
}

// A float32/float64 input as float64 of rank R (checked).
template <std::size_t R>
Tensor<double, R> real(op_context& c, const std::string& name) {
    if (c.input_rank(name) != R) {
        throw usage_error(c.spec().name + ": input '" + name + "' has shape " +
                          shape_to_string(c.input_shape(name)) + ", expected rank " + std::to_string(R));
    }
    Tensor<double, R> out;
    dispatch_float(c, name, [&]<class T>() {
        const Tensor<T, R> t = c.constant<T, R>(name);
        out = Tensor<double, R>(t.shape());
        std::copy(t.data(), t.data() + t.size(), out.data());
    });
    return out;
}

std::vector<double> real_flat(op_context& c, const std::string& name) {
    index_t n = 1;
    for (auto e : c.input_shape(name)) {
        n *= e;
    }
    std::vector<double> out(static_cast<std::size_t>(n));
    dispatch_float(c, name, [&]<class T>() {
        const auto t = c.constant_as<T, 1>(name, shape_t<1>{n});
        std::copy(t.data(), t.data() + t.size(), out.begin());
    });
    return out;
}

// ---- writing outputs --------------------------------------------------------------------------

void scalar(op_context& c, const std::string& name, double v) {
    c.output(name, Tensor<double, 0>({}, {v}));
}

template <class T>
void vector_out(op_context& c, const std::string& name, const std::vector<T>& v) {
    Tensor<T, 1> t({static_cast<index_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data());
    c.output(name, t);
}

// ---- classification ---------------------------------------------------------------------------

const std::vector<std::string> average_names{"binary", "micro", "macro", "weighted", "none"};

M::prf_options prf_attrs(op_context& c) {
    M::prf_options o;
    const auto a = c.choice_attr("average", average_names);
    o.average = a == "binary"     ? M::averaging::binary
                : a == "micro"    ? M::averaging::micro
                : a == "macro"    ? M::averaging::macro
                : a == "weighted" ? M::averaging::weighted
                                  : M::averaging::none;
    o.pos_label = c.int_attr("pos_label");
    if (!c.is_none("labels")) {
        o.labels = c.int_list_attr("labels");
    }
    o.zero_division = c.float_attr("zero_division");
    return o;
}

const std::vector<attribute_spec> prf_attributes{{"average", "string", "binary"},
                                                 {"pos_label", "int", "1"},
                                                 {"labels", "ints", "none"},
                                                 {"zero_division", "float", "0"}};

void run_confusion_matrix(op_context& c) {
    M::confusion_matrix_options o;
    if (!c.is_none("labels")) {
        o.labels = c.int_list_attr("labels");
    }
    c.output("out", M::confusion_matrix(labels(c, "y_true"), labels(c, "y_pred"), o));
}

template <double (*Score)(std::span<const std::int64_t>, std::span<const std::int64_t>)>
void run_label_score(op_context& c) {
    scalar(c, "out", Score(labels(c, "y_true"), labels(c, "y_pred")));
}

void run_prfs(op_context& c) {
    auto o = prf_attrs(c);
    o.beta = c.float_attr("beta");
    const auto r = M::precision_recall_fscore_support(labels(c, "y_true"), labels(c, "y_pred"), o);
    vector_out(c, "precision", r.precision);
    vector_out(c, "recall", r.recall);
    vector_out(c, "fscore", r.fscore);
    vector_out(c, "specificity", r.specificity);
    if (!r.support.empty()) {
        vector_out(c, "support", r.support);
    }
    vector_out(c, "labels", r.labels);
}

// f1/precision/recall/specificity: one number, or one per class with average=none.
enum class prf_field { precision, recall, f1, specificity };
template <prf_field Field>
void run_prf_score(op_context& c) {
    const auto r = M::precision_recall_fscore_support(labels(c, "y_true"), labels(c, "y_pred"), prf_attrs(c));
    const auto& v = Field == prf_field::precision ? r.precision
                    : Field == prf_field::recall  ? r.recall
                    : Field == prf_field::f1      ? r.fscore
                                                  : r.specificity;
    if (v.size() == 1 && !r.support.size()) {
        scalar(c, "out", v[0]);
    } else {
        vector_out(c, "out", v);
    }
}

void run_top_k(op_context& c) {
    scalar(c, "out", M::top_k_accuracy(labels(c, "y_true"), real<2>(c, "y_score"), {.k = c.int_attr("k")}));
}

void run_roc_curve(op_context& c) {
    const auto r = M::roc_curve(
        labels(c, "y_true"), real_flat(c, "y_score"),
        {.pos_label = c.int_attr("pos_label"), .drop_intermediate = c.bool_attr("drop_intermediate")});
    vector_out(c, "fpr", r.fpr);
    vector_out(c, "tpr", r.tpr);
    vector_out(c, "thresholds", r.thresholds);
}

void run_roc_auc(op_context& c) {
    const auto y = labels(c, "y_true");
    if (c.input_rank("y_score") == 2) {
        M::roc_auc_options o;
        o.average = c.choice_attr("average", {"macro", "weighted"}) == "macro" ? M::roc_average::macro
                                                                               : M::roc_average::weighted;
        scalar(c, "out", M::roc_auc_score(y, real<2>(c, "y_score"), o));
    } else {
        scalar(c, "out", M::roc_auc_score(y, std::span<const double>(real_flat(c, "y_score"))));
    }
}

// ---- statistics -------------------------------------------------------------------------------

void run_mcnemar(op_context& c) {
    const M::mcnemar_options o{.exact = c.bool_attr("exact"), .correction = c.bool_attr("correction")};
    M::test_result r;
    if (c.has("table")) {
        const auto t = labels(c, "table");
        if (t.size() != 4 || c.input_shape("table") != std::vector<index_t>{2, 2}) {
            throw usage_error("mcnemar: input 'table' must be int64 of shape (2, 2), got " +
                              shape_to_string(c.input_shape("table")));
        }
        r = M::mcnemar(std::array<std::int64_t, 4>{t[0], t[1], t[2], t[3]}, o);
    } else {
        if (!c.has("y_true") || !c.has("pred_a") || !c.has("pred_b")) {
            throw usage_error("mcnemar: give either 'table' or all of 'y_true', 'pred_a', 'pred_b'");
        }
        r = M::mcnemar(labels(c, "y_true"), labels(c, "pred_a"), labels(c, "pred_b"), o);
    }
    scalar(c, "statistic", r.statistic);
    scalar(c, "pvalue", r.pvalue);
}

void run_paired_t(op_context& c) {
    const auto r = M::paired_t_test(real_flat(c, "a"), real_flat(c, "b"));
    scalar(c, "statistic", r.statistic);
    scalar(c, "pvalue", r.pvalue);
    scalar(c, "df", r.df);
}

void run_wilcoxon(op_context& c) {
    const auto m = c.choice_attr("method", {"auto", "exact", "approx"});
    const M::wilcoxon_options o{.method = m == "auto"    ? M::wilcoxon_method::automatic
                                          : m == "exact" ? M::wilcoxon_method::exact
                                                         : M::wilcoxon_method::approx};
    const auto x = real_flat(c, "x");
    const auto y = c.has("y") ? real_flat(c, "y") : std::vector<double>{};
    const auto r = M::wilcoxon(x, y, o);
    scalar(c, "statistic", r.statistic);
    scalar(c, "pvalue", r.pvalue);
}

// Bootstrap CI of a classification metric on (y_true, y_pred) or, for roc_auc, (y_true, y_score).
void run_bootstrap_ci(op_context& c) {
    const auto metric = c.choice_attr(
        "metric", {"accuracy", "balanced_accuracy", "f1", "precision", "recall", "specificity", "roc_auc"});
    const auto y = labels(c, "y_true");
    M::bootstrap_options o{.n_resamples = c.int_attr("n_resamples"),
                           .confidence = c.float_attr("confidence"),
                           .seed = static_cast<std::uint64_t>(c.int_attr("seed"))};
    const auto prf = prf_attrs(c);
    std::vector<std::int64_t> pred;
    std::vector<double> score;
    if (metric == "roc_auc") {
        if (!c.has("y_score")) {
            throw usage_error("bootstrap_ci: metric=roc_auc needs input 'y_score'");
        }
        score = real_flat(c, "y_score");
    } else {
        if (!c.has("y_pred")) {
            throw usage_error("bootstrap_ci: metric=" + metric + " needs input 'y_pred'");
        }
        pred = labels(c, "y_pred");
    }
    if ((metric == "roc_auc" ? score.size() : pred.size()) != y.size()) {
        throw usage_error("bootstrap_ci: y_true and the predictions have different lengths");
    }
    auto fn = [&](std::span<const index_t> idx) {
        std::vector<std::int64_t> yt(idx.size()), yp(metric == "roc_auc" ? 0 : idx.size());
        std::vector<double> ys(metric == "roc_auc" ? idx.size() : 0);
        for (std::size_t i = 0; i < idx.size(); ++i) {
            const auto k = static_cast<std::size_t>(idx[i]);
            yt[i] = y[k];
            if (metric == "roc_auc") {
                ys[i] = score[k];
            } else {
                yp[i] = pred[k];
            }
        }
        if (metric == "accuracy") {
            return M::accuracy(yt, yp);
        }
        if (metric == "balanced_accuracy") {
            return M::balanced_accuracy(yt, yp);
        }
        if (metric == "roc_auc") {
            return M::roc_auc_score(yt, ys);
        }
        const auto r = M::precision_recall_fscore_support(yt, yp, prf);
        const auto& v = metric == "f1"          ? r.fscore
                        : metric == "precision" ? r.precision
                        : metric == "recall"    ? r.recall
                                                : r.specificity;
        if (v.size() != 1) {
            throw usage_error("bootstrap_ci: metric=" + metric +
                              " needs an averaged score (average != none)");
        }
        return v[0];
    };
    const auto r = M::bootstrap_ci(fn, static_cast<index_t>(y.size()), o);
    scalar(c, "estimate", r.estimate);
    scalar(c, "lower", r.lower);
    scalar(c, "upper", r.upper);
    vector_out(c, "values", r.values);
}

// ---- clustering and generation scores ------------------------------------------------------------

void run_kmeans(op_context& c) {
    const auto r = M::kmeans(real<2>(c, "input"), {.n_clusters = c.int_attr("n_clusters"),
                                                   .n_init = c.int_attr("n_init"),
                                                   .max_iter = c.int_attr("max_iter"),
                                                   .tol = c.float_attr("tol"),
                                                   .seed = static_cast<std::uint64_t>(c.int_attr("seed"))});
    vector_out(c, "labels", r.labels);
    c.output("cluster_centers", r.centers);
    scalar(c, "inertia", r.inertia);
}

void run_vae_seq_thresholds(op_context& c) {
    const auto r = M::vae_seq_thresholds(real_flat(c, "input"),
                                         {.seed = static_cast<std::uint64_t>(c.int_attr("seed"))});
    scalar(c, "low", r.low);
    scalar(c, "high", r.high);
    vector_out(c, "centroids", r.centroids);
}

void run_frechet(op_context& c) {
    scalar(c, "out", M::frechet_distance(real<2>(c, "x"), real<2>(c, "y")));
}

void run_kernel_distance(op_context& c) {
    const auto r = M::kernel_distance(real<2>(c, "x"), real<2>(c, "y"),
                                      {.subsets = c.int_attr("subsets"),
                                       .subset_size = c.int_attr("subset_size"),
                                       .seed = static_cast<std::uint64_t>(c.int_attr("seed"))});
    scalar(c, "mean", r.mean);
    scalar(c, "std", r.std);
}

void run_diversity(op_context& c) {
    const auto d = c.choice_attr("distance", {"euclidean", "cosine"});
    scalar(c, "out",
           M::diversity_score(real<2>(c, "input"),
                              {.distance = d == "euclidean" ? M::feature_distance::euclidean
                                                            : M::feature_distance::cosine}));
}

void run_overfitting(op_context& c) {
    scalar(c, "out", M::overfitting_score(real<2>(c, "generated"), real<2>(c, "training")));
}

// (F, ...) frames or latents: rank 2 to 5.
template <bool Smoothness>
void run_sequence_score(op_context& c) {
    dispatch_rank<2, 5>(c, "input", [&]<std::size_t R>() {
        const auto x = real<R>(c, "input");
        if constexpr (Smoothness) {
            const auto r = M::dynamic_smoothness(x, {.max_value = c.float_attr("max_value")});
            scalar(c, "score", r.score);
            scalar(c, "mae", r.mae);
        } else {
            scalar(c, "out", M::vae_seq(x, {.round_to_2_decimals = c.bool_attr("round_to_2_decimals")}));
        }
    });
}

// ---- segmentation ----------------------------------------------------------------------------

// Masks: int64 or float (non-zero = foreground), same shape; rank 1 to 3 for dice/iou, 2 or 3 for
// the surface distances.
template <std::size_t R>
Tensor<double, R> mask(op_context& c, const std::string& name) {
    if (c.input_dtype(name) == dtype::i64) {
        const auto t = c.constant<std::int64_t, R>(name);
        Tensor<double, R> out(t.shape());
        std::transform(t.data(), t.data() + t.size(), out.data(),
                       [](std::int64_t v) { return double(v != 0); });
        return out;
    }
    return real<R>(c, name);
}

enum class seg_metric { dice, iou, hausdorff, asd, assd };
template <seg_metric Which>
void run_segmentation(op_context& c) {
    constexpr std::size_t lowest_rank = Which == seg_metric::dice || Which == seg_metric::iou ? 1 : 2;
    dispatch_rank<lowest_rank, 3>(c, "prediction", [&]<std::size_t R>() {
        const auto p = mask<R>(c, "prediction");
        const auto r = mask<R>(c, "reference");
        if constexpr (Which == seg_metric::dice) {
            scalar(c, "out", M::dice(p, r));
        } else if constexpr (Which == seg_metric::iou) {
            scalar(c, "out", M::iou(p, r));
        } else {
            M::surface_distance_options o;
            if (!c.is_none("spacing")) {
                o.spacing = c.float_list_attr("spacing");
            }
            if constexpr (Which == seg_metric::hausdorff) {
                o.percentile = c.float_attr("percentile");
                scalar(c, "out", M::hausdorff_distance(p, r, o));
            } else if constexpr (Which == seg_metric::asd) {
                scalar(c, "out", M::average_surface_distance(p, r, o));
            } else {
                scalar(c, "out", M::average_symmetric_surface_distance(p, r, o));
            }
        }
    });
}

const input_spec y_true{"y_true", false}, y_pred{"y_pred", false}, y_score{"y_score", false};
const std::vector<input_spec> label_pair{y_true, y_pred};
const std::vector<input_spec> masks{{"prediction", false}, {"reference", false}};
const std::vector<attribute_spec> spacing{{"spacing", "floats", "none"}};

const op_registration registration({
    {"confusion_matrix", label_pair, {{"labels", "ints", "none"}}, {"out"}, run_confusion_matrix},
    {"accuracy_score", label_pair, {}, {"out"}, run_label_score<M::accuracy>},
    {"balanced_accuracy_score", label_pair, {}, {"out"}, run_label_score<M::balanced_accuracy>},
    {"precision_recall_fscore_support",
     label_pair,
     {{"average", "string", "none"},
      {"pos_label", "int", "1"},
      {"labels", "ints", "none"},
      {"zero_division", "float", "0"},
      {"beta", "float", "1"}},
     {"precision", "recall", "fscore", "specificity", "support", "labels"},
     run_prfs},
    {"precision_score", label_pair, prf_attributes, {"out"}, run_prf_score<prf_field::precision>},
    {"recall_score", label_pair, prf_attributes, {"out"}, run_prf_score<prf_field::recall>},
    {"f1_score", label_pair, prf_attributes, {"out"}, run_prf_score<prf_field::f1>},
    {"specificity_score", label_pair, prf_attributes, {"out"}, run_prf_score<prf_field::specificity>},
    {"top_k_accuracy_score", {y_true, y_score}, {{"k", "int", "2"}}, {"out"}, run_top_k},
    {"roc_curve",
     {y_true, y_score},
     {{"pos_label", "int", "1"}, {"drop_intermediate", "bool", "true"}},
     {"fpr", "tpr", "thresholds"},
     run_roc_curve},
    {"roc_auc_score", {y_true, y_score}, {{"average", "string", "macro"}}, {"out"}, run_roc_auc},
    {"mcnemar",
     {{"table", false, true}, {"y_true", false, true}, {"pred_a", false, true}, {"pred_b", false, true}},
     {{"exact", "bool", "true"}, {"correction", "bool", "true"}},
     {"statistic", "pvalue"},
     run_mcnemar},
    {"paired_t_test", {{"a", false}, {"b", false}}, {}, {"statistic", "pvalue", "df"}, run_paired_t},
    {"wilcoxon",
     {{"x", false}, {"y", false, true}},
     {{"method", "string", "auto"}},
     {"statistic", "pvalue"},
     run_wilcoxon},
    {"bootstrap_ci",
     {y_true, {"y_pred", false, true}, {"y_score", false, true}},
     {{"metric", "string", "accuracy"},
      {"n_resamples", "int", "2000"},
      {"confidence", "float", "0.95"},
      {"seed", "int", "0"},
      {"average", "string", "binary"},
      {"pos_label", "int", "1"},
      {"labels", "ints", "none"},
      {"zero_division", "float", "0"}},
     {"estimate", "lower", "upper", "values"},
     run_bootstrap_ci},
    {"kmeans",
     {{"input", false}},
     {{"n_clusters", "int", "8"},
      {"n_init", "int", "10"},
      {"max_iter", "int", "300"},
      {"tol", "float", "0.0001"},
      {"seed", "int", "0"}},
     {"labels", "cluster_centers", "inertia"},
     run_kmeans},
    {"vae_seq_thresholds",
     {{"input", false}},
     {{"seed", "int", "3407"}},
     {"low", "high", "centroids"},
     run_vae_seq_thresholds},
    {"frechet_distance", {{"x", false}, {"y", false}}, {}, {"out"}, run_frechet},
    {"kernel_distance",
     {{"x", false}, {"y", false}},
     {{"subsets", "int", "0"}, {"subset_size", "int", "1000"}, {"seed", "int", "0"}},
     {"mean", "std"},
     run_kernel_distance},
    {"diversity_score", {{"input", false}}, {{"distance", "string", "euclidean"}}, {"out"}, run_diversity},
    {"overfitting_score", {{"generated", false}, {"training", false}}, {}, {"out"}, run_overfitting},
    {"vae_seq",
     {{"input", false}},
     {{"round_to_2_decimals", "bool", "false"}},
     {"out"},
     run_sequence_score<false>},
    {"dynamic_smoothness",
     {{"input", false}},
     {{"max_value", "float", "255"}},
     {"score", "mae"},
     run_sequence_score<true>},
    {"dice", masks, {}, {"out"}, run_segmentation<seg_metric::dice>},
    {"iou", masks, {}, {"out"}, run_segmentation<seg_metric::iou>},
    {"hausdorff_distance",
     masks,
     {{"spacing", "floats", "none"}, {"percentile", "float", "100"}},
     {"out"},
     run_segmentation<seg_metric::hausdorff>},
    {"average_surface_distance", masks, spacing, {"out"}, run_segmentation<seg_metric::asd>},
    {"average_symmetric_surface_distance", masks, spacing, {"out"}, run_segmentation<seg_metric::assd>},
});

} // namespace
} // namespace cinediff::tools
