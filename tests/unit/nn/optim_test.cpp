#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/autograd/expression.hpp>
#include <cinediff/optim/adam.hpp>
#include <cinediff/optim/clip.hpp>
#include <cinediff/optim/ema.hpp>
#include <cinediff/optim/schedule.hpp>
#include <cinediff/optim/sgd.hpp>

#include "golden.hpp"

using namespace cinediff;
using autograd::Variable;

namespace {

// Replays one golden case: 20 steps of the optimiser on sum(sin(p)·c + d·p²) and compares the
// parameters after every step with torch.optim's.
template <class T>
void replay(const test::golden_file& g, const std::string& name) {
    const auto attrs = nlohmann::json::parse(g.metadata(name));
    Variable<T, 2> w(g.get<T, 2>(name + ".w0"), true);
    Variable<T, 1> b(g.get<T, 1>(name + ".b0"), true);
    const auto cw = g.get<T, 2>(name + ".c_w"), dw = g.get<T, 2>(name + ".d_w");
    const auto cb = g.get<T, 1>(name + ".c_b"), db = g.get<T, 1>(name + ".d_b");
    std::vector<nn::named_parameter<T>> params{{"w", w.data()}, {"b", b.data()}};

    const std::string kind = attrs["opt"];
    const double clip = attrs.value("clip", 0.0);
    auto run = [&](auto& opt) {
        std::optional<optim::scheduled<std::remove_reference_t<decltype(opt)>, optim::warmup_cosine_schedule>>
            sched;
        if (attrs.contains("warmup")) {
            sched.emplace(opt, optim::warmup_cosine_schedule{attrs["warmup"], attrs["total"]});
        }
        for (int step = 0; step < 20; ++step) {
            opt.zero_grad();
            Variable<T, 2> lw = sin(w) * cw + dw * w * w;
            Variable<T, 1> lb = sin(b) * cb + db * b * b;
            lw.backward(Tensor<T, 2>(w.shape(), T(1)));
            lb.backward(Tensor<T, 1>(b.shape(), T(1)));
            if (clip > 0) {
                optim::clip_grad_norm(params, clip);
            }
            opt.step();
            if (sched) {
                sched->step();
            }
            const std::string s = std::to_string(step);
            test::check_close(w.value(), g.get<T, 2>(name + ".w." + s), name + " w step " + s);
            test::check_close(b.value(), g.get<T, 1>(name + ".b." + s), name + " b step " + s);
        }
    };
    if (kind == "sgd") {
        optim::sgd_options o;
        o.lr = attrs["lr"];
        o.momentum = attrs.value("momentum", 0.0);
        o.dampening = attrs.value("dampening", 0.0);
        o.weight_decay = attrs.value("weight_decay", 0.0);
        o.nesterov = attrs.value("nesterov", false);
        optim::sgd<T> opt(params, o);
        run(opt);
    } else {
        optim::adam_options o = kind == "adamw" ? optim::adamw_defaults() : optim::adam_options{};
        o.lr = attrs["lr"];
        o.beta1 = attrs.value("beta1", 0.9);
        o.beta2 = attrs.value("beta2", 0.999);
        o.eps = attrs.value("eps", 1e-8);
        o.weight_decay = attrs.value("weight_decay", o.weight_decay);
        o.amsgrad = attrs.value("amsgrad", false);
        if (kind == "adamw") {
            optim::adamw<T> opt(params, o);
            run(opt);
        } else {
            optim::adam<T> opt(params, o);
            run(opt);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(optimisers)

BOOST_AUTO_TEST_CASE(trajectories_match_torch_optim_over_20_steps) {
    const test::golden_file g("optim/trajectories.safetensors");
    const auto cases = g.cases();
    BOOST_REQUIRE_EQUAL(cases.size(), 14u);
    for (const auto& c : cases) {
        if (c.ends_with("f64")) {
            replay<double>(g, c);
        } else {
            replay<float>(g, c);
        }
    }
}

BOOST_AUTO_TEST_CASE(frozen_parameters_and_missing_gradients_are_skipped) {
    Variable<double, 1> a(Tensor<double, 1>({3}, 1.0), true);
    Variable<double, 1> frozen(Tensor<double, 1>({3}, 1.0), true);
    std::vector<nn::named_parameter<double>> params{{"a", a.data()}, {"frozen", frozen.data()}};
    optim::adam<double> opt(params, {});
    Variable<double, 1> y = a * 2.0 + frozen;
    frozen.set_requires_grad(false);
    y.backward(Tensor<double, 1>({3}, 1.0));
    opt.step();
    BOOST_TEST(a.value()(0) != 1.0);
    BOOST_TEST(frozen.value()(0) == 1.0);
    BOOST_CHECK_THROW(optim::sgd<double>(params, {.lr = 0.1, .nesterov = true}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(schedules_and_ema_follow_the_reference_formulas) {
    const optim::warmup_cosine_schedule s{10, 110};
    BOOST_TEST(s.factor(0) == 0.0);
    BOOST_TEST(s.factor(5) == 0.5);
    BOOST_TEST(s.factor(10) == 1.0);
    BOOST_TEST(s.factor(60) == 0.5, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.factor(110) == 0.0, boost::test_tools::tolerance(1e-12));
    const optim::step_schedule st{3, 0.5};
    BOOST_TEST(st.factor(7) == 0.25);

    Variable<double, 1> p(Tensor<double, 1>({2}, 0.0), true);
    std::vector<nn::named_parameter<double>> params{{"p", p.data()}};
    optim::ema<double> e(params, {.decay = 0.99});
    BOOST_TEST(e.decay_at(1) == 0.0); // diffusers: no averaging on the first update
    BOOST_TEST(e.decay_at(3) == 3.0 / 12.0);
    p.mutable_value() = 1.0;
    e.step(params); // decay 0: shadow = p
    BOOST_TEST(e.shadow()[0].second[0] == 1.0);
    p.mutable_value() = 2.0;
    e.step(params); // step 2: decay (1+1)/(10+1)
    BOOST_TEST(e.shadow()[0].second[0] == 1.0 + (1.0 - 2.0 / 11.0), boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_returns_the_total_norm_and_scales) {
    Variable<double, 1> a(Tensor<double, 1>({2}, {3.0, 0.0}), true);
    Variable<double, 1> b(Tensor<double, 1>({1}, {4.0}), true);
    Variable<double, 1> ya = a * 1.0, yb = b * 1.0;
    ya.backward(Tensor<double, 1>({2}, {3.0, 0.0}));
    yb.backward(Tensor<double, 1>({1}, {4.0}));
    std::vector<nn::named_parameter<double>> params{{"a", a.data()}, {"b", b.data()}};
    const double total = optim::clip_grad_norm(params, 1.0);
    BOOST_TEST(total == 5.0);
    BOOST_TEST(a.grad()(0) == 3.0 / (5.0 + 1e-6), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(b.grad()(0) == 4.0 / (5.0 + 1e-6), boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_SUITE_END()
