// End to end through the cinediff-ops executable: every case of the committed golden files
// (tests/golden/nn/*.safetensors, PyTorch references) is written as .npy inputs, run with
// `cinediff-ops run OP ... --grad out=...`, and the outputs and input gradients read back are
// compared with the references at the suite's tolerances.
//
// A case's attributes come from its JSON metadata (lists as 1,2,2, booleans true/false, nulls
// left out); its tensors map to the tool's names by the generators' conventions: `output` (or
// `output0`) -> out, `outputK` -> outK, `X_out` -> output X, `grad_output*` -> the upstream
// gradient of that output, `grad_X` -> the gradient of input X, anything else -> an input.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/io/npy.hpp>
#include <cinediff/io/safetensors.hpp>
#include <cinediff/io/tensor_conversion.hpp>

#include "golden.hpp"

namespace {

namespace fs = std::filesystem;
using cinediff::index_t;
using cinediff::io::array_record;

// One golden case translated into a cinediff-ops invocation.
struct ops_case {
    std::string name;
    std::string op;
    std::map<std::string, array_record> inputs;   // tool input name -> value
    std::vector<std::string> attributes;          // KEY=VALUE
    std::map<std::string, array_record> upstream; // tool output name -> upstream gradient
    std::map<std::string, array_record> outputs;  // tool output file name -> reference
};

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

std::string attribute_text(const nlohmann::json& v) {
    if (v.is_boolean()) {
        return v.get<bool>() ? "true" : "false";
    }
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_array()) {
        std::string s;
        for (const auto& e : v) {
            if (!s.empty()) {
                s += ',';
            }
            s += attribute_text(e);
        }
        return s;
    }
    return v.dump();
}

// The golden op name -> the tool's op, and its input renames.
std::string tool_op(const std::string& op) {
    if (op == "adain_style" || op == "adain_stats") {
        return "adain";
    }
    if (op == "cross_entropy_probs") {
        return "cross_entropy";
    }
    if (op == "timestep") {
        return "get_timestep_embedding";
    }
    return op;
}

std::string input_name(const std::string& op, const std::string& golden) {
    static const std::set<std::string> single_input{"split",  "chunk",  "index_select",
                                                    "gather", "cumsum", "logsumexp"};
    if (single_input.count(op) && golden == "input0") {
        return "input";
    }
    if (op == "bmm" && golden == "other") {
        return "mat2";
    }
    if (op == "embedding" && golden == "indices") {
        return "input";
    }
    return golden;
}

std::string output_name(const std::string& op, const std::string& golden_suffix) {
    // golden_suffix: "" for output / grad_output, "K" for outputK.
    static const std::set<std::string> multi_output{"split", "chunk"};
    if (golden_suffix.empty() || !multi_output.count(op)) {
        return "out";
    }
    return "out" + golden_suffix;
}

// Metadata keys that describe the case rather than pass an attribute.
const std::set<std::string> descriptive{"op",     "dtype",   "rank",    "bias",      "affine",
                                        "inputs", "outputs", "running", "style_rank"};

