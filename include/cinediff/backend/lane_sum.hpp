#pragma once

#include <cinediff/config.hpp>
#include <cinediff/tensor/shape.hpp>

// The summation order of cinediff's sums (std-only, host and device; see docs/numerics.md,
// "Summation order"). A run of values is spread over `sum_lanes` independent accumulators,
// value j of the run going to lane j % sum_lanes, and the lanes are combined by a fixed pairwise
// tree at the end. Independent lanes let the compiler vectorise the additions and hide their
// latency; the order depends only on the run lengths, never on threads, so results are identical
// for every thread count. For integers the result is the exact sum, as before.
namespace cinediff::backend {

inline constexpr int sum_lanes = 16;

template <class Acc>
struct lane_accumulator {
    Acc lane[sum_lanes] = {};

    // Adds value(0), ..., value(n - 1): value j to lane j % sum_lanes.
    template <class F>
    CINEDIFF_HOST_DEVICE void add(index_t n, const F& value) {
        index_t j = 0;
        for (; j + sum_lanes <= n; j += sum_lanes) {
            for (int l = 0; l < sum_lanes; ++l) {
                lane[l] += static_cast<Acc>(value(j + l));
            }
        }
        for (int l = 0; j < n; ++j, ++l) {
            lane[l] += static_cast<Acc>(value(j));
        }
    }

    // ((l0 + l8) + (l4 + l12)) + ... : a fixed pairwise tree over the lanes.
    CINEDIFF_HOST_DEVICE Acc total() const {
        Acc t[sum_lanes];
        for (int l = 0; l < sum_lanes; ++l) {
            t[l] = lane[l];
        }
        for (int w = sum_lanes / 2; w > 0; w /= 2) {
            for (int l = 0; l < w; ++l) {
                t[l] = t[l] + t[l + w];
            }
        }
        return t[0];
    }
};

} // namespace cinediff::backend
