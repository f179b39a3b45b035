#pragma once

#include <cmath>

#include <cinediff/optim/concept.hpp>

namespace cinediff::optim {

struct ema_options {
    double decay = 0.9999;
    double min_decay = 0.0;
    std::int64_t update_after_step = 0;
    bool use_ema_warmup = false;
    double inv_gamma = 1.0;
    double power = 2.0 / 3.0;
};

// Exponential moving average of parameters (diffusers EMAModel): shadow −= (1 − decay)·(shadow − p)
// for trainable parameters, shadow = p for frozen ones; decay per step as diffusers' get_decay.
template <class T>
class ema {
  public:
    using value_type = T;
    ema(const std::vector<nn::named_parameter<T>>& params, ema_options options) : m_options(options) {
        for (const auto& p : params) {
            const auto v = p.variable->value_span();
            m_shadow.push_back({p.name, std::vector<T>(v.begin(), v.end())});
        }
    }

    double decay_at(std::int64_t optimization_step) const {
        const std::int64_t step =
            std::max<std::int64_t>(0, optimization_step - m_options.update_after_step - 1);
        if (step <= 0) {
            return 0.0;
        }
        double d =
            m_options.use_ema_warmup
                ? 1.0 - std::pow(1.0 + static_cast<double>(step) / m_options.inv_gamma, -m_options.power)
                : (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step));
        d = std::min(d, m_options.decay);
        return std::max(d, m_options.min_decay);
    }

    void step(const std::vector<nn::named_parameter<T>>& params) {
        if (params.size() != m_shadow.size()) {
            throw std::invalid_argument("ema::step: " + std::to_string(params.size()) +
                                        " parameters given, " + std::to_string(m_shadow.size()) + " tracked");
        }
        ++m_optimization_step;
        const T one_minus = static_cast<T>(1.0 - decay_at(m_optimization_step));
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto v = params[i].variable->value_span();
            auto& s = m_shadow[i].second;
            if (params[i].variable->requires_grad) {
                for (std::size_t j = 0; j < s.size(); ++j) {
                    s[j] -= one_minus * (s[j] - v[j]);
                }
            } else {
                std::copy(v.begin(), v.end(), s.begin());
            }
        }
    }

    // Writes the averaged values into the parameters (for sampling or saving).
    void copy_to(const std::vector<nn::named_parameter<T>>& params) const {
        for (std::size_t i = 0; i < params.size() && i < m_shadow.size(); ++i) {
            const auto v = params[i].variable->value_span();
            std::copy(m_shadow[i].second.begin(), m_shadow[i].second.end(), v.begin());
        }
    }
    std::int64_t optimization_step() const { return m_optimization_step; }
    const std::vector<std::pair<std::string, std::vector<T>>>& shadow() const { return m_shadow; }

    optimizer_state<T> export_state() const {
        optimizer_state<T> s;
        s.counters["optimization_step"] = m_optimization_step;
        for (const auto& [name, v] : m_shadow) {
            s.buffers[name] = v;
        }
        return s;
    }
    // Every tracked parameter must be present with its size; validates before changing anything.
    void import_state(const optimizer_state<T>& s) {
        auto next = m_shadow;
        for (auto& [name, v] : next) {
            const auto* b = detail::find_buffer(s, name, v.size(), "ema");
            if (b == nullptr) {
                throw std::invalid_argument("ema::import_state: no shadow value for '" + name + "'");
            }
            v = *b;
        }
        const auto step = s.counters.find("optimization_step");
        if (step == s.counters.end()) {
            throw std::invalid_argument("ema::import_state: no optimization_step");
        }
        m_shadow = std::move(next);
        m_optimization_step = step->second;
    }

  private:
    ema_options m_options;
    std::vector<std::pair<std::string, std::vector<T>>> m_shadow;
    std::int64_t m_optimization_step = 0;
};

} // namespace cinediff::optim