std::vector<ops_case> load_cases(const std::string& file) {
    const cinediff::io::safetensors_file golden =
        cinediff::io::read_safetensors(std::string(CINEDIFF_TEST_SOURCE_DIR) + "/golden/" + file);
    std::vector<ops_case> cases;
    for (const auto& [case_name, text] : golden.metadata) {
        const auto meta = nlohmann::json::parse(text, nullptr, false);
        if (!meta.is_object() || !meta.contains("op")) {
            continue;
        }
        if (meta.contains("asymmetric_padding")) { // torch's reference is F.pad then conv: no conv attribute
            continue;
        }
        ops_case c;
        c.name = file + ":" + case_name;
        const std::string golden_op = meta["op"].get<std::string>();
        c.op = tool_op(golden_op);
        for (const auto& [key, value] : meta.items()) {
            if (descriptive.count(key) || value.is_null()) {
                continue;
            }
            if (c.op == "focal_frequency_loss" && key == "reduction") { // always the mean
                continue;
            }
            const std::string k = (key == "split_size" || key == "sections") ? "split_size_or_sections" : key;
            c.attributes.push_back(k + "=" + attribute_text(value));
        }
        for (const auto& r : golden.records) {
            const auto dot = r.name.find('.');
            if (r.name.substr(0, dot) != case_name) {
                continue;
            }
            const std::string t = r.name.substr(dot + 1);
            if (t.rfind("grad_output", 0) == 0) {
                c.upstream[output_name(c.op, t.substr(11))] = r;
            } else if (t.rfind("output", 0) == 0) {
                c.outputs[output_name(c.op, t.substr(6))] = r;
            } else if (t.size() > 4 && t.substr(t.size() - 4) == "_out") {
                c.outputs[t.substr(0, t.size() - 4)] = r;
            } else if (t.rfind("grad_", 0) == 0) {
                c.outputs["grad_" + input_name(c.op, t.substr(5))] = r;
            } else {
                c.inputs[input_name(c.op, t)] = r;
            }
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

template <class T>
void compare_as(const array_record& got, const array_record& ref, const std::string& what, double atol,
                double rtol) {
    array_record g = got, r = ref;
    g.shape = r.shape = {static_cast<index_t>(ref.bytes.size() / sizeof(T))};
    cinediff::test::check_close(cinediff::io::to_tensor<T, 1>(g), cinediff::io::to_tensor<T, 1>(r), what,
                                atol, rtol);
}

void compare(const array_record& got, const array_record& ref, const std::string& what,
             const std::string& op) {
    BOOST_TEST_CONTEXT(what) {
        BOOST_REQUIRE_MESSAGE(got.type == ref.type, what << ": dtype " << cinediff::dtype_name(got.type)
                                                         << " vs reference "
                                                         << cinediff::dtype_name(ref.type));
        BOOST_REQUIRE_MESSAGE(got.shape == ref.shape,
                              what << ": shape " << cinediff::shape_to_string(got.shape) << " vs reference "
                                   << cinediff::shape_to_string(ref.shape));
    }
    // diffusers computes the timestep embedding's sin/cos arguments in float32: as in embedding_test.
    const bool loose = op == "get_timestep_embedding";
    switch (ref.type) {
    case cinediff::dtype::f32:
        compare_as<float>(got, ref, what, loose ? 5e-5 : cinediff::test::tolerance<float>::atol,
                          loose ? 0.0 : cinediff::test::tolerance<float>::rtol);
        break;
    case cinediff::dtype::f64:
        compare_as<double>(got, ref, what, cinediff::test::tolerance<double>::atol,
                           cinediff::test::tolerance<double>::rtol);
        break;
    default:
        BOOST_TEST((got.bytes == ref.bytes), what << ": values differ");
    }
}

// Runs one case through the executable in `dir` and compares what it wrote.
void run_case(const ops_case& c, const fs::path& dir) {
    BOOST_TEST_CONTEXT(c.name) {
        fs::remove_all(dir);
        fs::create_directories(dir / "in");
        std::string command = std::string(quoted(CINEDIFF_OPS_EXE)) + " run " + c.op;
        for (const auto& [name, record] : c.inputs) {
            const fs::path p = dir / "in" / (name + ".npy");
            cinediff::io::write_npy(p, record);
            command += " --in " + quoted(name + "=" + p.string());
        }
        for (const auto& a : c.attributes) {
            command += " --attr " + quoted(a);
        }
        for (const auto& [name, record] : c.upstream) {
            const fs::path p = dir / "in" / ("upstream_" + name + ".npy");
            cinediff::io::write_npy(p, record);
            command += " --grad " + quoted(name + "=" + p.string());
        }
        const fs::path out = dir / "out";
        command += " --out " + quoted(out.string()) + " 2>" + quoted((dir / "stderr").string());
        const int rc = std::system(command.c_str());
        if (rc != 0) {
            std::ifstream err(dir / "stderr");
            std::stringstream text;
            text << err.rdbuf();
            BOOST_ERROR(c.name << ": `" << command << "` failed (" << rc << "): " << text.str());
            return;
        }
        for (const auto& [name, ref] : c.outputs) {
            const fs::path p = out / (name + ".npy");
            BOOST_TEST_REQUIRE(fs::exists(p), c.name << ": " << p << " was not written");
            compare(cinediff::io::read_npy(p), ref, c.name + " " + name, c.op);
        }
    }
}

fs::path work_dir() {
    return fs::path(CINEDIFF_TEST_BINARY_DIR) / "cinediff_ops_golden_work";
}

// Runs every case of `file`; checks the ops it covered include `expected`.
void run_file(const std::string& file, const std::set<std::string>& expected) {
    const auto cases = load_cases(file);
    std::set<std::string> ops;
    for (const auto& c : cases) {
        run_case(c, work_dir() / "case");
        ops.insert(c.op);
    }
    for (const auto& op : expected) {
        BOOST_TEST(ops.count(op) == 1u, file << " has no case of " << op);
    }
    BOOST_TEST_MESSAGE(file << ": " << cases.size() << " cases, " << ops.size()
                            << " ops through cinediff-ops");
    fs::remove_all(work_dir());
}

} // namespace

BOOST_AUTO_TEST_SUITE(cinediff_ops_golden)

BOOST_AUTO_TEST_CASE(linear_and_conv) {
    run_file("nn/linear.safetensors", {"linear", "matmul", "bmm"});
    run_file("nn/conv.safetensors",
             {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"});
}

BOOST_AUTO_TEST_CASE(norm) {
    run_file("nn/norm.safetensors",
             {"group_norm", "layer_norm", "rms_norm", "batch_norm", "instance_norm", "adain"});
}

BOOST_AUTO_TEST_CASE(activation_and_embedding) {
    run_file("nn/activation.safetensors",
             {"relu", "leaky_relu", "silu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
              "embedding", "get_timestep_embedding"});
}

BOOST_AUTO_TEST_CASE(pool_interpolate_pad_fft) {
    run_file("nn/resample.safetensors",
             {"avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool2d", "max_pool3d",
              "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "interpolate", "pad",
              "fft2", "fft2_complex", "ifft2"});
}

BOOST_AUTO_TEST_CASE(shape) {
    run_file("nn/shape.safetensors",
             {"cat", "stack", "split", "chunk", "index_select", "gather", "cumsum", "logsumexp"});
}

BOOST_AUTO_TEST_CASE(loss) {
    run_file("nn/loss.safetensors",
             {"mse_loss", "l1_loss", "smooth_l1_loss", "kl_div", "cross_entropy", "nll_loss",
              "binary_cross_entropy_with_logits", "dice_loss", "focal_frequency_loss"});
}

BOOST_AUTO_TEST_SUITE_END()

// Metric ops (tools/ops/ops_metrics.cpp) against scikit-learn / SciPy / statsmodels
// (tests/golden/metrics_ops.py).
BOOST_AUTO_TEST_SUITE(cinediff_ops_golden_metrics)

BOOST_AUTO_TEST_CASE(classification_statistics_generation_segmentation) {
    run_file("metrics/ops.safetensors", {"confusion_matrix",
                                         "accuracy_score",
                                         "balanced_accuracy_score",
                                         "f1_score",
                                         "precision_score",
                                         "recall_score",
                                         "precision_recall_fscore_support",
                                         "top_k_accuracy_score",
                                         "roc_curve",
                                         "roc_auc_score",
                                         "mcnemar",
                                         "paired_t_test",
                                         "wilcoxon",
                                         "kmeans",
                                         "frechet_distance",
                                         "diversity_score",
                                         "vae_seq",
                                         "dynamic_smoothness",
                                         "dice",
                                         "iou",
                                         "hausdorff_distance",
                                         "average_symmetric_surface_distance"});
}

BOOST_AUTO_TEST_SUITE_END()
