#include <filesystem>

#include <boost/test/unit_test.hpp>

#include <cinediff/nn/init.hpp>
#include <cinediff/nn/state_dict.hpp>

#include "test_util.hpp"

using namespace cinediff;

namespace {

// A two-level tree with PyTorch-style names: a parameter pair, a buffer, a list of children.
struct toy_leaf {
    toy_leaf()
        : weight(nn::make_parameter<float, 2>({3, 2})), bias(nn::make_parameter<float, 1>({3})),
          running_mean({3}) {}
    nn::Parameter<float, 2> weight;
    nn::Parameter<float, 1> bias;
    Tensor<float, 1> running_mean;
    bool training = true;
    template <class V>
    void visit(V& v) {
        v.parameter("weight", weight);
        v.parameter("bias", bias);
        v.buffer("running_mean", running_mean);
        v.training_flag(training);
    }
};

struct toy_model {
    toy_leaf stem;
    std::array<toy_leaf, 2> blocks;
    nn::Parameter<double, 1> scale = nn::make_parameter<double, 1>({1});
    template <class V>
    void visit(V& v) {
        v.child("stem", stem);
        v.child("blocks.0", blocks[0]);
        v.child("blocks.1", blocks[1]);
        v.parameter("scale", scale);
    }
};
static_assert(nn::module<toy_model>);

std::vector<std::string> names_of(const std::vector<io::array_record>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) {
        out.push_back(r.name);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(module_protocol)

BOOST_AUTO_TEST_CASE(names_follow_state_dict_keys) {
    toy_model m;
    const auto params = nn::named_parameters<float>(m);
    BOOST_REQUIRE_EQUAL(params.size(), 6u);
    BOOST_TEST(params[0].name == "stem.weight");
    BOOST_TEST(params[3].name == "blocks.0.bias");
    BOOST_TEST(nn::named_parameters<double>(m).front().name == "scale");
    BOOST_TEST(nn::parameter_count(m) == 3 * (6 + 3) + 1);
    const auto keys = names_of(nn::state_dict(m));
    const std::vector<std::string> expected{"stem.weight",           "stem.bias",
                                            "stem.running_mean",     "blocks.0.weight",
                                            "blocks.0.bias",         "blocks.0.running_mean",
                                            "blocks.1.weight",       "blocks.1.bias",
                                            "blocks.1.running_mean", "scale"};
    BOOST_TEST(keys == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(train_eval_and_freezing_by_prefix) {
    toy_model m;
    nn::eval(m);
    BOOST_TEST(!m.stem.training);
    BOOST_TEST(!m.blocks[1].training);
    nn::train(m);
    BOOST_TEST(m.blocks[0].training);
    BOOST_TEST(nn::set_requires_grad(m, false, "blocks.") == 4);
    BOOST_TEST(!m.blocks[0].weight.requires_grad());
    BOOST_TEST(m.stem.weight.requires_grad());
}

BOOST_AUTO_TEST_CASE(state_dict_round_trip_through_safetensors) {
    toy_model a;
    philox_generator gen(7);
    nn::for_each_parameter(
        a, [&](const std::string&, auto& p) { nn::init::uniform_(p.mutable_value(), -1, 1, gen); });
    a.blocks[1].running_mean = 0.5f;
    const auto path = std::filesystem::temp_directory_path() / "cinediff_module_test.safetensors";
    nn::save_state_dict(a, path);
    toy_model b;
    const auto report = nn::load_state_dict(b, path);
    BOOST_TEST(report.missing_keys.empty());
    BOOST_TEST(test::max_abs_diff(a.blocks[0].weight.value(), b.blocks[0].weight.value()) == 0.0);
    BOOST_TEST(b.blocks[1].running_mean(2) == 0.5f);
    BOOST_TEST(b.scale.value()(0) == a.scale.value()(0));
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(load_errors_name_every_problem_and_change_nothing) {
    toy_model m;
    auto records = nn::state_dict(m);
    records.erase(records.begin() + 1); // stem.bias missing
    records.push_back(io::from_tensor("extra.weight", Tensor<float, 1>({2})));
    records[0] = io::from_tensor("stem.weight", Tensor<float, 2>({2, 3}, 9.0f)); // wrong shape
    try {
        nn::load_state_dict(m, records);
        BOOST_FAIL("load_state_dict accepted a bad state_dict");
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        BOOST_TEST(msg.find("'stem.weight' has shape (2, 3), the module expects (3, 2)") !=
                   std::string::npos);
        BOOST_TEST(msg.find("missing key 'stem.bias'") != std::string::npos);
        BOOST_TEST(msg.find("unexpected key 'extra.weight'") != std::string::npos);
    }
    BOOST_TEST(m.stem.weight.value()(0, 0) == 0.0f); // untouched
    // Non-strict: missing and unexpected keys are reported, matching keys load.
    records[0] = io::from_tensor("stem.weight", Tensor<float, 2>({3, 2}, 9.0f));
    const auto report = nn::load_state_dict(m, records, false);
    BOOST_TEST(report.missing_keys.size() == 1u);
    BOOST_TEST(report.unexpected_keys.size() == 1u);
    BOOST_TEST(m.stem.weight.value()(2, 1) == 9.0f);
}

BOOST_AUTO_TEST_CASE(initialisers_follow_torch_formulas) {
    Tensor<double, 4> w({64, 32, 3, 3});
    philox_generator gen(3);
    nn::init::kaiming_uniform_(w, gen, std::sqrt(5.0));
    const double bound = 1.0 / std::sqrt(32.0 * 9.0); // gain(leaky_relu, sqrt 5) * sqrt(3 / fan_in)
    BOOST_TEST(max(w, {0, 1, 2, 3})() <= bound);
    BOOST_TEST(min(w, {0, 1, 2, 3})() >= -bound);
    BOOST_TEST(var(w.reshape(shape_t<1>{-1}), {0})() == bound * bound / 3.0,
               boost::test_tools::tolerance(0.03));
    nn::init::xavier_normal_(w, gen);
    BOOST_TEST(std::sqrt(var(w.reshape(shape_t<1>{-1}), {0})()) == std::sqrt(2.0 / (32 * 9 + 64 * 9)),
               boost::test_tools::tolerance(0.03));
    BOOST_CHECK_THROW(nn::init::calculate_gain("swish"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
