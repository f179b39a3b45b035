#pragma once

// Internal helpers shared by the format readers and writers; not installed.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <cinediff/io/array_record.hpp>
#include <cinediff/io/error.hpp>

namespace cinediff::io::detail {

static_assert(std::endian::native == std::endian::little,
              "cinediff::io stores tensors little-endian and only supports little-endian hosts");

// Bytes readable in increasing-offset order: a file, a memory buffer or a zip member. size() is the
// real size (never a declared one), so readers can check declared sizes before allocating.
class byte_source {
  public:
    virtual ~byte_source() = default;
    virtual std::uint64_t size() const = 0;
    // Reads exactly out.size() bytes at `offset` or throws; `what` names the part for the message.
    virtual void read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) = 0;
    // The path or buffer name used in error messages.
    virtual const std::string& name() const = 0;

    [[noreturn]] void fail(const std::string& what) const { throw file_error(name(), what); }
};

class memory_source final : public byte_source {
  public:
    memory_source(std::span<const std::byte> bytes, std::string name)
        : m_bytes(bytes), m_name(std::move(name)) {}
    std::uint64_t size() const override { return m_bytes.size(); }
    void read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) override;
    const std::string& name() const override { return m_name; }

  private:
    std::span<const std::byte> m_bytes;
    std::string m_name;
};

// A regular file opened read-only; its size is taken once, with fstat.
class file_source final : public byte_source {
  public:
    explicit file_source(const std::filesystem::path& path);
    ~file_source() override;
    file_source(const file_source&) = delete;
    file_source& operator=(const file_source&) = delete;
    std::uint64_t size() const override { return m_size; }
    void read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) override;
    const std::string& name() const override { return m_name; }

  private:
    int m_fd = -1;
    std::uint64_t m_size = 0;
    std::string m_name;
};

// Writes the concatenation of `pieces` to `path` through a temporary file in the same folder and a
// rename, so readers never see a half-written file and a failure leaves the old file untouched.
void write_atomically(const std::filesystem::path& path, std::span<const std::span<const std::byte>> pieces);

inline std::span<const std::byte> as_bytes(const std::string& s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Reverses the bytes of each `item_size`-byte element (big-endian -> little-endian).
void byte_swap(std::span<std::byte> data, std::size_t item_size);

// Reorders Fortran-order (column-major) data of `shape` into C order.
std::vector<std::byte> fortran_to_c_order(std::span<const std::byte> data, const std::vector<index_t>& shape,
                                          std::size_t item_size);

// bool elements other than 0/1 are "true" to NumPy and PyTorch but undefined behaviour as a C++
// bool, so readers normalise them.
void normalize_bools(std::span<std::byte> data);

// Quotes a name for messages: 'name'.
inline std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

// The n-byte (n <= 8) little-endian unsigned integer at `p`.
inline std::uint64_t load_le(const std::byte* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) {
        v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    }
    return v;
}

inline void store_le(std::vector<std::byte>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xffu));
    }
}

// npy parsing shared by the .npy and .npz readers: reads one .npy from `source`, which must hold
// exactly the header and the data. `context` prefixes messages ("member 'x.npy': ").
array_record read_npy_from(byte_source& source, const std::string& context);

} // namespace cinediff::io::detail
