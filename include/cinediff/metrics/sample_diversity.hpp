#pragma once

// Diversity score and overfitting score of a generated set (SF-VD Table 1, after Pan et al. 2021),
// computed on feature vectors (any extractor; raw flattened videos work too). Host only.
//
//   diversity_score(g)      = mean over pairs i < j of dist(g_i, g_j)
//                             dist = Euclidean (default) or cosine distance 1 - cos
//   overfitting_score(g, t) = mean over generated i of max_j cos(g_i, t_j)
//                             (similarity to the nearest training sample; 1 = copies)
// The SF-VD paper does not spell these formulas out (its appendix is not available to us); these
// are the usual definitions, documented as our assumption in docs/metrics.md.
// cos(a, b) = a.b / max(|a| |b|, 1e-8).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/metrics/sequence_consistency.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

enum class feature_distance { euclidean, cosine };

struct diversity_score_options {
    feature_distance distance = feature_distance::euclidean;
};

inline double diversity_score(const Tensor<double, 2>& generated,
                              const diversity_score_options& options = {}) {
    const index_t n = generated.shape(0);
    const index_t d = generated.shape(1);
    if (n < 2 || d < 1) {
        throw std::invalid_argument("diversity_score: need at least 2 samples of >= 1 feature");
    }
    // one partial sum per row (fixed order), combined in order: deterministic for any thread count
    std::vector<double> row(static_cast<std::size_t>(n), 0.0);
    backend::parallel_for(n, n * d, [&](index_t i) {
        double s = 0;
        for (index_t j = i + 1; j < n; ++j) {
            const double* a = generated.data() + i * d;
            const double* b = generated.data() + j * d;
            if (options.distance == feature_distance::euclidean) {
                double q = 0;
                for (index_t k = 0; k < d; ++k) {
                    q += (a[k] - b[k]) * (a[k] - b[k]);
                }
                s += std::sqrt(q);
            } else {
                s += 1.0 - detail::cosine_similarity(a, b, d);
            }
        }
        row[static_cast<std::size_t>(i)] = s;
    });
    double total = 0;
    for (double v : row) {
        total += v;
    }
    return total / (0.5 * static_cast<double>(n) * static_cast<double>(n - 1));
}

inline double overfitting_score(const Tensor<double, 2>& generated, const Tensor<double, 2>& training) {
    const index_t n = generated.shape(0);
    const index_t m = training.shape(0);
    const index_t d = generated.shape(1);
    if (training.shape(1) != d || d < 1) {
        throw std::invalid_argument("overfitting_score: feature dimensions differ or are empty");
    }
    if (n < 1 || m < 1) {
        throw std::invalid_argument("overfitting_score: both sets need at least one sample");
    }
    std::vector<double> best(static_cast<std::size_t>(n));
    backend::parallel_for(n, m * d, [&](index_t i) {
        double b = -std::numeric_limits<double>::infinity();
        for (index_t j = 0; j < m; ++j) {
            b = std::max(b, detail::cosine_similarity(generated.data() + i * d, training.data() + j * d, d));
        }
        best[static_cast<std::size_t>(i)] = b;
    });
    double s = 0;
    for (double v : best) {
        s += v;
    }
    return s / static_cast<double>(n);
}

} // namespace cinediff::metrics
