#pragma once

// K-means clustering with scikit-learn 1.2's algorithm (KMeans(algorithm='lloyd', init='k-means++')),
// drawing its random numbers from Philox instead of NumPy's RandomState. Host only.
//
// - Data are centred (X - mean(X)) before clustering and the centres shifted back, as sklearn.
// - tol is relative: the absolute tolerance is tol * mean over features of var(X[:, j]).
// - Initialisation (greedy k-means++, sklearn's _kmeans_plusplus): the first centre is a uniform
//   random sample; each further centre is the best of n_local_trials = 2 + floor(ln k) candidates
//   drawn with probability proportional to D(x)^2 (searchsorted on the cumulative sum), "best" =
//   lowest total potential sum_x min(D(x)^2, |x - candidate|^2).
// - Lloyd iterations: assign every sample to its nearest centre (lowest index on ties), move
//   centres to the means, relocate empty clusters to the samples farthest from their centres
//   (sklearn's _relocate_empty_clusters_dense). Stop when the labels do not change (strict
//   convergence) or when sum_k |c_k' - c_k|^2 <= tol; without strict convergence a final
//   assignment step makes the labels match the returned centres.
// - n_init runs, run r drawing from the stream stream_id("metrics/kmeans", r) under `seed`; the
//   result is the first run with the lowest inertia (a later run replaces it only when its inertia
//   is strictly lower and its partition differs, as sklearn 1.2).
// Random draws per run: one fill_randint(0, n) for the first centre, then per further centre one
// fill_uniform<double> of n_local_trials values (times the current potential).
// Runs are sequential; assignments are parallel per sample, so results do not depend on threads.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/random.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

struct kmeans_options {
    index_t n_clusters = 8;
    index_t n_init = 10;
    index_t max_iter = 300;
    double tol = 1e-4;
    std::uint64_t seed = 0;
};

struct kmeans_result {
    Tensor<double, 2> centers;        // (n_clusters, D)
    std::vector<std::int64_t> labels; // (N)
    double inertia = 0;               // sum of squared distances to the assigned centre
    index_t n_iter = 0;               // Lloyd iterations of the chosen run
};

namespace detail {

inline double squared_distance(const double* a, const double* b, index_t d) {
    double s = 0;
    for (index_t j = 0; j < d; ++j) {
        const double e = a[j] - b[j];
        s += e * e;
    }
    return s;
}

// Assigns labels; returns nothing (labels written in place).
inline void kmeans_assign(const std::vector<double>& x, index_t n, index_t d,
                          const std::vector<double>& centers, index_t k, std::vector<std::int64_t>& labels) {
    backend::parallel_for(n, k * d, [&](index_t i) {
        const double* xi = x.data() + i * d;
        double best = std::numeric_limits<double>::infinity();
        std::int64_t arg = 0;
        for (index_t c = 0; c < k; ++c) {
            const double dist = squared_distance(xi, centers.data() + c * d, d);
            if (dist < best) {
                best = dist;
                arg = c;
            }
        }
        labels[static_cast<std::size_t>(i)] = arg;
    });
}

inline double kmeans_inertia(const std::vector<double>& x, index_t n, index_t d,
                             const std::vector<double>& centers, const std::vector<std::int64_t>& labels) {
    double s = 0;
    for (index_t i = 0; i < n; ++i) {
        s += squared_distance(x.data() + i * d, centers.data() + labels[static_cast<std::size_t>(i)] * d, d);
    }
    return s;
}

inline std::vector<double> kmeans_plusplus(const std::vector<double>& x, index_t n, index_t d, index_t k,
                                           philox_generator& gen) {
    std::vector<double> centers(static_cast<std::size_t>(k * d));
    const index_t trials = 2 + static_cast<index_t>(std::log(static_cast<double>(k)));
    index_t first = 0;
    fill_randint(std::span<index_t>(&first, 1), gen, 0, n);
    std::copy_n(x.data() + first * d, d, centers.data());
    std::vector<double> closest(static_cast<std::size_t>(n));
    double pot = 0;
    for (index_t i = 0; i < n; ++i) {
        closest[static_cast<std::size_t>(i)] = squared_distance(x.data() + i * d, centers.data(), d);
        pot += closest[static_cast<std::size_t>(i)];
    }
    std::vector<double> cumsum(static_cast<std::size_t>(n));
    std::vector<double> rand(static_cast<std::size_t>(trials));
    std::vector<double> cand_dist(static_cast<std::size_t>(trials * n));
    for (index_t c = 1; c < k; ++c) {
        fill_uniform(std::span<double>(rand), gen);
        double acc = 0;
        for (index_t i = 0; i < n; ++i) {
            acc += closest[static_cast<std::size_t>(i)];
            cumsum[static_cast<std::size_t>(i)] = acc;
        }
        index_t best_t = 0;
        double best_pot = std::numeric_limits<double>::infinity();
        std::vector<index_t> cand(static_cast<std::size_t>(trials));
        for (index_t t = 0; t < trials; ++t) {
            const double v = rand[static_cast<std::size_t>(t)] * pot;
            auto id =
                static_cast<index_t>(std::lower_bound(cumsum.begin(), cumsum.end(), v) - cumsum.begin());
            id = std::min(id, n - 1);
            cand[static_cast<std::size_t>(t)] = id;
            double cp = 0;
            for (index_t i = 0; i < n; ++i) {
                const double dd = std::min(closest[static_cast<std::size_t>(i)],
                                           squared_distance(x.data() + i * d, x.data() + id * d, d));
                cand_dist[static_cast<std::size_t>(t * n + i)] = dd;
                cp += dd;
            }
            if (cp < best_pot) {
                best_pot = cp;
                best_t = t;
            }
        }
        pot = best_pot;
        std::copy_n(cand_dist.data() + best_t * n, n, closest.data());
        std::copy_n(x.data() + cand[static_cast<std::size_t>(best_t)] * d, d, centers.data() + c * d);
    }
    return centers;
}

inline bool same_clustering(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
    std::map<std::int64_t, std::int64_t> m;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto [it, inserted] = m.emplace(a[i], b[i]);
        if (!inserted && it->second != b[i]) {
            return false;
        }
    }
    return true;
}

