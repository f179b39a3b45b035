#pragma once

#include <cmath>

#include <cinediff/optim/concept.hpp>

namespace cinediff::optim {

// torch.nn.utils.clip_grad_norm_ (norm_type 2): scales every gradient by
// min(1, max_norm / (total_norm + 1e-6)) and returns the total norm before clipping. The norm is
// accumulated in double, parameter by parameter in order, so it does not depend on thread count.
template <class T>
double clip_grad_norm(const std::vector<nn::named_parameter<T>>& params, double max_norm) {
    double total = 0;
    for (const auto& p : params) {
        for (T g : p.variable->grad_span()) {
            total += static_cast<double>(g) * static_cast<double>(g);
        }
    }
    total = std::sqrt(total);
    const double coef = std::min(1.0, max_norm / (total + 1e-6));
    if (coef < 1.0) {
        const T c = static_cast<T>(coef);
        for (const auto& p : params) {
            for (T& g : p.variable->grad_span()) {
                g *= c;
            }
        }
    }
    return total;
}

} // namespace cinediff::optim
