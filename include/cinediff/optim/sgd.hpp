#pragma once

#include <map>

#include <cinediff/optim/concept.hpp>

namespace cinediff::optim {

struct sgd_options {
    double lr = 1e-3;
    double momentum = 0;
    double dampening = 0;
    double weight_decay = 0;
    bool nesterov = false;
    bool maximize = false;
};

// torch.optim.SGD: d = g (+ wd·p); with momentum, buf = d on the first step, else
// buf = momentum·buf + (1 − dampening)·d; nesterov uses d + momentum·buf; p −= lr·d.
template <class T>
class sgd : public optimizer_base<T, sgd_options> {
  public:
    sgd(std::vector<nn::named_parameter<T>> params, sgd_options options) {
        add_param_group(std::move(params), options);
    }

    void add_param_group(std::vector<nn::named_parameter<T>> params, sgd_options options) {
        if (options.nesterov && (options.momentum <= 0 || options.dampening != 0)) {
            throw std::invalid_argument("sgd: nesterov momentum requires a momentum and zero dampening");
        }
        this->m_groups.push_back({std::move(params), options});
    }

    void step() {
        for (auto& g : this->m_groups) {
            const auto& o = g.options;
            for (auto& p : g.params) {
                if (!detail::has_gradient(p)) {
                    continue;
                }
                update(p, o);
            }
        }
    }

    // The momentum buffers, by parameter name (for checkpoints).
    std::map<std::string, std::vector<T>>& momentum_buffers() { return m_momentum; }

    optimizer_state<T> export_state() const {
        optimizer_state<T> s;
        this->export_learning_rates(s);
        for (const auto& [name, b] : m_momentum) {
            s.buffers[name + ".momentum_buffer"] = b;
        }
        return s;
    }
    // Replaces the momentum buffers with those of `s`; validates before changing anything.
    void import_state(const optimizer_state<T>& s) {
        std::map<std::string, std::vector<T>> next;
        this->for_each_param([&](const std::string& name, std::size_t size) {
            if (const auto* b = detail::find_buffer(s, name + ".momentum_buffer", size, "sgd")) {
                next[name] = *b;
            }
        });
        m_momentum = std::move(next);
        this->import_learning_rates(s);
    }

  private:
    void update(nn::named_parameter<T>& p, const sgd_options& o) {
        const std::span<T> x = p.variable->value_span();
        const std::span<T> g = p.variable->grad_span();
        const index_t n = static_cast<index_t>(x.size());
        const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay),
                mom = static_cast<T>(o.momentum);
        const T keep = static_cast<T>(1 - o.dampening);
        const T sign = o.maximize ? T(-1) : T(1);
        T* buf = nullptr;
        bool first = false;
        if (o.momentum != 0) {
            auto& b = m_momentum[p.name];
            first = b.empty();
            if (first) {
                b.assign(x.size(), T(0));
            }
            buf = b.data();
        }
        detail::for_each_element_block<T>(n, [&](index_t begin, index_t end) {
            for (index_t i = begin; i < end; ++i) {
                T d = sign * g[i];
                if (o.weight_decay != 0) {
                    d = d + wd * x[i];
                }
                if (buf != nullptr) {
                    buf[i] = first ? d : mom * buf[i] + keep * d;
                    d = o.nesterov ? d + mom * buf[i] : buf[i];
                }
                x[i] = x[i] - lr * d;
            }
        });
    }

    std::map<std::string, std::vector<T>> m_momentum;
};

} // namespace cinediff::optim
