#pragma once

// Label-based classification metrics with scikit-learn 1.2's semantics: confusion_matrix,
// accuracy_score, balanced_accuracy_score, precision_recall_fscore_support (precision, recall =
// sensitivity, F-beta, plus per-class specificity), top_k_accuracy_score. Host only.
//
// Labels are int64 class ids. Unless `labels` is given, the label set is the sorted union of the
// values in y_true and y_pred (sklearn's unique_labels). Empty inputs and length mismatches throw
// std::invalid_argument. Division by zero (a class never predicted, or never present) gives
// `zero_division` (default 0, sklearn's 'warn' behaviour without the warning). See docs/metrics.md.

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

namespace detail {

inline void check_same_length(std::size_t a, std::size_t b, const char* what) {
    if (a != b) {
        throw std::invalid_argument(std::string(what) + ": y_true has " + std::to_string(a) +
                                    " elements but the second input has " + std::to_string(b));
    }
}

inline void check_not_empty(std::size_t n, const char* what) {
    if (n == 0) {
        throw std::invalid_argument(std::string(what) + ": empty input");
    }
}

// Sorted union of the labels of both vectors.
inline std::vector<std::int64_t> unique_labels(std::span<const std::int64_t> a,
                                               std::span<const std::int64_t> b = {}) {
    std::vector<std::int64_t> out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

} // namespace detail

struct confusion_matrix_options {
    // Rows/columns in this order; samples whose true or predicted label is not listed are ignored
    // (as sklearn). Empty: the sorted union of y_true and y_pred.
    std::vector<std::int64_t> labels{};
};

// C(i, j) = number of samples with true label labels[i] and predicted label labels[j].
inline Tensor<std::int64_t, 2> confusion_matrix(std::span<const std::int64_t> y_true,
                                                std::span<const std::int64_t> y_pred,
                                                const confusion_matrix_options& options = {}) {
    detail::check_same_length(y_true.size(), y_pred.size(), "confusion_matrix");
    const std::vector<std::int64_t> labels =
        options.labels.empty() ? detail::unique_labels(y_true, y_pred) : options.labels;
    std::map<std::int64_t, index_t> index;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (!index.emplace(labels[i], static_cast<index_t>(i)).second) {
            throw std::invalid_argument("confusion_matrix: label " + std::to_string(labels[i]) +
                                        " is listed twice");
        }
    }
    const auto k = static_cast<index_t>(labels.size());
    Tensor<std::int64_t, 2> c(shape_t<2>{k, k});
    for (std::size_t s = 0; s < y_true.size(); ++s) {
        const auto it = index.find(y_true[s]);
        const auto jt = index.find(y_pred[s]);
        if (it != index.end() && jt != index.end()) {
            ++c(it->second, jt->second);
        }
    }
    return c;
}

// Fraction of samples with y_pred == y_true.
inline double accuracy(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred) {
    detail::check_same_length(y_true.size(), y_pred.size(), "accuracy");
    detail::check_not_empty(y_true.size(), "accuracy");
    std::size_t hits = 0;
    for (std::size_t i = 0; i < y_true.size(); ++i) {
        hits += y_true[i] == y_pred[i] ? 1 : 0;
    }
    return static_cast<double>(hits) / static_cast<double>(y_true.size());
}

// Mean of the per-class recalls over the classes present in y_true (classes that only occur in
// y_pred are left out, as sklearn does with a warning).
inline double balanced_accuracy(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred) {
    detail::check_same_length(y_true.size(), y_pred.size(), "balanced_accuracy");
    detail::check_not_empty(y_true.size(), "balanced_accuracy");
    const auto c = confusion_matrix(y_true, y_pred);
    double sum = 0;
    int classes = 0;
    for (index_t i = 0; i < c.shape(0); ++i) {
        std::int64_t row = 0;
        for (index_t j = 0; j < c.shape(1); ++j) {
            row += c(i, j);
        }
        if (row > 0) {
            sum += static_cast<double>(c(i, i)) / static_cast<double>(row);
            ++classes;
        }
    }
    return sum / classes;
}

// sklearn's `average`: none = per-class values; binary = the class pos_label only (needs at most
// two distinct labels in y_true and y_pred); micro = from the summed counts; macro = unweighted mean
// over labels; weighted = mean weighted by support (true count).
enum class averaging { none, binary, micro, macro, weighted };

