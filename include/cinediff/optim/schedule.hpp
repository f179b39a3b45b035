#pragma once

#include <cmath>
#include <numbers>

#include <cinediff/optim/concept.hpp>

// Learning-rate schedules: a factor of the base learning rate per optimisation step, with the
// formulas of diffusers' get_*_schedule_with_warmup and torch.optim.lr_scheduler.StepLR.
namespace cinediff::optim {

struct constant_schedule {
    double factor(std::int64_t) const { return 1.0; }
};

// Linear warm-up from 0 over `warmup_steps`, then half a cosine to 0 at `total_steps`
// (diffusers get_cosine_schedule_with_warmup, num_cycles = 0.5).
struct warmup_cosine_schedule {
    std::int64_t warmup_steps = 0;
    std::int64_t total_steps = 1;
    double num_cycles = 0.5;
    double factor(std::int64_t step) const {
        if (step < warmup_steps) {
            return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup_steps));
        }
        const double progress = static_cast<double>(step - warmup_steps) /
                                static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
        return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * num_cycles * 2.0 * progress)));
    }
};

// Multiplies by gamma every step_size steps (torch StepLR).
struct step_schedule {
    std::int64_t step_size = 1;
    double gamma = 0.1;
    double factor(std::int64_t step) const {
        return std::pow(gamma, static_cast<double>(step / std::max<std::int64_t>(1, step_size)));
    }
};

template <class S>
concept lr_schedule = requires(const S& s) {
    { s.factor(std::int64_t{0}) } -> std::convertible_to<double>;
};

// Sets every group's learning rate to base_lr[g] · schedule.factor(step).
template <optimizer O, lr_schedule S>
class scheduled {
  public:
    scheduled(O& opt, S schedule) : m_opt(opt), m_schedule(schedule) {
        for (std::size_t g = 0; g < opt.group_count(); ++g) {
            m_base.push_back(opt.learning_rate(g));
        }
        apply();
    }
    // Call after optimiser.step(), as with torch's scheduler.step().
    void step() {
        ++m_step;
        apply();
    }
    std::int64_t last_step() const { return m_step; }

  private:
    void apply() {
        for (std::size_t g = 0; g < m_base.size(); ++g) {
            m_opt.set_learning_rate(g, m_base[g] * m_schedule.factor(m_step));
        }
    }
    O& m_opt;
    S m_schedule;
    std::vector<double> m_base;
    std::int64_t m_step = 0;
};

} // namespace cinediff::optim
