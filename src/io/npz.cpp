#include <cstring>
#include <memory>
#include <set>

#include <zip.h>

#include <cinediff/io/npy.hpp>
#include <cinediff/io/npz.hpp>

#include "detail.hpp"

namespace cinediff::io {
namespace {

// Deflate cannot expand data by more than about 1032:1, so a member declaring more than this is a
// corrupt directory or a zip bomb; rejecting it bounds what a small file can make us allocate.
constexpr std::uint64_t max_deflate_ratio = 1032;
constexpr std::uint64_t end_of_central_directory_size = 22;

struct zip_closer {
    void operator()(zip_t* z) const { zip_discard(z); }
};
using zip_ptr = std::unique_ptr<zip_t, zip_closer>;

struct zip_file_closer {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string zip_message(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    return message;
}

std::string zip_message(zip_error_t* error) {
    return zip_error_strerror(error);
}

// A member read front to back through libzip (which decompresses and checks the CRC); the npy
// reader only ever reads forward, which is all a compressed stream allows.
class member_source final : public detail::byte_source {
  public:
    member_source(zip_file_t* file, std::uint64_t size, std::string archive)
        : m_file(file), m_size(size), m_name(std::move(archive)) {}
    std::uint64_t size() const override { return m_size; }
    const std::string& name() const override { return m_name; }
    void read(std::uint64_t offset, std::span<std::byte> out, const std::string& what) override {
        if (offset != m_position || offset > m_size || out.size() > m_size - offset) {
            fail("truncated: " + what + " needs " + std::to_string(out.size()) + " bytes at offset " +
                 std::to_string(offset) + " of a " + std::to_string(m_size) + "-byte member");
        }
        std::size_t done = 0;
        while (done < out.size()) {
            const zip_int64_t got = zip_fread(m_file, out.data() + done, out.size() - done);
            if (got < 0) {
                fail("reading " + what + ": " + zip_message(zip_file_get_error(m_file)));
            }
            if (got == 0) {
                fail("truncated: " + what + " ends after " + std::to_string(m_position + done) +
                     " bytes of a member declared as " + std::to_string(m_size));
            }
            done += static_cast<std::size_t>(got);
        }
        m_position += out.size();
    }
    // Reading past the end makes libzip compare the CRC and report a short or corrupt stream.
    void check_end(const std::string& member) {
        std::byte extra[1];
        const zip_int64_t got = zip_fread(m_file, extra, 1);
        if (got < 0) {
            fail("member " + detail::quoted(member) + ": " + zip_message(zip_file_get_error(m_file)));
        }
        if (got > 0) {
            fail("member " + detail::quoted(member) + ": holds more bytes than its declared size " +
                 std::to_string(m_size));
        }
    }

  private:
    zip_file_t* m_file;
    std::uint64_t m_size;
    std::uint64_t m_position = 0;
    std::string m_name;
};

std::vector<array_record> read_archive(zip_t* archive, const std::string& name, std::uint64_t archive_size) {
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    std::vector<array_record> records;
    std::set<std::string> seen;
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0) {
            throw file_error(name, "member " + std::to_string(i) + ": " + zip_strerror(archive));
        }
        const std::string member = (st.valid & ZIP_STAT_NAME) ? st.name : "";
        const std::string context = "member " + detail::quoted(member) + ": ";
        if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
            !(st.valid & ZIP_STAT_COMP_METHOD)) {
            throw file_error(name, context + "incomplete zip directory entry");
        }
        if (member.size() < 5 || member.substr(member.size() - 4) != ".npy") {
            throw file_error(name, context + "not a .npy member; an .npz holds only .npy files");
        }
        if (!seen.insert(member).second) {
            throw file_error(name, context + "appears twice");
        }
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
            throw file_error(name, context + "is encrypted");
        }
        if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
            throw file_error(name, context + "compression method " + std::to_string(st.comp_method) +
                                       " is neither stored (0) nor deflate (8)");
        }
        if (st.comp_size > archive_size) {
            throw file_error(name, context + "compressed size " + std::to_string(st.comp_size) +
                                       " exceeds the archive size " + std::to_string(archive_size));
        }
        const std::uint64_t limit =
            st.comp_method == ZIP_CM_STORE ? st.comp_size : st.comp_size * max_deflate_ratio + 1024;
        if (st.size > limit) {
            throw file_error(name, context + "declared size " + std::to_string(st.size) +
                                       " is impossible for its compressed size " +
                                       std::to_string(st.comp_size));
        }
        std::unique_ptr<zip_file_t, zip_file_closer> file(
            zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0));
        if (!file) {
            throw file_error(name, context + zip_strerror(archive));
        }
        member_source source(file.get(), st.size, name);
        array_record record = detail::read_npy_from(source, context);
        source.check_end(member);
        record.name = member.substr(0, member.size() - 4);
        records.push_back(std::move(record));
    }
    return records;
}

bool starts_like_zip(std::span<const std::byte> head) {
    return head.size() >= 4 && head[0] == std::byte{'P'} && head[1] == std::byte{'K'} &&
           head[2] == std::byte{3} && head[3] == std::byte{4};
}

void check_archive_size(std::uint64_t size, const std::string& name) {
    if (size < end_of_central_directory_size) {
        throw file_error(name, "truncated: " + std::to_string(size) +
                                   " bytes is too short for a zip archive (.npz)");
    }
}