struct kmeans_run {
    std::vector<double> centers;
    std::vector<std::int64_t> labels;
    double inertia = 0;
    index_t n_iter = 0;
};

inline kmeans_run kmeans_lloyd(const std::vector<double>& x, index_t n, index_t d, index_t k,
                               std::vector<double> centers, index_t max_iter, double tol) {
    kmeans_run r;
    std::vector<std::int64_t> labels(static_cast<std::size_t>(n), -1),
        labels_old(static_cast<std::size_t>(n), -1);
    std::vector<double> sums(static_cast<std::size_t>(k * d));
    std::vector<double> weight(static_cast<std::size_t>(k));
    bool strict = false;
    index_t it = 0;
    for (; it < max_iter; ++it) {
        kmeans_assign(x, n, d, centers, k, labels);
        std::fill(sums.begin(), sums.end(), 0.0);
        std::fill(weight.begin(), weight.end(), 0.0);
        for (index_t i = 0; i < n; ++i) {
            const auto l = labels[static_cast<std::size_t>(i)];
            weight[static_cast<std::size_t>(l)] += 1.0;
            for (index_t j = 0; j < d; ++j) {
                sums[static_cast<std::size_t>(l * d + j)] += x[static_cast<std::size_t>(i * d + j)];
            }
        }
        std::vector<index_t> empty;
        for (index_t c = 0; c < k; ++c) {
            if (weight[static_cast<std::size_t>(c)] == 0) {
                empty.push_back(c);
            }
        }
        if (!empty.empty()) {
            std::vector<double> dist(static_cast<std::size_t>(n));
            for (index_t i = 0; i < n; ++i) {
                dist[static_cast<std::size_t>(i)] = squared_distance(
                    x.data() + i * d, centers.data() + labels[static_cast<std::size_t>(i)] * d, d);
            }
            std::vector<index_t> order(static_cast<std::size_t>(n));
            for (index_t i = 0; i < n; ++i) {
                order[static_cast<std::size_t>(i)] = i;
            }
            std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
                return dist[static_cast<std::size_t>(a)] > dist[static_cast<std::size_t>(b)];
            });
            for (std::size_t e = 0; e < empty.size(); ++e) {
                const index_t far = order[e];
                const auto old = labels[static_cast<std::size_t>(far)];
                const index_t fresh = empty[e];
                for (index_t j = 0; j < d; ++j) {
                    sums[static_cast<std::size_t>(old * d + j)] -= x[static_cast<std::size_t>(far * d + j)];
                    sums[static_cast<std::size_t>(fresh * d + j)] = x[static_cast<std::size_t>(far * d + j)];
                }
                weight[static_cast<std::size_t>(fresh)] = 1.0;
                weight[static_cast<std::size_t>(old)] -= 1.0;
            }
        }
        double shift = 0;
        for (index_t c = 0; c < k; ++c) {
            const double w = weight[static_cast<std::size_t>(c)];
            for (index_t j = 0; j < d; ++j) {
                const auto q = static_cast<std::size_t>(c * d + j);
                const double nc = w > 0 ? sums[q] / w : centers[q];
                shift += (nc - centers[q]) * (nc - centers[q]);
                centers[q] = nc;
            }
        }
        if (labels == labels_old) {
            strict = true;
            break;
        }
        if (shift <= tol) {
            break;
        }
        labels_old = labels;
    }
    if (!strict) {
        kmeans_assign(x, n, d, centers, k, labels);
    }
    r.n_iter = std::min(it + 1, max_iter);
    r.inertia = kmeans_inertia(x, n, d, centers, labels);
    r.centers = std::move(centers);
    r.labels = std::move(labels);
    return r;
}

} // namespace detail

