#pragma once

// Whether operations record a graph. Per thread, like PyTorch's grad mode: sampling and evaluation
// run under a no_grad scope, so nothing is recorded and no activation is saved.
namespace cinediff::autograd {

namespace detail {
inline bool& grad_enabled_flag() {
    thread_local bool enabled = true;
    return enabled;
}
} // namespace detail

inline bool is_grad_enabled() {
    return detail::grad_enabled_flag();
}

// RAII scope that sets grad mode and restores the previous mode on exit.
class grad_mode_guard {
  public:
    explicit grad_mode_guard(bool enabled) : m_previous(detail::grad_enabled_flag()) {
        detail::grad_enabled_flag() = enabled;
    }
    ~grad_mode_guard() { detail::grad_enabled_flag() = m_previous; }
    grad_mode_guard(const grad_mode_guard&) = delete;
    grad_mode_guard& operator=(const grad_mode_guard&) = delete;

  private:
    bool m_previous;
};

// `autograd::no_grad guard;` — nothing inside the scope is recorded.
class no_grad : public grad_mode_guard {
  public:
    no_grad() : grad_mode_guard(false) {}
};

// Re-enables recording inside a no_grad scope (e.g. guidance gradients during sampling).
class enable_grad : public grad_mode_guard {
  public:
    enable_grad() : grad_mode_guard(true) {}
};

} // namespace cinediff::autograd
