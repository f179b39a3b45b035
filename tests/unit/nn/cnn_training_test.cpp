// A small 2D CNN built from nn/modules, trained with optim::sgd, reproduces PyTorch's loss curve
// (tests/golden/cnn_training.py) for the same initial weights and batch order over 50 steps: on a
// generated task (images in the golden file) and on the real BreastMNIST training images
// ($CINEDIFF_DATA, default ../shared/data; skipped when absent — the data never enters the repo).
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include <boost/test/unit_test.hpp>

#include <cinediff/autograd/reduce.hpp>
#include <cinediff/io/npz.hpp>
#include <cinediff/nn/functional/activation.hpp>
#include <cinediff/nn/functional/loss.hpp>
#include <cinediff/nn/functional/pool.hpp>
#include <cinediff/nn/modules.hpp>
#include <cinediff/nn/state_dict.hpp>
#include <cinediff/optim/sgd.hpp>

#include "golden.hpp"

using namespace cinediff;
using autograd::Variable;

namespace {

// cnn_training.py's TinyCNN: conv1 -> relu -> max_pool2d(2) -> conv2 -> relu ->
// adaptive_avg_pool2d(1) -> flatten -> fc.
template <class T>
struct tiny_cnn {
    nn::Conv2d<
        T, nn::conv2d_config{.in_channels = 1, .out_channels = 4, .kernel_size = {3, 3}, .padding = {1, 1}}>
        conv1;
    nn::Conv2d<
        T, nn::conv2d_config{.in_channels = 4, .out_channels = 8, .kernel_size = {3, 3}, .padding = {1, 1}}>
        conv2;
    nn::Linear<T, nn::linear_config{.in_features = 8, .out_features = 2}> fc;

    template <class V>
    void visit(V& v) {
        v.child("conv1", conv1);
        v.child("conv2", conv2);
        v.child("fc", fc);
    }

