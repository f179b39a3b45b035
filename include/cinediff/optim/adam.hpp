#pragma once

#include <cmath>
#include <map>

#include <cinediff/optim/concept.hpp>

namespace cinediff::optim {

struct adam_options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0; // L2 in Adam, decoupled in AdamW (whose PyTorch default is 1e-2)
    bool amsgrad = false;
    bool maximize = false;
};

// torch.optim.Adam and AdamW (PyTorch 1.13, single-tensor path), term for term:
//   AdamW: p *= 1 − lr·wd;  Adam: g += wd·p
//   m = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²
//   denom = sqrt(v) / sqrt(1 − β2^t) + eps  (amsgrad: the running max of v)
//   p −= (lr / (1 − β1^t)) · m / denom
template <class T, bool Decoupled>
class adam_family : public optimizer_base<T, adam_options> {
  public:
    struct moments {
        std::int64_t step = 0;
        std::vector<T> exp_avg, exp_avg_sq, max_exp_avg_sq;
    };

    adam_family(std::vector<nn::named_parameter<T>> params, adam_options options) {
        add_param_group(std::move(params), options);
    }
    void add_param_group(std::vector<nn::named_parameter<T>> params, adam_options options) {
        if (options.lr < 0 || options.eps < 0 || options.beta1 < 0 || options.beta1 >= 1 ||
            options.beta2 < 0 || options.beta2 >= 1) {
            throw std::invalid_argument(
                "adam: invalid hyper-parameters (need lr >= 0, eps >= 0, 0 <= betas < 1)");
        }
        this->m_groups.push_back({std::move(params), options});
    }

    void step() {
        for (auto& g : this->m_groups) {
            for (auto& p : g.params) {
                if (detail::has_gradient(p)) {
                    update(p, g.options);
                }
            }
        }
    }

    std::map<std::string, moments>& state() { return m_state; }

    optimizer_state<T> export_state() const {
        optimizer_state<T> s;
        this->export_learning_rates(s);
        for (const auto& [name, m] : m_state) {
            s.counters[name + ".step"] = m.step;
            s.buffers[name + ".exp_avg"] = m.exp_avg;
            s.buffers[name + ".exp_avg_sq"] = m.exp_avg_sq;
            if (!m.max_exp_avg_sq.empty()) {
                s.buffers[name + ".max_exp_avg_sq"] = m.max_exp_avg_sq;
            }
        }
        return s;
    }
    // Replaces the moments with those of `s` (parameters absent from `s` start fresh, as after
    // construction). Validates everything before changing anything.
    void import_state(const optimizer_state<T>& s) {
        std::map<std::string, moments> next;
        this->for_each_param([&](const std::string& name, std::size_t size) {
            const auto step = s.counters.find(name + ".step");
            if (step == s.counters.end()) {
                return;
            }
            const auto* m = detail::find_buffer(s, name + ".exp_avg", size, "adam");
            const auto* v = detail::find_buffer(s, name + ".exp_avg_sq", size, "adam");
            if (m == nullptr || v == nullptr) {
                throw std::invalid_argument("adam::import_state: '" + name + "' has a step but no moments");
            }
            moments& dst = next[name];
            dst.step = step->second;
            dst.exp_avg = *m;
            dst.exp_avg_sq = *v;
            if (const auto* vmax = detail::find_buffer(s, name + ".max_exp_avg_sq", size, "adam")) {
                dst.max_exp_avg_sq = *vmax;
            }
        });
        m_state = std::move(next);
        this->import_learning_rates(s);
    }

  private:
    void update(nn::named_parameter<T>& p, const adam_options& o) {
        const std::span<T> x = p.variable->value_span();
        const std::span<T> grad = p.variable->grad_span();
        auto& s = m_state[p.name];
        if (s.exp_avg.empty()) {
            s.exp_avg.assign(x.size(), T(0));
            s.exp_avg_sq.assign(x.size(), T(0));
            if (o.amsgrad) {
                s.max_exp_avg_sq.assign(x.size(), T(0));
            }
        }
        ++s.step;
        // Scalars are formed in double as Python does, then used in T as the tensor kernels do.
        const double bias_correction1 = 1 - std::pow(o.beta1, static_cast<double>(s.step));
        const double bias_correction2 = 1 - std::pow(o.beta2, static_cast<double>(s.step));
        const T step_size = static_cast<T>(o.lr / bias_correction1);
        const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
        const T w1 = static_cast<T>(1 - o.beta1);
        const T b2 = static_cast<T>(o.beta2), w2 = static_cast<T>(1 - o.beta2);
        const T eps = static_cast<T>(o.eps), wd = static_cast<T>(o.weight_decay);
        const T decay = static_cast<T>(1 - o.lr * o.weight_decay);
        T* m = s.exp_avg.data();
        T* v = s.exp_avg_sq.data();
        T* vmax = o.amsgrad ? s.max_exp_avg_sq.data() : nullptr;
        const index_t n = static_cast<index_t>(x.size());
        detail::for_each_element_block<T>(n, [&](index_t begin, index_t end) {
            for (index_t i = begin; i < end; ++i) {
                T g = o.maximize ? -grad[i] : grad[i];
                if constexpr (Decoupled) {
                    x[i] = x[i] * decay;
                } else if (o.weight_decay != 0) {
                    g = g + wd * x[i];
                }
                // torch.lerp with weight < 0.5: m + w·(g − m)
                m[i] = w1 < T(0.5) ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * (T(1) - w1);
                v[i] = v[i] * b2 + w2 * g * g;
                T second = v[i];
                if (vmax != nullptr) {
                    vmax[i] = std::max(vmax[i], v[i]);
                    second = vmax[i];
                }
                const T denom = std::sqrt(second) / bc2_sqrt + eps;
                x[i] = x[i] + (-step_size) * (m[i] / denom);
            }
        });
    }

    std::map<std::string, moments> m_state;
};

template <class T>
using adam = adam_family<T, false>;
template <class T>
using adamw = adam_family<T, true>;

// AdamW's PyTorch default weight decay.
inline adam_options adamw_defaults() {
    adam_options o;
    o.weight_decay = 1e-2;
    return o;
}

} // namespace cinediff::optim
