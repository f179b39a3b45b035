#pragma once

// ROC curve and area under it with scikit-learn 1.2's semantics (roc_curve with
// drop_intermediate=True, roc_auc_score binary and multi_class='ovr' with average 'macro' or
// 'weighted'). Host only.
//
// Ties: samples with equal scores form one threshold (one ROC point), so a tie contributes a
// diagonal segment and the area is the trapezoid rule over distinct thresholds, as sklearn.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/metrics/classification.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

struct roc_curve_options {
    std::int64_t pos_label = 1;    // samples with y_true == pos_label are positives, all others negatives
    bool drop_intermediate = true; // drop collinear points (they do not change the area)
};

// Points (fpr[i], tpr[i]) for decreasing thresholds; the first point is (0, 0) at thresholds[0] =
// max score + 1 (sklearn 1.2). Without negatives fpr is NaN throughout, without positives tpr.
struct roc_curve_result {
    std::vector<double> fpr;
    std::vector<double> tpr;
    std::vector<double> thresholds;
};

inline roc_curve_result roc_curve(std::span<const std::int64_t> y_true, std::span<const double> y_score,
                                  const roc_curve_options& options = {}) {
    detail::check_same_length(y_true.size(), y_score.size(), "roc_curve");
    detail::check_not_empty(y_true.size(), "roc_curve");
    for (double s : y_score) {
        if (!std::isfinite(s)) {
            throw std::invalid_argument("roc_curve: scores must be finite");
        }
    }
    const std::size_t n = y_true.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return y_score[a] > y_score[b]; });
    // _binary_clf_curve: cumulative counts at the last index of every distinct score
    std::vector<double> fps, tps, thr;
    double tp = 0;
    for (std::size_t i = 0; i < n; ++i) {
        tp += y_true[order[i]] == options.pos_label ? 1.0 : 0.0;
        if (i + 1 == n || y_score[order[i + 1]] != y_score[order[i]]) {
            tps.push_back(tp);
            fps.push_back(static_cast<double>(i + 1) - tp);
            thr.push_back(y_score[order[i]]);
        }
    }
    if (options.drop_intermediate && fps.size() > 2) {
        std::vector<double> f2, t2, h2;
        for (std::size_t i = 0; i < fps.size(); ++i) {
            const bool keep = i == 0 || i + 1 == fps.size() ||
                              (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]) != 0 ||
                              (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]) != 0;
            if (keep) {
                f2.push_back(fps[i]);
                t2.push_back(tps[i]);
                h2.push_back(thr[i]);
            }
        }
        fps.swap(f2);
        tps.swap(t2);
        thr.swap(h2);
    }
    fps.insert(fps.begin(), 0.0);
    tps.insert(tps.begin(), 0.0);
    thr.insert(thr.begin(), thr.front() + 1.0);
    roc_curve_result r;
    r.fpr.resize(fps.size());
    r.tpr.resize(tps.size());
    const double fn = fps.back();
    const double tn = tps.back();
    for (std::size_t i = 0; i < fps.size(); ++i) {
        r.fpr[i] = fn > 0 ? fps[i] / fn : std::nan("");
        r.tpr[i] = tn > 0 ? tps[i] / tn : std::nan("");
    }
    r.thresholds = std::move(thr);
    return r;
}

// Trapezoid rule (numpy.trapz) over a monotonic x; decreasing x gives a positive area as sklearn.auc.
inline double auc(std::span<const double> x, std::span<const double> y) {
    detail::check_same_length(x.size(), y.size(), "auc");
    if (x.size() < 2) {
        throw std::invalid_argument("auc: at least 2 points are needed");
    }
    double direction = 1;
    bool increasing = true, decreasing = true;
    for (std::size_t i = 1; i < x.size(); ++i) {
        increasing = increasing && x[i] >= x[i - 1];
        decreasing = decreasing && x[i] <= x[i - 1];
    }
    if (!increasing) {
        if (!decreasing) {
            throw std::invalid_argument("auc: x is neither increasing nor decreasing");
        }
        direction = -1;
    }
    double area = 0;
    for (std::size_t i = 1; i < x.size(); ++i) {
        area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
    }
    return direction * area;
}

