#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/nn/module.hpp>

// Optimisers update parameters in place from their gradients with PyTorch's (1.13) exact update
// rules. They hold parameter groups (a learning rate and options per group, as in torch.optim) and
// skip parameters that have no gradient or do not require one (frozen modules).
namespace cinediff::optim {

template <class T, class Options>
struct param_group {
    std::vector<nn::named_parameter<T>> params;
    Options options;
};

// What every optimiser provides.
template <class O>
concept optimizer = requires(O& o) {
    o.step();
    o.zero_grad();
    { o.learning_rate(0) } -> std::convertible_to<double>;
    o.set_learning_rate(0, 0.1);
    { o.group_count() } -> std::convertible_to<std::size_t>;
};

// An optimiser's (or EMA's) resumable state as plain named arrays and counters, so a checkpoint can
// store it without knowing the optimiser: buffers by "<parameter>.<slot>" (e.g.
// "conv1.weight.exp_avg"), counters by "<parameter>.step" and scalars by "param_groups.<i>.lr"
// (schedulers change learning rates, so they must survive a resume).
template <class T>
struct optimizer_state {
    std::map<std::string, std::vector<T>> buffers;
    std::map<std::string, std::int64_t> counters;
    std::map<std::string, double> scalars;
};

// What an optimiser (or EMA) that can be checkpointed provides.
template <class O, class T>
concept stateful = requires(O& o, const optimizer_state<T>& s) {
    { o.export_state() } -> std::same_as<optimizer_state<T>>;
    o.import_state(s);
};

namespace detail {
// Looks up a buffer of an imported state and checks it fits the parameter it belongs to.
template <class T>
const std::vector<T>* find_buffer(const optimizer_state<T>& s, const std::string& key, std::size_t size,
                                  const char* who) {
    const auto it = s.buffers.find(key);
    if (it == s.buffers.end()) {
        return nullptr;
    }
    if (it->second.size() != size) {
        throw std::invalid_argument(std::string(who) + "::import_state: '" + key + "' has " +
                                    std::to_string(it->second.size()) + " elements, the parameter has " +
                                    std::to_string(size));
    }
    return &it->second;
}

// Runs fn(value, grad, state..., n) on every parameter with a gradient; parallel over elements in
// fixed blocks (element-wise updates, so the thread count cannot change results).
template <class T, class Fn>
void for_each_element_block(index_t n, Fn&& fn) {
    backend::parallel_for_blocks(n, 16384, fn);
}

template <class T>
bool has_gradient(const nn::named_parameter<T>& p) {
    return p.variable->requires_grad && !p.variable->grad_span().empty();
}

} // namespace detail

// Common group bookkeeping of the optimisers.
template <class T, class Options>
class optimizer_base {
  public:
    using value_type = T;
    std::size_t group_count() const { return m_groups.size(); }
    double learning_rate(std::size_t group) const { return m_groups.at(group).options.lr; }
    void set_learning_rate(std::size_t group, double lr) { m_groups.at(group).options.lr = lr; }
    std::vector<param_group<T, Options>>& param_groups() { return m_groups; }
    void zero_grad() {
        for (auto& g : m_groups) {
            for (auto& p : g.params) {
                p.variable->release_grad();
            }
        }
    }

  protected:
    void export_learning_rates(optimizer_state<T>& s) const {
        for (std::size_t i = 0; i < m_groups.size(); ++i) {
            s.scalars["param_groups." + std::to_string(i) + ".lr"] = m_groups[i].options.lr;
        }
    }
    void import_learning_rates(const optimizer_state<T>& s) {
        for (std::size_t i = 0; i < m_groups.size(); ++i) {
            if (const auto it = s.scalars.find("param_groups." + std::to_string(i) + ".lr");
                it != s.scalars.end()) {
                m_groups[i].options.lr = it->second;
            }
        }
    }
    // Every parameter of every group, by name, with its element count (to validate imports).
    template <class Fn>
    void for_each_param(Fn&& fn) const {
        for (const auto& g : m_groups) {
            for (const auto& p : g.params) {
                fn(p.name, p.variable->value_span().size());
            }
        }
    }

    std::vector<param_group<T, Options>> m_groups;
};

} // namespace cinediff::optim