// `looks_like_zip`: the first bytes are a local file header, so a missing directory means the
// archive was cut short rather than not being one.
[[noreturn]] void throw_open_error(const std::string& name, int code, const std::string& message,
                                   bool looks_like_zip) {
    if (code == ZIP_ER_NOZIP && looks_like_zip) {
        throw file_error(name, "truncated or corrupt zip archive (.npz): its central directory is missing");
    }
    if (code == ZIP_ER_NOZIP) {
        throw file_error(name, "bad magic: not a zip archive (.npz)");
    }
    throw file_error(name, "corrupt zip archive: " + message);
}

} // namespace

std::vector<array_record> read_npz(const std::filesystem::path& path) {
    const std::string name = path.string();
    detail::file_source file(path); // also rejects missing files and folders
    const std::uint64_t size = file.size();
    check_archive_size(size, name);
    std::byte head[4];
    file.read(0, head, "the zip signature");
    int code = 0;
    zip_ptr archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!archive) {
        throw_open_error(name, code, zip_message(code), starts_like_zip(head));
    }
    return read_archive(archive.get(), name, size);
}

std::vector<array_record> parse_npz(std::span<const std::byte> bytes, const std::string& source) {
    check_archive_size(bytes.size(), source);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* buffer = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!buffer) {
        const std::string message = zip_message(&error);
        zip_error_fini(&error);
        throw file_error(source, message);
    }
    zip_ptr archive(zip_open_from_source(buffer, ZIP_RDONLY | ZIP_CHECKCONS, &error));
    if (!archive) {
        zip_source_free(buffer);
        const int code = zip_error_code_zip(&error);
        const std::string message = zip_message(&error);
        zip_error_fini(&error);
        throw_open_error(source, code, message, starts_like_zip(bytes.first(4)));
    }
    zip_error_fini(&error);
    return read_archive(archive.get(), source, bytes.size());
}

std::vector<std::byte> serialize_npz(const std::vector<array_record>& records, bool compressed,
                                     const std::string& destination) {
    std::set<std::string> names;
    std::vector<std::vector<std::byte>> members; // must outlive zip_close, which reads them
    members.reserve(records.size());
    for (const array_record& record : records) {
        if (record.name.empty()) {
            throw file_error(destination, "an array has an empty name");
        }
        if (!names.insert(record.name).second) {
            throw file_error(destination, "array name " + detail::quoted(record.name) + " appears twice");
        }
        members.push_back(serialize_npy(record, destination));
    }
    if (records.empty()) {
        // libzip deletes an archive without entries; np.savez() writes the bare end record.
        std::vector<std::byte> empty(end_of_central_directory_size, std::byte{0});
        const unsigned char signature[] = {'P', 'K', 5, 6};
        std::memcpy(empty.data(), signature, sizeof signature);
        return empty;
    }

    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
    if (!buffer) {
        throw file_error(destination, zip_message(&error));
    }
    std::unique_ptr<zip_source_t, decltype(&zip_source_free)> buffer_owner(buffer, &zip_source_free);
    zip_ptr archive(zip_open_from_source(buffer, ZIP_TRUNCATE, &error));
    if (!archive) {
        const std::string message = zip_message(&error);
        zip_error_fini(&error);
        throw file_error(destination, message);
    }
    zip_error_fini(&error);
    zip_source_keep(buffer); // the archive now shares it; our reference reads the bytes after zip_close
    auto fail = [&](const std::string& what) {
        throw file_error(destination, what + ": " + zip_strerror(archive.get()));
    };

    for (std::size_t i = 0; i < records.size(); ++i) {
        const std::string member = records[i].name + ".npy";
        zip_source_t* data = zip_source_buffer(archive.get(), members[i].data(), members[i].size(), 0);
        if (!data) {
            fail("member " + detail::quoted(member));
        }
        const zip_int64_t index = zip_file_add(archive.get(), member.c_str(), data, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(data);
            fail("member " + detail::quoted(member));
        }
        const auto at = static_cast<zip_uint64_t>(index);
        if (zip_set_file_compression(archive.get(), at, compressed ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0) {
            fail("member " + detail::quoted(member));
        }
        // A fixed timestamp makes the output depend on the arrays only (reproducible builds, cmp).
        if (zip_file_set_mtime(archive.get(), at, 946684800, 0) != 0) {
            fail("member " + detail::quoted(member));
        }
    }
    if (zip_close(archive.get()) != 0) {
        fail("cannot assemble the archive");
    }
    (void)archive.release(); // zip_close freed it

    if (zip_source_open(buffer) != 0 || zip_source_seek(buffer, 0, SEEK_END) != 0) {
        throw file_error(destination, "cannot read the assembled archive back");
    }
    const zip_int64_t size = zip_source_tell(buffer);
    std::vector<std::byte> out(static_cast<std::size_t>(size < 0 ? 0 : size));
    if (size < 0 || zip_source_seek(buffer, 0, SEEK_SET) != 0 ||
        zip_source_read(buffer, out.data(), out.size()) != size) {
        zip_source_close(buffer);
        throw file_error(destination, "cannot read the assembled archive back");
    }
    zip_source_close(buffer);
    return out;
}

void write_npz(const std::filesystem::path& path, const std::vector<array_record>& records, bool compressed) {
    const std::vector<std::byte> bytes = serialize_npz(records, compressed, path.string());
    const std::span<const std::byte> pieces[] = {bytes};
    detail::write_atomically(path, pieces);
}

} // namespace cinediff::io
