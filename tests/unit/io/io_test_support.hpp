#pragma once

// Helpers shared by the io tests: fixture paths, expected values, scratch folders, byte patching.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/io/array_record.hpp>
#include <cinediff/io/error.hpp>

namespace cinediff::io::test {

inline std::filesystem::path fixture(const std::string& name) {
    return std::filesystem::path(CINEDIFF_TEST_SOURCE_DIR) / "golden" / "tensor_files" / name;
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    for (std::size_t i = 0; i < chars.size(); ++i) {
        out[i] = static_cast<std::byte>(chars[i]);
    }
    return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    BOOST_REQUIRE(out);
}

inline std::vector<std::byte> from_string(const std::string& s) {
    std::vector<std::byte> out;
    for (char c : s) {
        out.push_back(static_cast<std::byte>(c));
    }
    return out;
}

// tests/golden/tensor_files/expected.json, written by make_tensor_files.py.
inline const nlohmann::json& expected() {
    static const nlohmann::json json = [] {
        std::ifstream in(fixture("expected.json"));
        return nlohmann::json::parse(in);
    }();
    return json;
}

inline std::vector<std::byte> from_hex(const std::string& hex) {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

inline std::string to_hex(const std::vector<std::byte>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::byte b : bytes) {
        out += digits[std::to_integer<unsigned>(b) >> 4];
        out += digits[std::to_integer<unsigned>(b) & 15u];
    }
    return out;
}

// Checks a record against expected.json's entry `key`: dtype, shape and exact bytes.
inline void check_expected(const array_record& record, const std::string& key) {
    BOOST_TEST_CONTEXT("fixture " << key) {
        BOOST_REQUIRE(expected().contains(key));
        const auto& want = expected()[key];
        BOOST_TEST(std::string(dtype_name(record.type)) == want["dtype"].get<std::string>());
        BOOST_TEST(record.shape == want["shape"].get<std::vector<index_t>>(),
                   boost::test_tools::per_element());
        BOOST_TEST(to_hex(record.bytes) == want["hex"].get<std::string>());
    }
}

// A fresh folder under the system temp folder, removed with its contents at scope exit.
class scratch_dir {
  public:
    scratch_dir() {
        std::random_device rd;
        m_path = std::filesystem::temp_directory_path() / ("cinediff-io-test-" + std::to_string(rd()));
        std::filesystem::create_directories(m_path);
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }
    const std::filesystem::path& path() const { return m_path; }
    std::size_t entries() const {
        return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(m_path), {}));
    }

  private:
    std::filesystem::path m_path;
};

// Runs `f`, which must throw file_error whose message contains every one of `parts`.
template <class F>
void check_rejects(F&& f, std::initializer_list<std::string> parts) {
    try {
        f();
        BOOST_ERROR("no file_error thrown; expected one mentioning '" << *parts.begin() << "'");
    } catch (const file_error& e) {
        const std::string message = e.what();
        BOOST_TEST_MESSAGE("rejected: " << message);
        BOOST_TEST(message.find('\n') == std::string::npos);
        for (const std::string& part : parts) {
            BOOST_TEST(message.find(part) != std::string::npos, "'" << message << "' lacks '" << part << "'");
        }
    }
}

// A record with distinct bytes, for round trips of every dtype.
inline array_record make_record(const std::string& name, dtype type, std::vector<index_t> shape) {
    array_record r;
    r.name = name;
    r.type = type;
    r.shape = std::move(shape);
    r.bytes.resize(*checked_byte_size(r.shape, type));
    for (std::size_t i = 0; i < r.bytes.size(); ++i) {
        r.bytes[i] = static_cast<std::byte>(type == dtype::b1 ? (i % 3 == 0) : (i * 37 + 11) & 0xff);
    }
    return r;
}

inline const std::vector<dtype>& all_dtypes() {
    static const std::vector<dtype> types{dtype::f16, dtype::bf16, dtype::f32, dtype::f64, dtype::i8,
                                          dtype::i16, dtype::i32,  dtype::i64, dtype::u8,  dtype::u16,
                                          dtype::u32, dtype::u64,  dtype::b1};
    return types;
}

} // namespace cinediff::io::test
