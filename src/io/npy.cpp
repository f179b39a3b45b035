#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include <cinediff/io/npy.hpp>

#include "detail.hpp"

namespace cinediff::io {
namespace {

constexpr std::size_t npy_prefix_size = 8; // "\x93NUMPY", major, minor
// np.load refuses headers over 10000 bytes by default; we allow more but still bound what a
// corrupt length field can make us allocate.
constexpr std::size_t npy_max_header_bytes = std::size_t{1} << 20;

struct npy_header {
    std::string descr;
    bool fortran_order = false;
    std::vector<index_t> shape;
};

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
// This parses exactly the subset np.save writes (plus Python 2's "3L" integers) without evaluating
// anything.
class header_parser {
  public:
    header_parser(std::string_view text, detail::byte_source& source, std::string context)
        : m_text(text), m_source(source), m_context(std::move(context)) {}

    npy_header parse() {
        npy_header header;
        std::set<std::string> seen;
        skip_space();
        expect('{');
        for (;;) {
            skip_space();
            if (peek() == '}') {
                ++m_pos;
                break;
            }
            const std::string key = parse_string("a key");
            if (!seen.insert(key).second) {
                fail("key '" + key + "' appears twice");
            }
            skip_space();
            expect(':');
            skip_space();
            if (key == "descr") {
                if (peek() == '[') {
                    fail("structured dtypes (a descr list) are not supported");
                }
                header.descr = parse_string("'descr'");
            } else if (key == "fortran_order") {
                header.fortran_order = parse_bool();
            } else if (key == "shape") {
                header.shape = parse_shape();
            } else {
                fail("unexpected key '" + key + "'");
            }
            skip_space();
            if (peek() == ',') {
                ++m_pos;
            } else if (peek() != '}') {
                fail_here("expected ',' or '}'");
            }
        }
        skip_space();
        if (m_pos != m_text.size()) {
            fail_here("unexpected text after the dict");
        }
        for (const char* key : {"descr", "fortran_order", "shape"}) {
            if (!seen.contains(key)) {
                fail(std::string("missing key '") + key + "'");
            }
        }
        return header;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        m_source.fail(m_context + "npy header: " + what);
    }
    [[noreturn]] void fail_here(const std::string& what) const {
        fail(what + " at character " + std::to_string(m_pos) + " of \"" + printable(m_text) + "\"");
    }
    static std::string printable(std::string_view s) {
        std::string out;
        for (char c : s.substr(0, 200)) {
            out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
        }
        return out;
    }
    char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
    void skip_space() {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\n' ||
                                         m_text[m_pos] == '\t' || m_text[m_pos] == '\r')) {
            ++m_pos;
        }
    }
    void expect(char c) {
        if (peek() != c) {
            fail_here(std::string("expected '") + c + "'");
        }
        ++m_pos;
    }
    std::string parse_string(const std::string& what) {
        const char quote = peek();
        if (quote != '\'' && quote != '"') {
            fail_here("expected a string for " + what);
        }
        ++m_pos;
        std::string out;
        while (m_pos < m_text.size() && m_text[m_pos] != quote) {
            if (m_text[m_pos] == '\\') {
                fail_here("escape sequences are not supported");
            }
            out += m_text[m_pos++];
        }
        expect(quote);
        return out;
    }
    bool parse_bool() {
        if (m_text.substr(m_pos, 4) == "True") {
            m_pos += 4;
            return true;
        }
        if (m_text.substr(m_pos, 5) == "False") {
            m_pos += 5;
            return false;
        }
        fail_here("'fortran_order' must be True or False");
    }
    std::vector<index_t> parse_shape() {
        std::vector<index_t> shape;
        expect('(');
        for (;;) {
            skip_space();
            if (peek() == ')') {
                ++m_pos;
                break;
            }
            if (!std::isdigit(static_cast<unsigned char>(peek()))) {
                fail_here("'shape' must be a tuple of non-negative integers");
            }
            index_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const int digit = peek() - '0';
                if (v > (std::numeric_limits<index_t>::max() - digit) / 10) {
                    fail_here("extent in 'shape' is too large");
                }
                v = v * 10 + digit;
                ++m_pos;
            }
            if (peek() == 'L') { // Python 2 long
                ++m_pos;
            }
            shape.push_back(v);
            skip_space();
            if (peek() == ',') {
                ++m_pos;
            } else if (peek() != ')') {
                fail_here("expected ',' or ')' in 'shape'");
            }
        }
        if (shape.size() > 64) {
            fail("'shape' has " + std::to_string(shape.size()) + " dimensions; NumPy allows at most 64");
        }
        return shape;
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    detail::byte_source& m_source;
    std::string m_context;
};