    Variable<T, 2> operator()(const Variable<T, 4>& x) const {
        namespace F = nn::functional;
        const auto h = F::max_pool2d(F::relu(conv1(x)), {.kernel_size = {2, 2}});
        const auto g = F::adaptive_avg_pool2d(F::relu(conv2(h)), {1, 1});
        return fc(autograd::reshape(g, shape_t<2>{g.shape(0), 8}));
    }
};

struct curve_result {
    double max_rel = 0;  // max over steps of |ours - torch| / |torch|
    double last_rel = 0; // at the last step
};

// Trains from the golden file's initial weights on images (n, 1, 28, 28) in [0, 1] (float64,
// cast to T per batch as torch's images[idx].to(dtype)) and compares the loss curve.
template <class T>
curve_result train_and_compare(const std::string& name, const Tensor<double, 4>& images,
                               const Tensor<std::int64_t, 1>& labels) {
    const test::golden_file f("nn/cnn_training.safetensors");
    tiny_cnn<T> model;
    std::vector<io::array_record> init;
    for (const std::string key :
         {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}) {
        nn::for_each_parameter(model, [&]<class U, std::size_t R>(const std::string& n, Variable<U, R>&) {
            if (n == key) {
                init.push_back(io::from_tensor(key, f.get<U, R>(name + ".init." + key)));
            }
        });
    }
    nn::load_state_dict(model, init); // strict: every key present, shapes as torch's
    const auto batches = f.get<std::int64_t, 2>(name + ".batches");
    const auto ref = f.get<double, 1>(name + ".losses");
    const index_t steps = batches.shape(0), batch = batches.shape(1);
    BOOST_REQUIRE_EQUAL(ref.size(), steps);

    optim::sgd<T> opt(nn::named_parameters<T>(model), {.lr = 0.05, .momentum = 0.9});
    const index_t plane = 28 * 28;
    curve_result r;
    for (index_t s = 0; s < steps; ++s) {
        Tensor<T, 4> x({batch, 1, 28, 28});
        Tensor<std::int64_t, 1> y({batch});
        for (index_t b = 0; b < batch; ++b) {
            const index_t i = batches(s, b);
            for (index_t p = 0; p < plane; ++p) {
                x.data()[b * plane + p] = static_cast<T>(images.data()[i * plane + p]);
            }
            y(b) = labels(i);
        }
        const auto loss = nn::functional::cross_entropy(model(Variable<T, 4>(std::move(x))), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
        const double got = static_cast<double>(loss.value().data()[0]);
        const double rel = std::abs(got - ref(s)) / std::abs(ref(s));
        r.max_rel = std::max(r.max_rel, std::isnan(rel) ? INFINITY : rel);
        r.last_rel = rel;
    }
    BOOST_TEST_MESSAGE("cnn_training " << name << ": loss " << ref(0) << " -> " << ref(steps - 1)
                                       << ", max relative deviation from torch " << r.max_rel
                                       << " (last step " << r.last_rel << ")");
    return r;
}

// Tolerances (relative, the worst of the 50 steps). Both runs do the same operations as torch in
// a different order (Eigen GEMM vs MKL-DNN, block reductions), so they differ by rounding that 50
// momentum steps amplify. Measured with GCC 12 + Eigen: float64 ≈ 5e-16, float32 ≈ 2e-7 (about 3
// float32 ulps). float64 is checked at 1e-9; float32 at 1e-5: 50x the measured deviation, room for
// other compilers, FMA contraction and BLAS builds, yet ~1000x below the typical change of the loss
// from one step to the next (≈1e-2 relative).
constexpr double tolerance_f64 = 1e-9;
constexpr double tolerance_f32 = 1e-5;

std::filesystem::path data_root() {
    if (const char* env = std::getenv("CINEDIFF_DATA"); env != nullptr && *env != '\0') {
        return env;
    }
    return std::filesystem::path(CINEDIFF_TEST_SOURCE_DIR) / ".." / ".." / "shared" / "data";
}

} // namespace

BOOST_AUTO_TEST_SUITE(cnn_training)

BOOST_AUTO_TEST_CASE(generated_task_reproduces_torch_loss_curve) {
    const test::golden_file f("nn/cnn_training.safetensors");
    const Tensor<double, 4> images = cast<double>(f.get<float, 4>("generated.images"));
    const auto labels = f.get<std::int64_t, 1>("generated.labels");
    BOOST_TEST(train_and_compare<double>("generated_f64", images, labels).max_rel <= tolerance_f64);
    BOOST_TEST(train_and_compare<float>("generated_f32", images, labels).max_rel <= tolerance_f32);
}

BOOST_AUTO_TEST_CASE(breastmnist_reproduces_torch_loss_curve) {
    const auto path = data_root() / "breastmnist" / "breastmnist.npz";
    if (!std::filesystem::exists(path)) {
        BOOST_TEST_MESSAGE("cnn_training: skipped, no BreastMNIST at " << path.string()
                                                                       << " (set CINEDIFF_DATA)");
        return;
    }
    Tensor<double, 4> images;
    Tensor<std::int64_t, 1> labels;
    for (const auto& r : io::read_npz(path)) {
        if (r.name == "train_images") {
            const auto u8 = io::to_tensor<std::uint8_t, 3>(r);
            images = Tensor<double, 4>({u8.shape(0), 1, 28, 28});
            for (index_t i = 0; i < u8.size(); ++i) {
                images.data()[i] = static_cast<double>(u8.data()[i]) / 255.0;
            }
        } else if (r.name == "train_labels") { // (546,) or (546, 1) uint8, as medmnist's versions store it
            BOOST_REQUIRE((r.type == dtype::u8));
            labels = Tensor<std::int64_t, 1>({static_cast<index_t>(r.bytes.size())});
            for (index_t i = 0; i < labels.size(); ++i) {
                labels.data()[i] = std::to_integer<std::int64_t>(r.bytes[static_cast<std::size_t>(i)]);
            }
        }
    }
    BOOST_REQUIRE_EQUAL(images.shape(0), 546);
    BOOST_REQUIRE_EQUAL(labels.size(), 546);
    BOOST_TEST(train_and_compare<double>("breastmnist_f64", images, labels).max_rel <= tolerance_f64);
    BOOST_TEST(train_and_compare<float>("breastmnist_f32", images, labels).max_rel <= tolerance_f32);
}

BOOST_AUTO_TEST_SUITE_END()