struct prf_options {
    averaging average = averaging::binary;
    std::int64_t pos_label = 1;
    std::vector<std::int64_t> labels{}; // empty: sorted union of y_true and y_pred
    double beta = 1.0;                  // F-beta; 1 = F1
    double zero_division = 0.0;         // value of 0/0 ratios (sklearn: 'warn' -> 0, or 0, or 1)
};

// Per-class (averaging::none) or averaged (one element) scores. `labels` are the classes in the
// order of the per-class vectors; `support` the true count per class (empty when averaged).
struct prf_result {
    std::vector<std::int64_t> labels{};
    std::vector<double> precision;
    std::vector<double> recall; // = sensitivity
    std::vector<double> fscore;
    std::vector<double> specificity;
    std::vector<std::int64_t> support;
};

inline prf_result precision_recall_fscore_support(std::span<const std::int64_t> y_true,
                                                  std::span<const std::int64_t> y_pred,
                                                  const prf_options& options = {}) {
    detail::check_same_length(y_true.size(), y_pred.size(), "precision_recall_fscore_support");
    detail::check_not_empty(y_true.size(), "precision_recall_fscore_support");
    if (!(options.beta >= 0)) {
        throw std::invalid_argument("precision_recall_fscore_support: beta must be >= 0");
    }
    const std::vector<std::int64_t> present = detail::unique_labels(y_true, y_pred);
    std::vector<std::int64_t> labels{};
    if (options.average == averaging::binary) {
        if (present.size() > 2) {
            throw std::invalid_argument("precision_recall_fscore_support: average=binary needs at most two "
                                        "distinct labels, found " +
                                        std::to_string(present.size()) +
                                        "; choose micro, macro, weighted or none");
        }
        if (std::find(present.begin(), present.end(), options.pos_label) == present.end() &&
            present.size() >= 2) {
            throw std::invalid_argument("precision_recall_fscore_support: pos_label=" +
                                        std::to_string(options.pos_label) + " is not a valid label");
        }
        labels = {options.pos_label};
    } else {
        labels = options.labels.empty() ? present : options.labels;
    }
    const std::size_t k = labels.size();
    const auto n = static_cast<double>(y_true.size());
    std::vector<double> tp(k, 0), pred(k, 0), truth(k, 0);
    std::map<std::int64_t, std::size_t> index;
    for (std::size_t i = 0; i < k; ++i) {
        index.emplace(labels[i], i);
    }
    for (std::size_t s = 0; s < y_true.size(); ++s) {
        const auto it = index.find(y_true[s]);
        const auto jt = index.find(y_pred[s]);
        if (it != index.end()) {
            truth[it->second] += 1;
            if (y_true[s] == y_pred[s]) {
                tp[it->second] += 1;
            }
        }
        if (jt != index.end()) {
            pred[jt->second] += 1;
        }
    }
    // tn = n - tp - fp - fn = n - pred - truth + tp; negatives = n - truth
    std::vector<double> tn(k), neg(k);
    for (std::size_t i = 0; i < k; ++i) {
        tn[i] = n - pred[i] - truth[i] + tp[i];
        neg[i] = n - truth[i];
    }
    if (options.average == averaging::micro) {
        auto total = [](const std::vector<double>& v) {
            double s = 0;
            for (double x : v) {
                s += x;
            }
            return std::vector<double>{s};
        };
        tp = total(tp);
        pred = total(pred);
        tn = total(tn);
        neg = total(neg);
        truth = total(truth);
    }
    const double zd = options.zero_division;
    const double beta2 = options.beta * options.beta;
    auto divide = [zd](double a, double b) { return b == 0 ? zd : a / b; };
    const std::size_t m = tp.size();
    prf_result r;
    r.precision.resize(m);
    r.recall.resize(m);
    r.fscore.resize(m);
    r.specificity.resize(m);
    for (std::size_t i = 0; i < m; ++i) {
        r.precision[i] = divide(tp[i], pred[i]);
        r.recall[i] = divide(tp[i], truth[i]);
        r.specificity[i] = divide(tn[i], neg[i]);
        double denom = beta2 * r.precision[i] + r.recall[i];
        if (denom == 0) {
            denom = 1;
        }
        r.fscore[i] = (1 + beta2) * r.precision[i] * r.recall[i] / denom;
    }
    if (options.average == averaging::none) {
        r.labels = labels;
        r.support.resize(k);
        for (std::size_t i = 0; i < k; ++i) {
            r.support[i] = static_cast<std::int64_t>(truth[i]);
        }
        return r;
    }
    if (options.average == averaging::binary || options.average == averaging::micro) {
        r.labels = options.average == averaging::binary ? labels : std::vector<std::int64_t>{};
        return r;
    }
    // macro / weighted
    std::vector<double> w(m, 1.0);
    if (options.average == averaging::weighted) {
        double wsum = 0, psum = 0;
        for (std::size_t i = 0; i < m; ++i) {
            w[i] = truth[i];
            wsum += truth[i];
            psum += pred[i];
        }
        if (wsum == 0) {
            // sklearn: no true sample of any listed label
            const double zdv = zd == 1.0 ? 1.0 : 0.0;
            prf_result e;
            e.precision = {psum == 0 ? zdv : 0.0};
            e.recall = {zdv};
            e.fscore = {psum == 0 ? zdv : 0.0};
            e.specificity = {zdv};
            return e;
        }
    }
    auto wavg = [&](const std::vector<double>& v) {
        double num = 0, den = 0;
        for (std::size_t i = 0; i < m; ++i) {
            num += w[i] * v[i];
            den += w[i];
        }
        return std::vector<double>{num / den};
    };
    prf_result a;
    a.precision = wavg(r.precision);
    a.recall = wavg(r.recall);
    a.fscore = wavg(r.fscore);
    a.specificity = wavg(r.specificity);
    return a;
}

