// A state_dict saved by PyTorch (tests/golden/nn_modules.py) loads into the equivalent cinediff
// composite with strict key checking and gives PyTorch's outputs.
#include <boost/test/unit_test.hpp>

#include <cinediff/autograd/reduce.hpp>
#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/functional/pool.hpp>
#include <cinediff/nn/modules.hpp>
#include <cinediff/nn/state_dict.hpp>

#include "golden.hpp"

using namespace cinediff;
using autograd::Variable;

namespace {

// The torch Composite of nn_modules.py, child for child (registration order = state_dict order).
template <class T>
struct composite {
    nn::Conv2d<
        T, nn::conv2d_config{.in_channels = 3, .out_channels = 8, .kernel_size = {3, 3}, .padding = {1, 1}}>
        conv;
    nn::GroupNorm<T, nn::group_norm_config{.num_groups = 4, .num_channels = 8}> norm;
    nn::BatchNorm2d<T, nn::batch_norm_config{.num_features = 8}> bn;
    nn::Linear<T, nn::linear_config{.in_features = 8, .out_features = 16}> fc;
    nn::Embedding<T, nn::embedding_config{.num_embeddings = 10, .embedding_dim = 16}> embed;
    nn::LayerNorm<T, nn::layer_norm_config<1>{.normalized_shape = {16}}> ln;
    nn::Conv3d<T, nn::conv3d_config{.in_channels = 2,
                                    .out_channels = 4,
                                    .kernel_size = {3, 3, 3},
                                    .stride = {1, 2, 2},
                                    .padding = {1, 1, 1}}>
        video;

    template <class V>
    void visit(V& v) {
        v.child("conv", conv);
        v.child("norm", norm);
        v.child("bn", bn);
        v.child("fc", fc);
        v.child("embed", embed);
        v.child("ln", ln);
        v.child("video", video);
    }

    // (seq, vid) as torch's forward(image, tokens, video).
    std::pair<Variable<T, 3>, Variable<T, 5>> operator()(const Variable<T, 4>& image,
                                                         const Tensor<std::int64_t, 2>& tokens,
                                                         const Variable<T, 5>& clip) {
        const auto h = nn::functional::silu(bn(norm(conv(image))));
        const auto pooled = nn::functional::adaptive_avg_pool2d(h, {1, 1});
        const auto head = fc(autograd::reshape(pooled, shape_t<2>{pooled.shape(0), 8}));
        const Variable<T, 3> sum = embed(tokens) + autograd::reshape(head, shape_t<3>{head.shape(0), 1, 16});
        return {ln(sum), video(clip)};
    }
};
static_assert(nn::module<composite<float>>);

template <class T>
void check_against_torch(const std::string& tag) {
    composite<T> m; // zero-filled until loaded
    const auto report = nn::load_state_dict(m, std::filesystem::path(CINEDIFF_TEST_SOURCE_DIR) / "golden" /
                                                   "nn" / ("modules_state_" + tag + ".safetensors"));
    BOOST_TEST(report.missing_keys.empty());
    BOOST_TEST(report.unexpected_keys.empty());
    BOOST_TEST(m.bn.num_batches_tracked.data()[0] == 3); // three training batches in torch
    nn::eval(m);

    const test::golden_file f("nn/modules.safetensors");
    const Variable<T, 4> image(f.get<T, 4>(tag + ".image"));
    const Variable<T, 5> clip(f.get<T, 5>(tag + ".video"));
    const auto [seq, vid] = m(image, f.get<std::int64_t, 2>(tag + ".tokens"), clip);
    const Tensor<T, 3> seq_ref = f.get<T, 3>(tag + ".seq");
    const Tensor<T, 5> vid_ref = f.get<T, 5>(tag + ".vid");
    test::check_close(seq.value(), seq_ref, tag + ".seq");
    test::check_close(vid.value(), vid_ref, tag + ".vid");
    double worst = 0;
    for (index_t i = 0; i < seq_ref.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(seq.value().data()[i] - seq_ref.data()[i])));
    }
    for (index_t i = 0; i < vid_ref.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(vid.value().data()[i] - vid_ref.data()[i])));
    }
    BOOST_TEST_MESSAGE("module_state_dict " << tag << ": max |cinediff - torch| = " << worst);

    // Saving gives back torch's file, key for key and byte for byte.
    const auto ours = nn::state_dict(m);
    const auto theirs = io::read_safetensors(std::filesystem::path(CINEDIFF_TEST_SOURCE_DIR) / "golden" /
                                             "nn" / ("modules_state_" + tag + ".safetensors"))
                            .records;
    BOOST_REQUIRE_EQUAL(ours.size(), theirs.size());
    for (const auto& r : ours) {
        const auto it =
            std::find_if(theirs.begin(), theirs.end(), [&](const auto& t) { return t.name == r.name; });
        BOOST_TEST((it != theirs.end() && *it == r), r.name);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(module_state_dict)

BOOST_AUTO_TEST_CASE(pytorch_state_dict_loads_and_reproduces_outputs_float32) {
    check_against_torch<float>("f32");
}

BOOST_AUTO_TEST_CASE(pytorch_state_dict_loads_and_reproduces_outputs_float64) {
    check_against_torch<double>("f64");
}

BOOST_AUTO_TEST_SUITE_END()
