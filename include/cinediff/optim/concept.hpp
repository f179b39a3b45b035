#pragma once

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

namespace detail {

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
    std::vector<param_group<T, Options>> m_groups;
};

} // namespace cinediff::optim
