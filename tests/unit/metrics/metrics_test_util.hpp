#pragma once

// Helpers shared by the metrics tests: reading golden scalars and vectors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "golden.hpp"

namespace cinediff::test {

inline const golden_file& metrics_golden() {
    static const golden_file g("metrics/metrics.safetensors");
    return g;
}

inline double golden_scalar(const std::string& name) {
    const auto t = metrics_golden().get<double, 1>(name);
    BOOST_REQUIRE_EQUAL(t.size(), 1);
    return t(0);
}

inline std::vector<double> golden_doubles(const std::string& name) {
    const auto t = metrics_golden().get<double, 1>(name);
    return {t.data(), t.data() + t.size()};
}

inline std::vector<std::int64_t> golden_labels(const std::string& name) {
    const auto t = metrics_golden().get<std::int64_t, 1>(name);
    return {t.data(), t.data() + t.size()};
}

// |got - ref| <= atol + rtol |ref|, with a readable message; NaN == NaN and inf == inf.
inline void check_value(double got, double ref, const std::string& what, double atol = 1e-12,
                        double rtol = 1e-12) {
    const bool same_special = (std::isnan(got) && std::isnan(ref)) || (std::isinf(got) && got == ref);
    if (std::getenv("CINEDIFF_METRICS_REPORT") != nullptr) { // prints every comparison (for reports)
        BOOST_TEST_MESSAGE("compare " << what << " abs " << std::abs(got - ref) << " rel "
                                      << std::abs(got - ref) / std::max(std::abs(ref), 1e-300));
    }
    BOOST_TEST((same_special || std::abs(got - ref) <= atol + rtol * std::abs(ref)),
               what << ": got " << got << ", reference " << ref << " (diff " << got - ref << ")");
}

inline void check_values(const std::vector<double>& got, const std::vector<double>& ref,
                         const std::string& what, double atol = 1e-12, double rtol = 1e-12) {
    BOOST_REQUIRE_MESSAGE(got.size() == ref.size(),
                          what << ": " << got.size() << " values vs " << ref.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        check_value(got[i], ref[i], what + "[" + std::to_string(i) + "]", atol, rtol);
    }
}

} // namespace cinediff::test
