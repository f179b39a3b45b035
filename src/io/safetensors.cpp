#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include <cinediff/io/safetensors.hpp>

#include "detail.hpp"

namespace cinediff::io {
namespace {

constexpr std::string_view metadata_key = "__metadata__";

struct entry {
    std::string name;
    dtype type;
    std::vector<index_t> shape;
    std::uint64_t begin;
    std::uint64_t end;
};

std::string offsets_text(std::uint64_t begin, std::uint64_t end) {
    // Appended piecewise: GCC 12's -Wrestrict misfires on "[" + std::to_string(...) at -O3.
    std::string text = "[";
    text += std::to_string(begin);
    text += ", ";
    text += std::to_string(end);
    text += ']';
    return text;
}

// The JSON header, parsed with duplicate top-level keys rejected: nlohmann (like serde) would keep
// one silently, and which one differs between readers.
nlohmann::json parse_header(const std::string& text, detail::byte_source& source) {
    std::set<std::string> keys;
    std::string duplicate;
    auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 && duplicate.empty() &&
            !keys.insert(parsed.get<std::string>()).second) {
            duplicate = parsed.get<std::string>();
        }
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text, callback);
    } catch (const nlohmann::json::exception& e) {
        source.fail(std::string("bad JSON header: ") + e.what());
    }
    if (!duplicate.empty()) {
        source.fail("bad JSON header: key " + detail::quoted(duplicate) + " appears twice");
    }
    if (!header.is_object()) {
        source.fail("bad JSON header: expected an object, got " + std::string(header.type_name()));
    }
    return header;
}

std::uint64_t get_unsigned(const nlohmann::json& value, detail::byte_source& source,
                           const std::string& what) {
    if (!value.is_number_unsigned()) {
        source.fail(what + " must be a non-negative integer, got " + value.dump());
    }
    return value.get<std::uint64_t>();
}

entry parse_entry(const std::string& name, const nlohmann::json& info, detail::byte_source& source,
                  std::uint64_t buffer_size) {
    const std::string context = "tensor " + detail::quoted(name) + ": ";
    if (!info.is_object()) {
        source.fail(context + "expected an object, got " + info.dump());
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
        if (!info.contains(field)) {
            source.fail(context + "missing field '" + field + "'");
        }
    }
    entry e{name, dtype::f32, {}, 0, 0};
    const auto& type = info["dtype"];
    const auto parsed_type = type.is_string() ? dtype_from_name(type.get<std::string>()) : std::nullopt;
    if (!parsed_type) {
        source.fail(context + "unsupported dtype " + type.dump() +
                    " (supported: F16 BF16 F32 F64 I8 I16 I32 I64 U8 U16 U32 U64 BOOL)");
    }
    e.type = *parsed_type;
    const auto& shape = info["shape"];
    if (!shape.is_array()) {
        source.fail(context + "'shape' must be an array, got " + shape.dump());
    }
    for (const auto& extent : shape) {
        const std::uint64_t v = get_unsigned(extent, source, context + "'shape' extent");
        if (v > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max())) {
            source.fail(context + "'shape' extent " + std::to_string(v) + " is too large");
        }
        e.shape.push_back(static_cast<index_t>(v));
    }
    const auto& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
        source.fail(context + "'data_offsets' must be an array of two integers, got " + offsets.dump());
    }
    e.begin = get_unsigned(offsets[0], source, context + "'data_offsets' begin");
    e.end = get_unsigned(offsets[1], source, context + "'data_offsets' end");
    if (e.end < e.begin) {
        source.fail(context + "data_offsets " + offsets_text(e.begin, e.end) + " end before they begin");
    }
    if (e.end > buffer_size) {
        source.fail(context + "data_offsets " + offsets_text(e.begin, e.end) + " lie outside the " +
                    std::to_string(buffer_size) + "-byte data buffer");
    }
    const auto bytes = checked_byte_size(e.shape, e.type);
    if (!bytes) {
        source.fail(context + "shape " + shape_to_string(e.shape) + " of " + std::string(dtype_name(e.type)) +
                    " is too large to address");
    }
    if (*bytes != e.end - e.begin) {
        source.fail(context + "data_offsets " + offsets_text(e.begin, e.end) + " do not match shape " +
                    shape_to_string(e.shape) + " of " + std::string(dtype_name(e.type)) + " (" +
                    std::to_string(*bytes) + " bytes)");
    }
    return e;
}

