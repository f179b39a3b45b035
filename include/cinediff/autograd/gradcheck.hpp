#pragma once

#include <cmath>
#include <string>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/tensor/random_tensor.hpp>

// Finite-difference gradient checks in float64, in the manner of torch.autograd.gradcheck:
// the analytical vector-Jacobian product for a random output gradient is compared with central
// differences of the same product, input element by input element.
namespace cinediff::autograd {

struct gradcheck_result {
    bool ok = true;
    double max_abs_error = 0;
    double max_rel_error = 0;
    std::string message; // names the input and element of the worst mismatch
};

struct gradcheck_options {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
    std::uint64_t seed = 1234;
};

namespace detail {

template <class Out>
double weighted_sum(const Out& y, const Tensor<double, Out::rank>& w) {
    double s = 0;
    const auto& v = y.value();
    for (index_t i = 0; i < v.size(); ++i) {
        s += v.data()[i] * w.data()[i];
    }
    return s;
}

} // namespace detail

// f takes the Variables (all float64) and returns one Variable. Every input that requires grad is
// checked; inputs keep their values afterwards.
template <class F, std::size_t... Ranks>
gradcheck_result gradcheck(F&& f, std::tuple<Variable<double, Ranks>...> inputs,
                           gradcheck_options options = {}) {
    gradcheck_result result;
    // Analytical gradients for a random output gradient w.
    std::apply([](auto&... v) { (v.zero_grad(), ...); }, inputs);
    auto y = std::apply(f, inputs);
    using Out = decltype(y);
    Tensor<double, Out::rank> w(y.shape());
    philox_generator gen(options.seed);
    fill_uniform(w, gen, -1.0, 1.0);
    if (!y.requires_grad()) {
        result.ok = false;
        result.message = "gradcheck: the output does not require grad (no input reaches it)";
        return result;
    }
    y.backward(w);

    std::size_t input_index = 0;
    auto check_input = [&](auto& v) {
        const std::size_t which = input_index++;
        if (!v.requires_grad()) {
            return;
        }
        const auto analytical = Tensor<double, std::remove_cvref_t<decltype(v)>::rank>(v.grad());
        auto& x = v.mutable_value();
        for (index_t i = 0; i < x.size(); ++i) {
            const double saved = x.data()[i];
            double plus = 0, minus = 0;
            {
                no_grad guard;
                x.data()[i] = saved + options.eps;
                plus = detail::weighted_sum(std::apply(f, inputs), w);
                x.data()[i] = saved - options.eps;
                minus = detail::weighted_sum(std::apply(f, inputs), w);
            }
            x.data()[i] = saved;
            const double numerical = (plus - minus) / (2 * options.eps);
            const double a = analytical.data()[i];
            const double err = std::abs(a - numerical);
            const double rel = err / std::max(std::abs(numerical), 1e-12);
            result.max_abs_error = std::max(result.max_abs_error, err);
            result.max_rel_error = std::max(result.max_rel_error, std::min(rel, err));
            if (err > options.atol + options.rtol * std::abs(numerical) && result.ok) {
                result.ok = false;
                result.message = "gradcheck: input " + std::to_string(which) + " element " +
                                 std::to_string(i) + ": analytical " + std::to_string(a) + " vs numerical " +
                                 std::to_string(numerical);
            }
        }
    };
    std::apply([&](auto&... v) { (check_input(v), ...); }, inputs);
    return result;
}

} // namespace cinediff::autograd