struct descr_info {
    dtype type;
    bool big_endian;
};

std::optional<descr_info> parse_descr(std::string_view descr) {
    bool big = false;
    if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')) {
        big = descr[0] == '>';
        descr.remove_prefix(1);
    }
    if (descr.size() != 2) {
        return std::nullopt;
    }
    static constexpr struct {
        std::string_view code;
        dtype type;
    } table[] = {{"f2", dtype::f16}, {"f4", dtype::f32}, {"f8", dtype::f64}, {"i1", dtype::i8},
                 {"i2", dtype::i16}, {"i4", dtype::i32}, {"i8", dtype::i64}, {"u1", dtype::u8},
                 {"u2", dtype::u16}, {"u4", dtype::u32}, {"u8", dtype::u64}, {"b1", dtype::b1}};
    for (const auto& entry : table) {
        if (entry.code == descr) {
            return descr_info{entry.type, big};
        }
    }
    return std::nullopt;
}

std::string python_tuple(const std::vector<index_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        s += (i ? ", " : "") + std::to_string(shape[i]);
    }
    return s + (shape.size() == 1 ? ",)" : ")");
}

} // namespace

std::optional<std::string> npy_descr(dtype type) {
    switch (type) {
    case dtype::f16:
        return "<f2";
    case dtype::f32:
        return "<f4";
    case dtype::f64:
        return "<f8";
    case dtype::i8:
        return "|i1";
    case dtype::i16:
        return "<i2";
    case dtype::i32:
        return "<i4";
    case dtype::i64:
        return "<i8";
    case dtype::u8:
        return "|u1";
    case dtype::u16:
        return "<u2";
    case dtype::u32:
        return "<u4";
    case dtype::u64:
        return "<u8";
    case dtype::b1:
        return "|b1";
    case dtype::bf16:
        return std::nullopt;
    }
    return std::nullopt;
}