inline kmeans_result kmeans(const Tensor<double, 2>& data, const kmeans_options& options = {}) {
    const index_t n = data.shape(0);
    const index_t d = data.shape(1);
    const index_t k = options.n_clusters;
    if (k < 1 || n < k) {
        throw std::invalid_argument("kmeans: need 1 <= n_clusters <= n_samples, got n_clusters = " +
                                    std::to_string(k) + " for " + std::to_string(n) + " samples");
    }
    if (d < 1 || options.n_init < 1 || options.max_iter < 1 || !(options.tol >= 0)) {
        throw std::invalid_argument("kmeans: need >= 1 feature, n_init >= 1, max_iter >= 1 and tol >= 0");
    }
    std::vector<double> x(data.data(), data.data() + n * d);
    for (double v : x) {
        if (!std::isfinite(v)) {
            throw std::invalid_argument("kmeans: the data contain NaN or infinity");
        }
    }
    std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
    for (index_t i = 0; i < n; ++i) {
        for (index_t j = 0; j < d; ++j) {
            mean[static_cast<std::size_t>(j)] += x[static_cast<std::size_t>(i * d + j)];
        }
    }
    for (double& m : mean) {
        m /= static_cast<double>(n);
    }
    double var_sum = 0;
    for (index_t j = 0; j < d; ++j) {
        double ss = 0;
        for (index_t i = 0; i < n; ++i) {
            auto& v = x[static_cast<std::size_t>(i * d + j)];
            v -= mean[static_cast<std::size_t>(j)];
            ss += v * v;
        }
        var_sum += ss / static_cast<double>(n);
    }
    const double tol = options.tol * var_sum / static_cast<double>(d);
    detail::kmeans_run best;
    bool have = false;
    for (index_t r = 0; r < options.n_init; ++r) {
        philox_generator gen(options.seed, stream_id("metrics/kmeans", static_cast<std::uint64_t>(r)));
        auto init = detail::kmeans_plusplus(x, n, d, k, gen);
        auto run = detail::kmeans_lloyd(x, n, d, k, std::move(init), options.max_iter, tol);
        if (!have || (run.inertia < best.inertia && !detail::same_clustering(run.labels, best.labels))) {
            best = std::move(run);
            have = true;
        }
    }
    kmeans_result out;
    out.centers = Tensor<double, 2>(shape_t<2>{k, d});
    for (index_t c = 0; c < k; ++c) {
        for (index_t j = 0; j < d; ++j) {
            out.centers(c, j) =
                best.centers[static_cast<std::size_t>(c * d + j)] + mean[static_cast<std::size_t>(j)];
        }
    }
    out.labels = std::move(best.labels);
    out.inertia = best.inertia;
    out.n_iter = best.n_iter;
    return out;
}

// K-means of 1-D values; returns the centroids sorted ascending.
inline std::vector<double> kmeans_sorted_centroids_1d(std::span<const double> values,
                                                      const kmeans_options& options) {
    Tensor<double, 2> x(shape_t<2>{static_cast<index_t>(values.size()), 1});
    std::copy(values.begin(), values.end(), x.data());
    const auto r = kmeans(x, options);
    std::vector<double> c(r.centers.data(), r.centers.data() + r.centers.size());
    std::sort(c.begin(), c.end());
    return c;
}

struct vae_seq_thresholds_result {
    double low = 0;                // (c0 + c1) / 2
    double high = 0;               // (c2 + c3) / 2
    std::vector<double> centroids; // the 4 sorted centroids
};

struct vae_seq_thresholds_options {
    index_t n_init = 10;
    index_t max_iter = 300;
    double tol = 1e-4;
    std::uint64_t seed = 3407; // Ctrl-GenAug's random_state (the draws differ: Philox, not NumPy)
};

// Ctrl-GenAug's inner-sequence filter thresholds: KMeans(K = 4) on all VAE-Seq values, low = midpoint
// of the two lowest sorted centroids, high = midpoint of the two highest; a clip is kept iff
// low <= VAE-Seq <= high.
inline vae_seq_thresholds_result vae_seq_thresholds(std::span<const double> values,
                                                    const vae_seq_thresholds_options& options = {}) {
    kmeans_options o;
    o.n_clusters = 4;
    o.n_init = options.n_init;
    o.max_iter = options.max_iter;
    o.tol = options.tol;
    o.seed = options.seed;
    vae_seq_thresholds_result r;
    r.centroids = kmeans_sorted_centroids_1d(values, o);
    r.low = (r.centroids[0] + r.centroids[1]) / 2.0;
    r.high = (r.centroids[2] + r.centroids[3]) / 2.0;
    return r;
}

} // namespace cinediff::metrics
