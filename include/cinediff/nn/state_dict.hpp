#pragma once

#include <map>
#include <set>
#include <sstream>

#include <cinediff/io/safetensors.hpp>
#include <cinediff/io/tensor_conversion.hpp>
#include <cinediff/nn/module.hpp>

// state_dict save and load, with PyTorch's key names. Needs the cinediff::io component.
namespace cinediff::nn {

// Every parameter and buffer as named records (parameters and buffers together, like PyTorch).
template <module M>
std::vector<io::array_record> state_dict(M& m) {
    std::vector<io::array_record> out;
    for_each_state(m,
                   [&](const std::string& name, const auto& t) { out.push_back(io::from_tensor(name, t)); });
    return out;
}

struct load_report {
    std::vector<std::string> missing_keys;    // in the module, not in the file
    std::vector<std::string> unexpected_keys; // in the file, not in the module
};

// Copies records into the module's parameters and buffers. A shape or dtype mismatch is always an
// error; with strict = true (the default, as in PyTorch) missing or unexpected keys are errors
// too, listed in one message. Nothing is modified unless every check passes.
template <module M>
load_report load_state_dict(M& m, const std::vector<io::array_record>& records, bool strict = true,
                            const std::string& source = "state_dict") {
    std::map<std::string, const io::array_record*> by_name;
    for (const auto& r : records) {
        by_name[r.name] = &r;
    }
    load_report report;
    std::set<std::string> used;
    std::vector<std::string> errors;
    // Pass 1 checks everything; pass 2 copies. So a failed load leaves the module untouched.
    for_each_state(m, [&]<class U, std::size_t R>(const std::string& name, Tensor<U, R>& t) {
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
            report.missing_keys.push_back(name);
            return;
        }
        used.insert(name);
        const io::array_record& r = *it->second;
        if (r.type != dtype_of_v<U>) {
            errors.push_back("'" + name + "' has dtype " + std::string(dtype_name(r.type)) +
                             ", the module expects " + std::string(dtype_name(dtype_of_v<U>)));
        } else if (!std::equal(r.shape.begin(), r.shape.end(), t.shape().begin(), t.shape().end())) {
            errors.push_back("'" + name + "' has shape " + shape_to_string(r.shape) +
                             ", the module expects " + shape_to_string(t.shape()));
        }
    });
    for (const auto& r : records) {
        if (!used.count(r.name)) {
            report.unexpected_keys.push_back(r.name);
        }
    }
    if (strict) {
        for (const auto& k : report.missing_keys) {
            errors.push_back("missing key '" + k + "'");
        }
        for (const auto& k : report.unexpected_keys) {
            errors.push_back("unexpected key '" + k + "'");
        }
    }
    if (!errors.empty()) {
        std::ostringstream os;
        os << "load_state_dict from " << source << ": " << errors.size() << " problem(s): ";
        for (std::size_t i = 0; i < errors.size(); ++i) {
            os << (i ? "; " : "") << errors[i];
        }
        throw std::runtime_error(os.str());
    }
    for_each_state(m, [&]<class U, std::size_t R>(const std::string& name, Tensor<U, R>& t) {
        const auto it = by_name.find(name);
        if (it != by_name.end()) {
            t = io::to_tensor<U, R>(*it->second);
        }
    });
    return report;
}

template <module M>
load_report load_state_dict(M& m, const std::filesystem::path& path, bool strict = true) {
    return load_state_dict(m, io::read_safetensors(path).records, strict, path.string());
}

// Writes the state_dict as safetensors (atomically: a temporary file, then a rename).
template <module M>
void save_state_dict(M& m, const std::filesystem::path& path,
                     const std::map<std::string, std::string>& metadata = {}) {
    io::write_safetensors(path, state_dict(m), metadata);
}

} // namespace cinediff::nn
