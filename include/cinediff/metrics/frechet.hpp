#pragma once

// Fréchet distance between two feature sets (the core of FID / FVD with any feature extractor).
// Host only.
//
//   d^2 = |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr( (C1 C2)^{1/2} )
//
// mu = feature means, C = unbiased covariances (numpy.cov, ddof = 1). The trace of the matrix
// square root is computed from the symmetric positive semi-definite matrix
// M = C1^{1/2} C2 C1^{1/2}, which is similar to C1 C2, so tr((C1 C2)^{1/2}) = sum_i sqrt(lambda_i(M)).
// C1^{1/2} (negative eigenvalues of C1 clamped to 0) and the eigenvalues of M come from Eigen's
// SelfAdjointEigenSolver; eigenvalues of M at rounding level (<= D * eps * lambda_max, negative ones
// included) count as 0, so that rounding noise around a true 0 does not add ~1e-8 per eigenvalue.
// This is stable for singular covariances (fewer samples than features), where
// scipy.linalg.sqrtm(C1 @ C2) needs pytorch-fid's eps * I fallback. The result is clamped at 0 from
// below (rounding can make it slightly negative for equal sets).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

struct feature_statistics {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;
};

// Mean and unbiased covariance of features (N, D); N >= 2.
inline feature_statistics compute_feature_statistics(const Tensor<double, 2>& features) {
    const index_t n = features.shape(0);
    const index_t d = features.shape(1);
    if (n < 2 || d < 1) {
        throw std::invalid_argument("frechet_distance: need at least 2 samples of >= 1 feature, got (" +
                                    std::to_string(n) + ", " + std::to_string(d) + ")");
    }
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> x(
        features.data(), n, d);
    feature_statistics s;
    s.mean = x.colwise().mean().transpose();
    const Eigen::MatrixXd centred = x.rowwise() - s.mean.transpose();
    s.covariance = (centred.transpose() * centred) / static_cast<double>(n - 1);
    return s;
}

// From precomputed statistics (e.g. the reference set's, stored once).
inline double frechet_distance(const feature_statistics& a, const feature_statistics& b) {
    const auto d = a.mean.size();
    if (b.mean.size() != d || a.covariance.rows() != d || a.covariance.cols() != d ||
        b.covariance.rows() != d || b.covariance.cols() != d) {
        throw std::invalid_argument("frechet_distance: the feature dimensions differ");
    }
    const Eigen::MatrixXd c1 = 0.5 * (a.covariance + a.covariance.transpose());
    const Eigen::MatrixXd c2 = 0.5 * (b.covariance + b.covariance.transpose());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e1(c1);
    if (e1.info() != Eigen::Success) {
        throw std::runtime_error("frechet_distance: eigen-decomposition of the first covariance failed");
    }
    const Eigen::VectorXd s1 = e1.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    const Eigen::MatrixXd sqrt_c1 = e1.eigenvectors() * s1.asDiagonal() * e1.eigenvectors().transpose();
    Eigen::MatrixXd m = sqrt_c1 * c2 * sqrt_c1;
    m = 0.5 * (m + m.transpose()).eval();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(m, Eigen::EigenvaluesOnly);
    if (em.info() != Eigen::Success) {
        throw std::runtime_error("frechet_distance: eigen-decomposition of C1^1/2 C2 C1^1/2 failed");
    }
    // Eigenvalues below D * eps * lambda_max are rounding noise around a true 0 (singular
    // covariances); their square roots (~1e-8 lambda_max^1/2) would otherwise enter the trace.
    const double cutoff = static_cast<double>(d) * std::numeric_limits<double>::epsilon() *
                          std::max(em.eigenvalues().cwiseAbs().maxCoeff(), 0.0);
    double tr_sqrt = 0;
    for (Eigen::Index i = 0; i < em.eigenvalues().size(); ++i) {
        const double ev = em.eigenvalues()(i);
        tr_sqrt += ev > cutoff ? std::sqrt(ev) : 0.0;
    }
    const double dist = (a.mean - b.mean).squaredNorm() + c1.trace() + c2.trace() - 2.0 * tr_sqrt;
    return std::max(dist, 0.0);
}

// Fréchet distance between features x (N1, D) and y (N2, D); N1, N2 >= 2.
inline double frechet_distance(const Tensor<double, 2>& x, const Tensor<double, 2>& y) {
    if (x.shape(1) != y.shape(1)) {
        throw std::invalid_argument("frechet_distance: feature dimensions differ (" +
                                    std::to_string(x.shape(1)) + " and " + std::to_string(y.shape(1)) + ")");
    }
    return frechet_distance(compute_feature_statistics(x), compute_feature_statistics(y));
}

} // namespace cinediff::metrics
