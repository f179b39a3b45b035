// cinediff-ops: every primitive (and, as they land, attention variants, scans, samplers, metrics)
// run on NumPy files, with PyTorch's names.
//
//   cinediff-ops list
//   cinediff-ops run OP --in NAME=FILE.npy ... [--attr KEY=VALUE ...] --out DIR [--grad OUTPUT=FILE.npy ...]
//
// `run` writes DIR/<output>.npy for every output it produced and, when an upstream gradient is
// given for every differentiable output, DIR/grad_<input>.npy for every differentiable input
// given. Outputs that are not differentiable (max_pool's indices, batch_norm's updated running
// statistics) take no --grad. float64 inputs are computed in float64, float32 in float32. Any
// mistake: one line on stderr, exit code 2, and no output file (outputs are computed in memory
// first and written only when everything succeeded). See docs/cinediff-ops.md.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/io/error.hpp>
#include <cinediff/io/npy.hpp>

#include "registry.hpp"

namespace cinediff::tools {

std::vector<op_spec>& op_table() {
    static std::vector<op_spec> table;
    return table;
}

namespace {

std::pair<std::string, std::string> split_pair(const std::string& text, const char* what) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw usage_error(std::string(what) + " '" + text + "' must be NAME=VALUE");
    }
    return {text.substr(0, eq), text.substr(eq + 1)};
}

const op_spec& find_op(const std::string& name) {
    for (const auto& op : op_table()) {
        if (op.name == name) {
            return op;
        }
    }
    throw usage_error("unknown op '" + name + "' (cinediff-ops list shows them all)");
}

void list_ops() {
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    auto sorted = op_table();
    std::sort(sorted.begin(), sorted.end(),
              [](const op_spec& a, const op_spec& b) { return a.name < b.name; });
    for (const auto& op : sorted) {
        nlohmann::ordered_json j;
        j["name"] = op.name;
        j["inputs"] = nlohmann::ordered_json::array();
        for (const auto& i : op.inputs) {
            j["inputs"].push_back(
                {{"name", i.name}, {"differentiable", i.differentiable}, {"optional", i.optional}});
        }
        j["attributes"] = nlohmann::ordered_json::array();
        for (const auto& a : op.attributes) {
            nlohmann::ordered_json d = a.default_value; // null: required
            if (a.required) {
                d = nullptr;
            }
            j["attributes"].push_back({{"name", a.name}, {"type", a.type}, {"default", d}});
        }
        j["outputs"] = op.outputs;
        ops.push_back(j);
    }
    std::cout << ops.dump(2) << '\n';
}

void run_op(const std::string& name, const std::vector<std::string>& ins,
            const std::vector<std::string>& attrs, const std::string& out_dir,
            const std::vector<std::string>& grads) {
    const op_spec& op = find_op(name);
    std::map<std::string, io::array_record> inputs;
    for (const auto& text : ins) {
        auto [key, file] = split_pair(text, "--in");
        if (inputs.count(key)) {
            throw usage_error(name + ": input '" + key + "' given twice");
        }
        inputs[key] = io::read_npy(file);
        inputs[key].name = key;
    }
    std::map<std::string, std::string> attributes;
    for (const auto& text : attrs) {
        auto [key, value] = split_pair(text, "--attr");
        attributes[key] = value;
    }
    std::map<std::string, io::array_record> upstream;
    for (const auto& text : grads) {
        auto [key, file] = split_pair(text, "--grad");
        if (std::find(op.outputs.begin(), op.outputs.end(), key) == op.outputs.end()) {
            throw usage_error(name + ": --grad names '" + key + "', which is not an output of " + name);
        }
        upstream[key] = io::read_npy(file);
    }
    op_context context(op, std::move(inputs), std::move(attributes), !upstream.empty());
    op.run(context);

    std::vector<io::array_record> files;
    for (auto& o : context.outputs()) {
        o.value.name = o.name;
        files.push_back(o.value);
    }
    if (!upstream.empty()) {
        for (const auto& [key, _] : upstream) {
            const auto o = std::find_if(context.outputs().begin(), context.outputs().end(),
                                        [&](const auto& p) { return p.name == key; });
            if (o == context.outputs().end()) {
                throw usage_error(name + ": --grad names '" + key + "', which this run did not produce");
            }
            if (!o->backward) {
                throw usage_error(name + ": output '" + key + "' is not differentiable");
            }
        }
        for (auto& o : context.outputs()) {
            if (!o.backward) { // indices, running statistics: no gradient flows back through them
                continue;
            }
            const auto it = upstream.find(o.name);
            if (it == upstream.end()) {
                throw usage_error(name +
                                  ": an upstream gradient is needed for every differentiable output; '" +
                                  o.name + "' has none");
            }
            if (it->second.shape != o.shape || it->second.type != o.value.type) {
                throw usage_error(name + ": --grad " + o.name + " has " +
                                  std::string(dtype_name(it->second.type)) + " " +
                                  shape_to_string(it->second.shape) + ", the output is " +
                                  std::string(dtype_name(o.value.type)) + " " + shape_to_string(o.shape));
            }
            o.backward(it->second);
        }
        for (auto& g : context.grad_sources()) {
            if (g.requires_grad) {
                auto r = g.grad();
                r.name = "grad_" + g.input;
                files.push_back(std::move(r));
            }
        }
    }
    std::filesystem::create_directories(out_dir);
    for (const auto& f : files) { // each write is atomic (temporary file, then rename)
        io::write_npy(std::filesystem::path(out_dir) / (f.name + ".npy"), f);
    }
}

} // namespace
} // namespace cinediff::tools

int main(int argc, char** argv) {
    using namespace cinediff::tools;
    CLI::App app{"cinediff-ops: run cinediff's primitives on NumPy files"};
    app.require_subcommand(1);
    auto* list = app.add_subcommand("list", "print every op with its inputs, attributes and outputs as JSON");
    auto* run = app.add_subcommand("run", "run one op");
    std::string op, out_dir;
    std::vector<std::string> ins, attrs, grads;
    run->add_option("op", op, "op name (as in torch.nn.functional)")->required();
    run->add_option("--in", ins, "NAME=FILE.npy, one per input");
    run->add_option("--attr", attrs, "KEY=VALUE; tuples as 1,2,2; booleans true/false");
    run->add_option("--out", out_dir, "output folder")->required();
    run->add_option("--grad", grads, "OUTPUT=FILE.npy: upstream gradient of an output");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "cinediff-ops: " << e.what() << '\n';
        return 2;
    }
    try {
        if (*list) {
            list_ops();
        } else {
            run_op(op, ins, attrs, out_dir, grads);
        }
    } catch (const std::exception& e) {
        std::string line = e.what();
        std::replace(line.begin(), line.end(), '\n', ' ');
        std::cerr << "cinediff-ops: " << line << '\n';
        return 2;
    }
    return 0;
}