namespace detail {

array_record read_npy_from(byte_source& source, const std::string& context) {
    std::byte prefix[npy_prefix_size + 4];
    if (source.size() < npy_prefix_size + 2) {
        source.fail(context + "truncated: " + std::to_string(source.size()) +
                    " bytes is too short for a .npy header");
    }
    source.read(0, std::span(prefix, npy_prefix_size), context + "the .npy magic");
    static constexpr unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    for (std::size_t i = 0; i < 6; ++i) {
        if (std::to_integer<unsigned char>(prefix[i]) != magic[i]) {
            source.fail(context + "bad magic: not a .npy file (expected \\x93NUMPY)");
        }
    }
    const auto major = std::to_integer<unsigned>(prefix[6]);
    const auto minor = std::to_integer<unsigned>(prefix[7]);
    if (minor != 0 || major < 1 || major > 3) {
        source.fail(context + "unsupported .npy format version " + std::to_string(major) + "." +
                    std::to_string(minor));
    }
    const std::size_t length_size = major == 1 ? 2 : 4;
    source.read(npy_prefix_size, std::span(prefix + npy_prefix_size, length_size),
                context + "the header length");
    const std::uint64_t header_size = load_le(prefix + npy_prefix_size, length_size);
    const std::uint64_t header_start = npy_prefix_size + length_size;
    if (header_size > npy_max_header_bytes) {
        source.fail(context + "header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(npy_max_header_bytes) + " bytes");
    }
    if (header_size > source.size() - header_start) {
        source.fail(context + "truncated: header length " + std::to_string(header_size) + " but only " +
                    std::to_string(source.size() - header_start) + " bytes follow");
    }
    std::string text(header_size, '\0');
    source.read(header_start, std::as_writable_bytes(std::span(text)), context + "the header");
    const npy_header header = header_parser(text, source, context).parse();

    const auto info = parse_descr(header.descr);
    if (!info) {
        source.fail(context + "unsupported dtype '" + header.descr +
                    "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)");
    }
    const auto data_size = checked_byte_size(header.shape, info->type);
    if (!data_size) {
        source.fail(context + "shape " + shape_to_string(header.shape) + " of '" + header.descr +
                    "' is too large to address");
    }
    const std::uint64_t data_start = header_start + header_size;
    const std::uint64_t available = source.size() - data_start;
    if (*data_size > available) {
        source.fail(context + "truncated: shape " + shape_to_string(header.shape) + " of '" + header.descr +
                    "' needs " + std::to_string(*data_size) + " data bytes but only " +
                    std::to_string(available) + " follow the header");
    }
    if (*data_size < available) {
        source.fail(context + std::to_string(available - *data_size) + " unexpected bytes after the " +
                    std::to_string(*data_size) + " data bytes of shape " + shape_to_string(header.shape) +
                    " of '" + header.descr + "'");
    }

    array_record record;
    record.type = info->type;
    record.shape = header.shape;
    record.bytes.resize(*data_size);
    source.read(data_start, record.bytes, context + "the array data");
    const std::size_t item = dtype_size(info->type);
    if (info->big_endian) {
        byte_swap(record.bytes, item);
    }
    if (header.fortran_order) {
        record.bytes = fortran_to_c_order(record.bytes, record.shape, item);
    }
    if (record.type == dtype::b1) {
        normalize_bools(record.bytes);
    }
    return record;
}

} // namespace detail

namespace {

// Everything before the data; the data is record.bytes unchanged (C order, little-endian).
std::vector<std::byte> npy_header_bytes(const array_record& record, const std::string& destination) {
    validate_record(record, destination);
    const auto descr = npy_descr(record.type);
    if (!descr) {
        throw file_error(destination, "array '" + record.name + "' has dtype " +
                                          std::string(dtype_name(record.type)) + ", which .npy cannot store");
    }
    // Byte-identical to NumPy 1.24's np.save: sorted keys, spare spaces after the dict so the first
    // extent can grow in place, then spaces and '\n' up to a multiple of 64 bytes.
    std::string dict =
        "{'descr': '" + *descr + "', 'fortran_order': False, 'shape': " + python_tuple(record.shape) + ", }";
    if (!record.shape.empty()) {
        dict.append(21 - std::min<std::size_t>(21, std::to_string(record.shape[0]).size()), ' ');
    }
    const std::size_t text_size = dict.size() + 1; // + '\n'
    std::size_t length_size = 2;
    std::size_t pad = 64 - (npy_prefix_size + length_size + text_size) % 64;
    unsigned major = 1;
    if (text_size + pad > 0xffff) {
        major = 2;
        length_size = 4;
        pad = 64 - (npy_prefix_size + length_size + text_size) % 64;
    }
    std::vector<std::byte> out;
    out.reserve(npy_prefix_size + length_size + text_size + pad);
    for (const int c : {0x93, int{'N'}, int{'U'}, int{'M'}, int{'P'}, int{'Y'}}) {
        out.push_back(static_cast<std::byte>(c));
    }
    out.push_back(static_cast<std::byte>(major));
    out.push_back(std::byte{0});
    detail::store_le(out, text_size + pad, length_size);
    dict.append(pad, ' ');
    dict += '\n';
    const auto text = detail::as_bytes(dict);
    out.insert(out.end(), text.begin(), text.end());
    return out;
}

} // namespace

std::vector<std::byte> serialize_npy(const array_record& record, const std::string& destination) {
    std::vector<std::byte> out = npy_header_bytes(record, destination);
    out.insert(out.end(), record.bytes.begin(), record.bytes.end());
    return out;
}

array_record parse_npy(std::span<const std::byte> bytes, const std::string& source) {
    detail::memory_source src(bytes, source);
    return detail::read_npy_from(src, "");
}

array_record read_npy(const std::filesystem::path& path) {
    detail::file_source src(path);
    array_record record = detail::read_npy_from(src, "");
    record.name = path.stem().string();
    return record;
}

void write_npy(const std::filesystem::path& path, const array_record& record) {
    const std::vector<std::byte> header = npy_header_bytes(record, path.string());
    const std::span<const std::byte> pieces[] = {header, record.bytes};
    detail::write_atomically(path, pieces);
}

} // namespace cinediff::io