safetensors_file read_from(detail::byte_source& source) {
    const std::uint64_t size = source.size();
    if (size < 8) {
        source.fail("truncated: " + std::to_string(size) +
                    " bytes is too short for a safetensors header length");
    }
    std::byte prefix[8];
    source.read(0, prefix, "the header length");
    const std::uint64_t header_size = detail::load_le(prefix, 8);
    if (header_size > safetensors_max_header_bytes) {
        source.fail("header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(safetensors_max_header_bytes) + " bytes");
    }
    if (header_size > size - 8) {
        source.fail("truncated: header length " + std::to_string(header_size) + " but only " +
                    std::to_string(size - 8) + " bytes follow");
    }
    std::string text(header_size, '\0');
    source.read(8, std::as_writable_bytes(std::span(text)), "the JSON header");
    if (text.empty() || text.front() != '{') {
        source.fail("bad magic: the header does not start with '{', so this is not a safetensors file");
    }
    const nlohmann::json header = parse_header(text, source);

    const std::uint64_t buffer_start = 8 + header_size;
    const std::uint64_t buffer_size = size - buffer_start;
    safetensors_file result;
    std::vector<entry> entries;
    for (const auto& [key, value] : header.items()) {
        if (key == metadata_key) {
            if (!value.is_object()) {
                source.fail("'__metadata__' must be an object of strings, got " + value.dump());
            }
            for (const auto& [meta_key, meta_value] : value.items()) {
                if (!meta_value.is_string()) {
                    source.fail("'__metadata__' entry " + detail::quoted(meta_key) +
                                " must be a string, got " + meta_value.dump());
                }
                result.metadata.emplace(meta_key, meta_value.get<std::string>());
            }
            continue;
        }
        entries.push_back(parse_entry(key, value, source, buffer_size));
    }
    // The tensors must tile the buffer: sorted by offset, each starts where the previous ended and
    // the last ends at the end of the file (what the reference reader enforces).
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
        return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    std::uint64_t covered = 0;
    const entry* previous = nullptr;
    for (const entry& e : entries) {
        if (e.begin < covered) {
            source.fail("tensor " + detail::quoted(e.name) + ": data_offsets " +
                        offsets_text(e.begin, e.end) + " overlap tensor " + detail::quoted(previous->name) +
                        " at " + offsets_text(previous->begin, previous->end));
        }
        if (e.begin > covered) {
            source.fail("tensor " + detail::quoted(e.name) + ": data_offsets " +
                        offsets_text(e.begin, e.end) + " leave a gap of " +
                        std::to_string(e.begin - covered) + " bytes after offset " + std::to_string(covered));
        }
        covered = e.end;
        previous = &e;
    }
    if (covered != buffer_size) {
        source.fail("the tensors cover " + std::to_string(covered) + " bytes but the data buffer holds " +
                    std::to_string(buffer_size) + " (trailing bytes after the last tensor)");
    }
    // Only now, with every size checked against the real file, allocate.
    result.records.reserve(entries.size());
    for (entry& e : entries) {
        array_record record;
        record.name = std::move(e.name);
        record.type = e.type;
        record.shape = std::move(e.shape);
        record.bytes.resize(static_cast<std::size_t>(e.end - e.begin));
        source.read(buffer_start + e.begin, record.bytes, "tensor " + detail::quoted(record.name));
        if (record.type == dtype::b1) {
            detail::normalize_bools(record.bytes);
        }
        result.records.push_back(std::move(record));
    }
    return result;
}

// Position of each dtype in the reference's Dtype enum (BOOL, U8, I8, F8_*, I16, U16, F16, BF16,
// I32, U32, F32, F64, I64, U64); its writer sorts tensors by this, descending, then by name.
int reference_rank(dtype t) {
    switch (t) {
    case dtype::b1:
        return 0;
    case dtype::u8:
        return 1;
    case dtype::i8:
        return 2;
    case dtype::i16:
        return 5;
    case dtype::u16:
        return 6;
    case dtype::f16:
        return 7;
    case dtype::bf16:
        return 8;
    case dtype::i32:
        return 9;
    case dtype::u32:
        return 10;
    case dtype::f32:
        return 11;
    case dtype::f64:
        return 12;
    case dtype::i64:
        return 13;
    case dtype::u64:
        return 14;
    }
    return -1;
}

void check_utf8(const std::string& text, const std::string& destination, const std::string& what) {
    try {
        (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::exception&) {
        throw file_error(destination, what + " is not valid UTF-8");
    }
}

// The 8-byte length and the padded JSON header; `order` receives the records in file order.
std::vector<std::byte> header_bytes(const std::vector<array_record>& records,
                                    const std::map<std::string, std::string>& metadata,
                                    const std::string& destination, std::vector<const array_record*>& order) {
    std::set<std::string> names;
    order.clear();
    for (const array_record& record : records) {
        validate_record(record, destination);
        check_utf8(record.name, destination, "tensor name " + detail::quoted(record.name));
        if (record.name == metadata_key) {
            throw file_error(destination, "'__metadata__' is reserved and cannot name a tensor");
        }
        if (!names.insert(record.name).second) {
            throw file_error(destination, "tensor name " + detail::quoted(record.name) + " appears twice");
        }
        order.push_back(&record);
    }
    for (const auto& [key, value] : metadata) {
        check_utf8(key, destination, "metadata key " + detail::quoted(key));
        check_utf8(value, destination, "metadata value of " + detail::quoted(key));
    }
    std::sort(order.begin(), order.end(), [](const array_record* a, const array_record* b) {
        const int ra = reference_rank(a->type);
        const int rb = reference_rank(b->type);
        return ra != rb ? ra > rb : a->name < b->name;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        header[std::string(metadata_key)] = metadata;
    }
    std::uint64_t offset = 0;
    for (const array_record* record : order) {
        nlohmann::ordered_json info = nlohmann::ordered_json::object();
        info["dtype"] = std::string(dtype_name(record->type));
        info["shape"] = record->shape;
        info["data_offsets"] = {offset, offset + record->bytes.size()};
        offset += record->bytes.size();
        header[record->name] = std::move(info);
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' '); // so the data starts 8-byte aligned
    std::vector<std::byte> out;
    out.reserve(8 + text.size());
    detail::store_le(out, text.size(), 8);
    const auto bytes = detail::as_bytes(text);
    out.insert(out.end(), bytes.begin(), bytes.end());
    return out;
}

} // namespace

safetensors_file parse_safetensors(std::span<const std::byte> bytes, const std::string& source) {
    detail::memory_source src(bytes, source);
    return read_from(src);
}

safetensors_file read_safetensors(const std::filesystem::path& path) {
    detail::file_source src(path);
    return read_from(src);
}

std::vector<std::byte> serialize_safetensors(const std::vector<array_record>& records,
                                             const std::map<std::string, std::string>& metadata,
                                             const std::string& destination) {
    std::vector<const array_record*> order;
    std::vector<std::byte> out = header_bytes(records, metadata, destination, order);
    for (const array_record* record : order) {
        out.insert(out.end(), record->bytes.begin(), record->bytes.end());
    }
    return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<array_record>& records,
                       const std::map<std::string, std::string>& metadata) {
    std::vector<const array_record*> order;
    const std::vector<std::byte> header = header_bytes(records, metadata, path.string(), order);
    std::vector<std::span<const std::byte>> pieces{header};
    for (const array_record* record : order) {
        pieces.emplace_back(record->bytes);
    }
    detail::write_atomically(path, pieces);
}

} // namespace cinediff::io
