#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <random>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "detail.hpp"

namespace cinediff::io {

std::optional<index_t> checked_element_count(const std::vector<index_t>& shape) {
    if (std::any_of(shape.begin(), shape.end(), [](index_t e) { return e < 0; })) {
        return std::nullopt;
    }
    // A zero extent makes the product 0 however large the other extents are.
    if (std::find(shape.begin(), shape.end(), index_t{0}) != shape.end()) {
        return index_t{0};
    }
    index_t n = 1;
    for (index_t e : shape) {
        if (n > std::numeric_limits<index_t>::max() / e) {
            return std::nullopt;
        }
        n *= e;
    }
    return n;
}

std::optional<std::size_t> checked_byte_size(const std::vector<index_t>& shape, dtype type) {
    const auto n = checked_element_count(shape);
    if (!n) {
        return std::nullopt;
    }
    const auto count = static_cast<std::uint64_t>(*n);
    const std::uint64_t item = dtype_size(type);
    if (count > std::numeric_limits<std::uint64_t>::max() / item ||
        count * item > std::numeric_limits<std::size_t>::max()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(count * item);
}

void validate_record(const array_record& record, const std::string& path) {
    const auto bytes = checked_byte_size(record.shape, record.type);
    if (!bytes) {
        throw file_error(path, "array '" + record.name + "': shape " + shape_to_string(record.shape) +
                                   " has a negative extent or too many elements");
    }
    if (*bytes != record.bytes.size()) {
        throw file_error(path, "array '" + record.name + "': holds " + std::to_string(record.bytes.size()) +
                                   " bytes but shape " + shape_to_string(record.shape) + " of " +
                                   std::string(dtype_name(record.type)) + " needs " + std::to_string(*bytes));
    }
}

std::optional<dtype> dtype_from_name(std::string_view name) {
    for (dtype t : {dtype::f16, dtype::bf16, dtype::f32, dtype::f64, dtype::i8, dtype::i16, dtype::i32,
                    dtype::i64, dtype::u8, dtype::u16, dtype::u32, dtype::u64, dtype::b1}) {
        if (dtype_name(t) == name) {
            return t;
        }
    }
    return std::nullopt;
}

namespace detail {

void memory_source::read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) {
    if (offset > m_bytes.size() || out.size() > m_bytes.size() - offset) {
        fail("truncated: " + what + " needs " + std::to_string(out.size()) + " bytes at offset " +
             std::to_string(offset) + " but the data is " + std::to_string(m_bytes.size()) + " bytes");
    }
    std::copy_n(m_bytes.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
}

file_source::file_source(const std::filesystem::path& path) : m_name(path.string()) {
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        fail(std::string("cannot open: ") + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(m_fd, &st) != 0) {
        const int err = errno;
        ::close(m_fd);
        throw file_error(m_name, std::string("cannot stat: ") + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(m_fd);
        throw file_error(m_name, "not a regular file");
    }
    m_size = static_cast<std::uint64_t>(st.st_size);
}

file_source::~file_source() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void file_source::read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) {
    if (offset > m_size || out.size() > m_size - offset) {
        fail("truncated: " + what + " needs " + std::to_string(out.size()) + " bytes at offset " +
             std::to_string(offset) + " but the file is " + std::to_string(m_size) + " bytes");
    }
    std::size_t done = 0;
    while (done < out.size()) {
        const std::size_t chunk = std::min<std::size_t>(out.size() - done, std::size_t{1} << 30);
        const ssize_t got = ::pread(m_fd, out.data() + done, chunk, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fail("reading " + what + ": " + std::strerror(errno));
        }
        if (got == 0) {
            fail("truncated while reading " + what + " (the file shrank)");
        }
        done += static_cast<std::size_t>(got);
    }
}

void write_atomically(const std::filesystem::path& path, std::span<const std::span<const std::byte>> pieces) {
    const std::string name = path.string();
    const std::filesystem::path folder =
        path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const std::string base = path.filename().string();
    if (base.empty() || base == "." || base == "..") {
        throw file_error(name, "not a file name");
    }
    // O_EXCL with a fresh random suffix instead of mkstemp: mkstemp creates mode 0600, while the
    // result should get the usual 0666 & ~umask like any file the user writes.
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    std::filesystem::path tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        tmp = folder / ("." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                        "-" + std::to_string(entropy() & 0xffffffu));
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) {
            throw file_error(name, std::string("cannot create a temporary file in ") + folder.string() +
                                       ": " + std::strerror(errno));
        }
    }
    if (fd < 0) {
        throw file_error(name, "cannot create a temporary file in " + folder.string());
    }
    auto abandon = [&](const std::string& what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw file_error(name, what + ": " + std::strerror(err));
    };
    for (auto piece : pieces) {
        std::size_t done = 0;
        while (done < piece.size()) {
            const ssize_t put = ::write(fd, piece.data() + done, piece.size() - done);
            if (put < 0 && errno == EINTR) {
                continue;
            }
            if (put <= 0) {
                abandon("cannot write");
            }
            done += static_cast<std::size_t>(put);
        }
    }
    if (::fsync(fd) != 0) {
        abandon("cannot flush");
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw file_error(name, std::string("cannot close: ") + std::strerror(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw file_error(name,
                         std::string("cannot rename the temporary file into place: ") + std::strerror(err));
    }
}

void byte_swap(std::span<std::byte> data, std::size_t item_size) {
    if (item_size <= 1) {
        return;
    }
    for (std::size_t i = 0; i + item_size <= data.size(); i += item_size) {
        std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i),
                     data.begin() + static_cast<std::ptrdiff_t>(i + item_size));
    }
}

std::vector<std::byte> fortran_to_c_order(std::span<const std::byte> data, const std::vector<index_t>& shape,
                                          std::size_t item_size) {
    std::vector<std::byte> out(data.size());
    const std::size_t rank = shape.size();
    if (data.empty() || rank < 2) {
        std::copy(data.begin(), data.end(), out.begin());
        return out;
    }
    // Column-major strides (in elements) of the source; walk the destination in C order with an
    // odometer over the index and keep the source offset updated incrementally. NumPy arrays have
    // at most 64 dimensions (the npy reader enforces it), so fixed arrays suffice.
    constexpr std::size_t max_rank = 64;
    if (rank > max_rank) {
        throw std::length_error("fortran_to_c_order: rank " + std::to_string(rank) + " exceeds 64");
    }
    std::array<std::size_t, max_rank> fstride{};
    std::array<std::size_t, max_rank> extent{};
    std::size_t s = 1;
    for (std::size_t d = 0; d < rank; ++d) {
        extent[d] = static_cast<std::size_t>(shape[d]);
        fstride[d] = s;
        s *= extent[d];
    }
    std::array<std::size_t, max_rank> index{};
    std::size_t src = 0;
    const std::size_t count = data.size() / item_size;
    for (std::size_t dst = 0; dst < count; ++dst) {
        std::memcpy(out.data() + dst * item_size, data.data() + src * item_size, item_size);
        for (std::size_t d = rank; d-- > 0;) {
            if (++index[d] < extent[d]) {
                src += fstride[d];
                break;
            }
            src -= fstride[d] * (extent[d] - 1);
            index[d] = 0;
        }
    }
    return out;
}

void normalize_bools(std::span<std::byte> data) {
    for (std::byte& b : data) {
        b = b == std::byte{0} ? std::byte{0} : std::byte{1};
    }
}

} // namespace detail
} // namespace cinediff::io
