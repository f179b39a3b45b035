// Checkpoints: a run interrupted after k steps and resumed from its checkpoint ends bit-identical
// to the uninterrupted run (model, Adam/SGD moments, EMA, RNG stream, step); bad files change
// nothing and name the problem.
#include <fstream>

#include <boost/test/unit_test.hpp>

#include <cinediff/nn/functional/loss.hpp>
#include <cinediff/nn/modules.hpp>
#include <cinediff/optim/adam.hpp>
#include <cinediff/optim/ema.hpp>
#include <cinediff/optim/sgd.hpp>
#include <cinediff/tensor/random_tensor.hpp>
#include <cinediff/train/checkpoint.hpp>

using namespace cinediff;
using autograd::Variable;

namespace {

struct mlp {
    nn::Linear<float, nn::linear_config{.in_features = 3, .out_features = 5}> fc1;
    nn::BatchNorm1d<float, nn::batch_norm_config{.num_features = 5}> bn;
    nn::Linear<float, nn::linear_config{.in_features = 5, .out_features = 1}> fc2;

    explicit mlp(philox_generator& gen) : fc1(gen), fc2(gen) {}
    mlp() = default;

    template <class V>
    void visit(V& v) {
        v.child("fc1", fc1);
        v.child("bn", bn);
        v.child("fc2", fc2);
    }
    Variable<float, 2> operator()(const Variable<float, 2>& x) {
        return fc2(nn::functional::silu(bn(fc1(x))));
    }
};

// One step on a batch drawn from the data stream (so the RNG state matters for the resume).
template <class Optimizer>
void train_step(mlp& model, Optimizer& opt, optim::ema<float>& ema, philox_generator& data) {
    Tensor<float, 2> x({8, 3});
    fill_normal(x, data);
    Tensor<float, 2> y({8, 1});
    fill_normal(y, data);
    const auto loss =
        nn::functional::mse_loss(model(Variable<float, 2>(std::move(x))), Variable<float, 2>(y));
    opt.zero_grad();
    loss.backward();
    opt.step();
    ema.step(nn::named_parameters<float>(model));
}

std::vector<float> flat_state(mlp& m) {
    std::vector<float> out;
    nn::for_each_state(m, [&]<class U, std::size_t R>(const std::string&, const Tensor<U, R>& t) {
        for (index_t i = 0; i < t.size(); ++i) {
            out.push_back(static_cast<float>(t.data()[i]));
        }
    });
    return out;
}

std::filesystem::path scratch(const std::string& name) {
    const auto dir = std::filesystem::path(CINEDIFF_TEST_BINARY_DIR) / "checkpoint_test";
    std::filesystem::create_directories(dir);
    return dir / name;
}

template <class Optimizer, class MakeOptimizer>
void check_resume_is_bit_identical(MakeOptimizer make_optimizer, const std::string& name) {
    constexpr int before = 4, after = 5;
    philox_generator init(7);
    mlp straight(init);
    auto opt = make_optimizer(straight);
    optim::ema<float> ema(nn::named_parameters<float>(straight), {.decay = 0.9});
    philox_generator data(11);
    for (int s = 0; s < before; ++s) {
        train_step(straight, opt, ema, data);
    }
    const auto path = scratch(name + ".safetensors");
    train::save_checkpoint(path, straight, opt, ema, {.step = before, .rng = {{"data", data.state()}}});
    for (int s = 0; s < after; ++s) {
        train_step(straight, opt, ema, data);
    }

    mlp resumed; // zero-filled: everything must come from the file
    auto opt2 = make_optimizer(resumed);
    optim::ema<float> ema2(nn::named_parameters<float>(resumed), {.decay = 0.9});
    const auto extras = train::load_checkpoint(path, resumed, opt2, ema2);
    BOOST_TEST(extras.step == before);
    BOOST_REQUIRE(extras.rng.count("data") == 1);
    philox_generator data2(extras.rng.at("data"));
    BOOST_TEST(ema2.optimization_step() == before);
    for (int s = 0; s < after; ++s) {
        train_step(resumed, opt2, ema2, data2);
    }
    const auto a = flat_state(straight), b = flat_state(resumed);
    BOOST_TEST(a == b, boost::test_tools::per_element());
    BOOST_TEST(ema.shadow() == ema2.shadow());
    BOOST_TEST(opt.learning_rate(0) == opt2.learning_rate(0));
}

} // namespace

BOOST_AUTO_TEST_SUITE(checkpoint)

BOOST_AUTO_TEST_CASE(adamw_resume_is_bit_identical) {
    check_resume_is_bit_identical<optim::adamw<float>>(
        [](mlp& m) {
            auto o = optim::adamw_defaults();
            o.lr = 0.01;
            o.amsgrad = true;
            optim::adamw<float> opt(nn::named_parameters<float>(m), o);
            opt.set_learning_rate(0, 0.02); // as a scheduler would; must survive the resume
            return opt;
        },
        "adamw");
}

BOOST_AUTO_TEST_CASE(sgd_momentum_resume_is_bit_identical) {
    check_resume_is_bit_identical<optim::sgd<float>>(
        [](mlp& m) {
            return optim::sgd<float>(nn::named_parameters<float>(m),
                                     {.lr = 0.05, .momentum = 0.9, .nesterov = true});
        },
        "sgd");
}

BOOST_AUTO_TEST_CASE(model_only_checkpoint_and_errors) {
    philox_generator init(3);
    mlp model(init);
    const auto path = scratch("model_only.safetensors");
    train::save_checkpoint(path, model, train::no_state, train::no_state);
    for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
        BOOST_TEST(entry.path().filename().string().find(".tmp-") == std::string::npos); // no leftovers
    }
    mlp copy;
    train::load_checkpoint(path, copy, train::no_state, train::no_state);
    BOOST_TEST(flat_state(model) == flat_state(copy), boost::test_tools::per_element());

    // Asking for an optimiser state the file does not hold is fine (fresh moments); asking for
    // an EMA it does not hold is an error that names the file and leaves the model untouched.
    optim::adam<float> opt(nn::named_parameters<float>(copy), {});
    optim::ema<float> ema(nn::named_parameters<float>(copy), {});
    mlp untouched;
    BOOST_CHECK_EXCEPTION(
        train::load_checkpoint(path, untouched, opt, ema), std::exception, [&](const std::exception& e) {
            return std::string(e.what()).find("model_only.safetensors") != std::string::npos &&
                   std::string(e.what()).find("EMA") != std::string::npos;
        });
    mlp fresh;
    BOOST_TEST(flat_state(untouched) == flat_state(fresh), boost::test_tools::per_element());

    // A plain state_dict file is not a checkpoint.
    const auto plain = scratch("plain.safetensors");
    nn::save_state_dict(model, plain);
    BOOST_CHECK_EXCEPTION(train::load_checkpoint(plain, copy, train::no_state, train::no_state),
                          std::exception, [](const std::exception& e) {
                              return std::string(e.what()).find("not a cinediff checkpoint") !=
                                     std::string::npos;
                          });

    // A truncated file fails cleanly.
    const auto truncated = scratch("truncated.safetensors");
    {
        std::ifstream in(path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    BOOST_CHECK_THROW(train::load_checkpoint(truncated, copy, train::no_state, train::no_state),
                      std::exception);
}

BOOST_AUTO_TEST_SUITE_END()