// Binary AUROC. y_true must hold exactly two distinct labels; the larger one is the positive class
// (sklearn's label_binarize over np.unique(y_true)). A single class throws std::invalid_argument
// ("only one class present"), which bootstrap_ci counts as a skipped resample.
inline double roc_auc_score(std::span<const std::int64_t> y_true, std::span<const double> y_score) {
    detail::check_same_length(y_true.size(), y_score.size(), "roc_auc_score");
    detail::check_not_empty(y_true.size(), "roc_auc_score");
    const auto classes = detail::unique_labels(y_true);
    if (classes.size() != 2) {
        throw std::invalid_argument(
            classes.size() == 1 ? "roc_auc_score: only one class present in y_true; AUROC is not defined"
                                : "roc_auc_score: binary AUROC needs exactly two classes in y_true, found " +
                                      std::to_string(classes.size()) + " (use the (N, C) score overload)");
    }
    const auto r = roc_curve(y_true, y_score, {.pos_label = classes[1], .drop_intermediate = true});
    return auc(r.fpr, r.tpr);
}

enum class roc_average { macro, weighted };

struct roc_auc_options {
    roc_average average = roc_average::macro; // over the one-vs-rest AUROCs; weighted by class support
    bool check_probabilities = true;          // rows of y_score must sum to 1 (numpy.allclose), as sklearn
};

// One-vs-rest AUROC of every class: column j of y_score (N, C) scores class classes[j], where
// classes = the sorted distinct values of y_true, which must number exactly C (sklearn).
inline std::vector<double> roc_auc_ovr_per_class(std::span<const std::int64_t> y_true,
                                                 const Tensor<double, 2>& y_score,
                                                 const roc_auc_options& options = {}) {
    const index_t n = y_score.shape(0);
    const index_t c = y_score.shape(1);
    detail::check_same_length(y_true.size(), static_cast<std::size_t>(n), "roc_auc_score");
    detail::check_not_empty(y_true.size(), "roc_auc_score");
    const auto classes = detail::unique_labels(y_true);
    if (static_cast<index_t>(classes.size()) != c) {
        throw std::invalid_argument(
            "roc_auc_score: number of classes in y_true (" + std::to_string(classes.size()) +
            ") is not equal to the number of columns of y_score (" + std::to_string(c) + ")");
    }
    if (options.check_probabilities) {
        for (index_t i = 0; i < n; ++i) {
            double s = 0;
            for (index_t j = 0; j < c; ++j) {
                s += y_score(i, j);
            }
            if (!(std::abs(1.0 - s) <= 1e-8 + 1e-5 * std::abs(s))) {
                throw std::invalid_argument(
                    "roc_auc_score: target scores need to be probabilities for multiclass "
                    "roc_auc, i.e. they should sum up to 1.0 over classes");
            }
        }
    }
    std::vector<double> out(static_cast<std::size_t>(c));
    std::vector<std::int64_t> binary(static_cast<std::size_t>(n));
    std::vector<double> column(static_cast<std::size_t>(n));
    for (index_t j = 0; j < c; ++j) {
        for (index_t i = 0; i < n; ++i) {
            binary[static_cast<std::size_t>(i)] =
                y_true[static_cast<std::size_t>(i)] == classes[static_cast<std::size_t>(j)];
            column[static_cast<std::size_t>(i)] = y_score(i, j);
        }
        out[static_cast<std::size_t>(j)] = roc_auc_score(binary, column);
    }
    return out;
}

// Multi-class one-vs-rest AUROC (sklearn roc_auc_score(multi_class='ovr', average=...)). With C = 2
// it is the binary AUROC of column 1 (sklearn would need the 1-D scores there).
inline double roc_auc_score(std::span<const std::int64_t> y_true, const Tensor<double, 2>& y_score,
                            const roc_auc_options& options = {}) {
    if (y_score.shape(1) == 2) {
        std::vector<double> col(static_cast<std::size_t>(y_score.shape(0)));
        for (index_t i = 0; i < y_score.shape(0); ++i) {
            col[static_cast<std::size_t>(i)] = y_score(i, 1);
        }
        return roc_auc_score(y_true, std::span<const double>(col));
    }
    const auto per_class = roc_auc_ovr_per_class(y_true, y_score, options);
    const auto classes = detail::unique_labels(y_true);
    double num = 0, den = 0;
    for (std::size_t j = 0; j < per_class.size(); ++j) {
        double w = 1.0;
        if (options.average == roc_average::weighted) {
            w = static_cast<double>(std::count(y_true.begin(), y_true.end(), classes[j]));
        }
        num += w * per_class[j];
        den += w;
    }
    return num / den;
}

} // namespace cinediff::metrics
