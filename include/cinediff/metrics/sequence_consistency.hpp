#pragma once

// Cross-frame consistency of a clip from per-frame embeddings. Host only.
//
// frame_consistency(frames) = mean_{i=0..F-2} cos(vec(z_i), vec(z_{i+1}))
//   frames: (F, ...) — axis 0 indexes frames, the remaining axes are flattened (CLIP-style
//   embeddings (F, D) or VAE latents (F, C, H, W)). cos(a, b) = a.b / max(|a| |b|, 1e-8) (as
//   torch.nn.functional.cosine_similarity), so an all-zero frame gives cosine 0. Needs F >= 2.
// vae_seq(latents) = 100 * frame_consistency(latents)   (Ctrl-GenAug §3.5 / VAE-Seq.py: latents of
//   the clip's frames from the VAE encoder; the reference script rounds to 2 decimals, which
//   vae_seq_options::round_to_2_decimals reproduces, half-to-even on the binary value as Python's
//   round()).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::metrics {

namespace detail {

template <class T>
double cosine_similarity(const T* a, const T* b, index_t d) {
    double dot = 0, na = 0, nb = 0;
    for (index_t j = 0; j < d; ++j) {
        const auto x = static_cast<double>(a[j]);
        const auto y = static_cast<double>(b[j]);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    return dot / std::max(std::sqrt(na) * std::sqrt(nb), 1e-8);
}

} // namespace detail

template <class T, std::size_t R>
requires(R >= 2) double frame_consistency(const Tensor<T, R>& frames) {
    const index_t f = frames.shape(0);
    if (f < 2) {
        throw std::invalid_argument("frame_consistency: need at least 2 frames, got " + std::to_string(f));
    }
    const index_t d = frames.size() / f;
    if (d < 1) {
        throw std::invalid_argument("frame_consistency: frames are empty");
    }
    double s = 0;
    for (index_t i = 0; i + 1 < f; ++i) {
        s += detail::cosine_similarity(frames.data() + i * d, frames.data() + (i + 1) * d, d);
    }
    return s / static_cast<double>(f - 1);
}

struct vae_seq_options {
    bool round_to_2_decimals = false;
};

template <class T, std::size_t R>
requires(R >= 2) double vae_seq(const Tensor<T, R>& latents, const vae_seq_options& options = {}) {
    const double v = 100.0 * frame_consistency(latents);
    if (!options.round_to_2_decimals) {
        return v;
    }
    // Python's round(v, 2): correctly rounded decimal, ties to even; for the magnitudes of VAE-Seq
    // (|v| <= 100) nearbyint(v * 100) / 100 agrees except where v * 100 is inexact at a tie.
    return std::nearbyint(v * 100.0) / 100.0;
}

} // namespace cinediff::metrics