namespace detail {

inline double averaged(const std::vector<double>& v, const prf_options& options, const char* what) {
    if (options.average == averaging::none) {
        throw std::invalid_argument(
            std::string(what) + ": average=none gives per-class values; use precision_recall_fscore_support");
    }
    return v.front();
}

} // namespace detail

inline double precision_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                              const prf_options& options = {}) {
    return detail::averaged(precision_recall_fscore_support(y_true, y_pred, options).precision, options,
                            "precision_score");
}

// Recall = sensitivity = TP / (TP + FN).
inline double recall_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                           const prf_options& options = {}) {
    return detail::averaged(precision_recall_fscore_support(y_true, y_pred, options).recall, options,
                            "recall_score");
}
inline double sensitivity_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                                const prf_options& options = {}) {
    return recall_score(y_true, y_pred, options);
}

// Specificity = TN / (TN + FP) of each class against the rest (not in sklearn; same averaging).
inline double specificity_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                                const prf_options& options = {}) {
    return detail::averaged(precision_recall_fscore_support(y_true, y_pred, options).specificity, options,
                            "specificity_score");
}

inline double fbeta_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                          const prf_options& options = {}) {
    return detail::averaged(precision_recall_fscore_support(y_true, y_pred, options).fscore, options,
                            "fbeta_score");
}

// F1 (beta is forced to 1).
inline double f1_score(std::span<const std::int64_t> y_true, std::span<const std::int64_t> y_pred,
                       prf_options options = {}) {
    options.beta = 1.0;
    return fbeta_score(y_true, y_pred, options);
}

struct top_k_accuracy_options {
    index_t k = 2;
};

// Fraction of samples whose true class (0 .. C-1, the columns of `y_score` (N, C)) is among the k
// highest scores. Ties are broken as sklearn's argsort(kind='mergesort')[:, ::-1]: among equal
// scores the higher class index ranks first. k >= C gives 1.
inline double top_k_accuracy(std::span<const std::int64_t> y_true, const Tensor<double, 2>& y_score,
                             const top_k_accuracy_options& options = {}) {
    const index_t n = y_score.shape(0);
    const index_t c = y_score.shape(1);
    detail::check_same_length(y_true.size(), static_cast<std::size_t>(n), "top_k_accuracy");
    detail::check_not_empty(y_true.size(), "top_k_accuracy");
    if (options.k < 1) {
        throw std::invalid_argument("top_k_accuracy: k must be >= 1, got " + std::to_string(options.k));
    }
    std::size_t hits = 0;
    for (index_t i = 0; i < n; ++i) {
        const std::int64_t t = y_true[static_cast<std::size_t>(i)];
        if (t < 0 || t >= c) {
            throw std::invalid_argument("top_k_accuracy: label " + std::to_string(t) +
                                        " is not a column of y_score (" + std::to_string(c) + " classes)");
        }
        // rank of class t: classes with a higher score, or an equal score and a higher index, come first
        const double st = y_score(i, t);
        index_t ahead = 0;
        for (index_t j = 0; j < c; ++j) {
            const double s = y_score(i, j);
            if (s > st || (s == st && j > t)) {
                ++ahead;
            }
        }
        hits += ahead < options.k ? 1 : 0;
    }
    return static_cast<double>(hits) / static_cast<double>(n);
}

} // namespace cinediff::metrics
