#pragma once

#include <concepts>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <cinediff/io/error.hpp>
#include <cinediff/io/safetensors.hpp>
#include <cinediff/nn/state_dict.hpp>
#include <cinediff/optim/concept.hpp>
#include <cinediff/tensor/random.hpp>

// Training checkpoints: model + optimiser + EMA + RNG streams + step in ONE safetensors file,
// written atomically (a temporary file, then a rename), so an interrupted save never leaves a
// half-written checkpoint and a resumed run continues bit for bit. Needs the cinediff::io component.
//
// File layout (readable by safetensors' Python package; the model part loads into PyTorch with
// {k[len("model."):]: v for k, v in f.items() if k.startswith("model.")}):
//   model.<state_dict key>          every parameter and buffer, PyTorch names
//   optimizer.<param>.<slot>        1-D optimiser buffers (exp_avg, exp_avg_sq, momentum_buffer ...)
//   ema.<param>                     1-D EMA shadow values
//   __metadata__: format, step, optimizer.<counter>, optimizer.<scalar>, ema.<counter>,
//                 rng.<name> = "seed stream offset"
namespace cinediff::train {

inline constexpr const char* checkpoint_format = "cinediff-checkpoint-1";

// What a checkpoint holds besides tensors. RNG generators are stored by the caller's names.
struct checkpoint_extras {
    std::int64_t step = 0;
    std::map<std::string, philox_state> rng;
};

// Stands for "no optimiser" or "no EMA" in save_checkpoint / load_checkpoint.
struct no_state_t {};
inline constexpr no_state_t no_state{};

namespace detail {

template <class T>
io::array_record vector_record(const std::string& name, const std::vector<T>& v) {
    io::array_record r;
    r.name = name;
    r.type = dtype_of_v<T>;
    r.shape = {static_cast<index_t>(v.size())};
    r.bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) {
        std::memcpy(r.bytes.data(), v.data(), r.bytes.size());
    }
    return r;
}

template <class T>
std::vector<T> record_vector(const io::array_record& r, const std::string& path) {
    if (r.type != dtype_of_v<T> || r.shape.size() != 1) {
        throw io::file_error(path, "'" + r.name + "' must be a 1-D " +
                                       std::string(dtype_name(dtype_of_v<T>)) + " array, found " +
                                       std::string(dtype_name(r.type)) + " " + shape_to_string(r.shape));
    }
    io::validate_record(r, path);
    std::vector<T> v(static_cast<std::size_t>(r.shape[0]));
    if (!v.empty()) {
        std::memcpy(v.data(), r.bytes.data(), r.bytes.size());
    }
    return v;
}

template <class T>
void append_state(const std::string& prefix, const optim::optimizer_state<T>& s,
                  std::vector<io::array_record>& records, std::map<std::string, std::string>& metadata) {
    for (const auto& [k, v] : s.buffers) {
        records.push_back(vector_record(prefix + k, v));
    }
    for (const auto& [k, c] : s.counters) {
        metadata[prefix + k] = std::to_string(c);
    }
    for (const auto& [k, x] : s.scalars) {
        std::ostringstream os;
        os.precision(17);
        os << x;
        metadata[prefix + k] = os.str();
    }
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

template <class T>
optim::optimizer_state<T> extract_state(const std::string& prefix, const io::safetensors_file& file,
                                        const std::string& path) {
    optim::optimizer_state<T> s;
    for (const auto& r : file.records) {
        if (starts_with(r.name, prefix)) {
            s.buffers[r.name.substr(prefix.size())] = record_vector<T>(r, path);
        }
    }
    for (const auto& [k, v] : file.metadata) {
        if (!starts_with(k, prefix)) {
            continue;
        }
        const std::string key = k.substr(prefix.size());
        try {
            // Learning rates are the only scalars; everything else under the prefix is a counter.
            if (key.find(".lr") != std::string::npos && starts_with(key, "param_groups.")) {
                s.scalars[key] = std::stod(v);
            } else {
                s.counters[key] = std::stoll(v);
            }
        } catch (const std::exception&) {
            throw io::file_error(path, "metadata '" + k + "' = '" + v + "' is not a number");
        }
    }
    return s;
}

inline philox_state parse_rng(const std::string& key, const std::string& text, const std::string& path) {
    std::istringstream is(text);
    philox_state s;
    if (!(is >> s.seed >> s.stream >> s.offset)) {
        throw io::file_error(path, "metadata '" + key + "' = '" + text + "' is not 'seed stream offset'");
    }
    return s;
}

template <class Part>
auto extract_part(const std::string& prefix, const Part&, const io::safetensors_file& file,
                  const std::string& path) {
    if constexpr (std::same_as<std::remove_cvref_t<Part>, no_state_t>) {
        return 0;
    } else {
        return extract_state<typename Part::value_type>(prefix, file, path);
    }
}
} // namespace detail

template <class S>
concept checkpoint_part = std::same_as<S, no_state_t> || optim::stateful<S, typename S::value_type>;

// Saves model + optimiser + EMA (either may be `no_state`) atomically.
template <nn::module M, checkpoint_part Optimizer, checkpoint_part Ema>
void save_checkpoint(const std::filesystem::path& path, M& model, const Optimizer& optimizer, const Ema& ema,
                     const checkpoint_extras& extras = {}) {
    std::vector<io::array_record> records;
    for (auto& r : nn::state_dict(model)) {
        r.name = "model." + r.name;
        records.push_back(std::move(r));
    }
    std::map<std::string, std::string> metadata{{"format", checkpoint_format},
                                                {"step", std::to_string(extras.step)}};
    if constexpr (!std::same_as<Optimizer, no_state_t>) {
        detail::append_state("optimizer.", optimizer.export_state(), records, metadata);
    }
    if constexpr (!std::same_as<Ema, no_state_t>) {
        detail::append_state("ema.", ema.export_state(), records, metadata);
    }
    for (const auto& [name, s] : extras.rng) {
        metadata["rng." + name] =
            std::to_string(s.seed) + " " + std::to_string(s.stream) + " " + std::to_string(s.offset);
    }
    io::write_safetensors(path, records, metadata);
}

// Restores what save_checkpoint wrote into the given objects (`no_state`: skip that part). The
// file is read and decoded first, so a damaged or foreign file changes nothing. Then the model is
// loaded (strict: missing, unexpected or mis-shaped tensors throw before any copy), then the
// optimiser and EMA, whose import_state validates sizes before assigning; a failure there leaves
// the model loaded and that part untouched.
template <nn::module M, class Optimizer, class Ema>
requires checkpoint_part<std::remove_cvref_t<Optimizer>> && checkpoint_part<std::remove_cvref_t<Ema>>
    checkpoint_extras load_checkpoint(const std::filesystem::path& path, M& model, Optimizer&& optimizer,
                                      Ema&& ema) {
    const std::string where = path.string();
    const io::safetensors_file file = io::read_safetensors(path);
    const auto format = file.metadata.find("format");
    if (format == file.metadata.end() || format->second != checkpoint_format) {
        throw io::file_error(where, "not a cinediff checkpoint (metadata 'format' must be '" +
                                        std::string(checkpoint_format) + "')");
    }
    checkpoint_extras extras;
    for (const auto& [k, v] : file.metadata) {
        if (k == "step") {
            try {
                extras.step = std::stoll(v);
            } catch (const std::exception&) {
                throw io::file_error(where, "metadata 'step' = '" + v + "' is not an integer");
            }
        } else if (detail::starts_with(k, "rng.")) {
            extras.rng[k.substr(4)] = detail::parse_rng(k, v, where);
        }
    }
    std::vector<io::array_record> model_records;
    for (const auto& r : file.records) {
        if (detail::starts_with(r.name, "model.")) {
            model_records.push_back(r);
            model_records.back().name = r.name.substr(6);
        }
    }
    // Decode the optimiser/EMA parts before touching the model, so format errors change nothing.
    const auto opt_state = detail::extract_part("optimizer.", optimizer, file, where);
    const auto ema_state = detail::extract_part("ema.", ema, file, where);
    using optimizer_type = std::remove_cvref_t<Optimizer>;
    using ema_type = std::remove_cvref_t<Ema>;
    if constexpr (!std::same_as<ema_type, no_state_t>) {
        if (ema_state.counters.find("optimization_step") == ema_state.counters.end()) {
            throw io::file_error(where, "holds no EMA state (no 'ema.optimization_step')");
        }
    }
    nn::load_state_dict(model, model_records, true, where);
    if constexpr (!std::same_as<optimizer_type, no_state_t>) {
        optimizer.import_state(opt_state);
    }
    if constexpr (!std::same_as<ema_type, no_state_t>) {
        ema.import_state(ema_state);
    }
    return extras;
}

} // namespace cinediff::train
