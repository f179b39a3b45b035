// Parsing of attribute values: integers, floats, booleans and comma-separated tuples.
#include <algorithm>
#include <charconv>

#include "registry.hpp"

namespace cinediff::tools {

namespace {

std::int64_t parse_int(const std::string& op, const std::string& name, const std::string& text) {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
        throw usage_error(op + ": attribute " + name + "='" + text + "' is not an integer");
    }
    return v;
}

double parse_float(const std::string& op, const std::string& name, const std::string& text) {
    try {
        std::size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) {
            return v;
        }
    } catch (const std::exception&) {
    }
    throw usage_error(op + ": attribute " + name + "='" + text + "' is not a number");
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> pieces;
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        pieces.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) {
            return pieces;
        }
        start = comma + 1;
    }
}

} // namespace

std::int64_t op_context::int_attr(const std::string& name) const {
    return parse_int(m_spec.name, name, string_attr(name));
}

double op_context::float_attr(const std::string& name) const {
    return parse_float(m_spec.name, name, string_attr(name));
}

bool op_context::bool_attr(const std::string& name) const {
    const std::string text = string_attr(name);
    if (text == "true" || text == "1") {
        return true;
    }
    if (text == "false" || text == "0") {
        return false;
    }
    throw usage_error(m_spec.name + ": attribute " + name + "='" + text + "' must be true or false");
}

bool op_context::is_none(const std::string& name) const {
    const std::string text = string_attr(name);
    return text == "none" || text == "None";
}

std::optional<std::int64_t> op_context::optional_int_attr(const std::string& name) const {
    if (is_none(name)) {
        return std::nullopt;
    }
    return int_attr(name);
}

std::optional<bool> op_context::optional_bool_attr(const std::string& name) const {
    if (is_none(name)) {
        return std::nullopt;
    }
    return bool_attr(name);
}

std::vector<std::int64_t> op_context::int_list_attr(const std::string& name) const {
    const std::string text = string_attr(name);
    std::vector<std::int64_t> values;
    for (const auto& piece : split_commas(text)) {
        values.push_back(parse_int(m_spec.name, name, piece));
    }
    return values;
}

std::vector<double> op_context::float_list_attr(const std::string& name) const {
    const std::string text = string_attr(name);
    std::vector<double> values;
    for (const auto& piece : split_commas(text)) {
        values.push_back(parse_float(m_spec.name, name, piece));
    }
    return values;
}

std::string op_context::choice_attr(const std::string& name, const std::vector<std::string>& choices) const {
    const std::string text = string_attr(name);
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) {
        return text;
    }
    std::string all;
    for (const auto& c : choices) {
        if (!all.empty()) {
            all += ", ";
        }
        all += c;
    }
    throw usage_error(m_spec.name + ": attribute " + name + "='" + text + "' must be one of " + all);
}

std::vector<std::int64_t> op_context::ints_attr(const std::string& name, std::size_t n) const {
    const std::string text = string_attr(name);
    std::vector<std::int64_t> values;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto piece = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        values.push_back(parse_int(m_spec.name, name, piece));
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    if (values.size() == 1 && n > 1) {
        values.assign(n, values[0]);
    }
    if (values.size() != n) {
        throw usage_error(m_spec.name + ": attribute " + name + "='" + text + "' needs " + std::to_string(n) +
                          " values");
    }
    return values;
}

} // namespace cinediff::tools
