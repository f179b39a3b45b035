#include <algorithm>
#include <cctype>

#include <cinediff/io/npy.hpp>
#include <cinediff/io/npz.hpp>
#include <cinediff/io/safetensors.hpp>
#include <cinediff/io/tensor_file.hpp>

#include "detail.hpp"

namespace cinediff::io {

std::string_view format_name(tensor_format format) {
    switch (format) {
    case tensor_format::npy:
        return "npy";
    case tensor_format::npz:
        return "npz";
    case tensor_format::safetensors:
        return "safetensors";
    }
    return "?";
}

std::optional<tensor_format> format_from_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".npy") {
        return tensor_format::npy;
    }
    if (ext == ".npz") {
        return tensor_format::npz;
    }
    if (ext == ".safetensors") {
        return tensor_format::safetensors;
    }
    return std::nullopt;
}

tensor_format detect_format(const std::filesystem::path& path) {
    if (const auto format = format_from_extension(path)) {
        return *format;
    }
    detail::file_source source(path);
    std::byte head[9] = {};
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(source.size(), sizeof head));
    source.read(0, std::span(head, n), "the first bytes");
    const auto at = [&](std::size_t i) { return std::to_integer<unsigned char>(head[i]); };
    if (n >= 6 && at(0) == 0x93 && at(1) == 'N' && at(2) == 'U' && at(3) == 'M' && at(4) == 'P' &&
        at(5) == 'Y') {
        return tensor_format::npy;
    }
    if (n >= 4 && at(0) == 'P' && at(1) == 'K' && (at(2) == 3 || at(2) == 5)) {
        return tensor_format::npz;
    }
    if (n == 9 && at(8) == '{') {
        return tensor_format::safetensors;
    }
    throw file_error(path.string(), "unknown format: expected a .npy, .npz or .safetensors file");
}

tensor_file read_tensor_file(const std::filesystem::path& path) {
    tensor_file file;
    file.format = detect_format(path);
    switch (file.format) {
    case tensor_format::npy:
        file.records.push_back(read_npy(path));
        break;
    case tensor_format::npz:
        file.records = read_npz(path);
        break;
    case tensor_format::safetensors: {
        safetensors_file st = read_safetensors(path);
        file.records = std::move(st.records);
        file.metadata = std::move(st.metadata);
        break;
    }
    }
    return file;
}

void write_tensor_file(const std::filesystem::path& path, const tensor_file& file, bool compress_npz) {
    const auto format = format_from_extension(path);
    if (!format) {
        throw file_error(path.string(),
                         "unknown output format: the name must end in .npy, .npz or .safetensors");
    }
    if (*format != tensor_format::safetensors) {
        for (const array_record& record : file.records) {
            if (!npy_descr(record.type)) {
                throw file_error(path.string(), "tensor " + detail::quoted(record.name) + " has dtype " +
                                                    std::string(dtype_name(record.type)) +
                                                    ", which NumPy cannot store");
            }
        }
    }
    switch (*format) {
    case tensor_format::npy:
        if (file.records.size() != 1) {
            throw file_error(path.string(), ".npy holds exactly one array, but the input has " +
                                                std::to_string(file.records.size()));
        }
        write_npy(path, file.records.front());
        break;
    case tensor_format::npz:
        write_npz(path, file.records, compress_npz);
        break;
    case tensor_format::safetensors:
        write_safetensors(path, file.records, file.metadata);
        break;
    }
}

} // namespace cinediff::io
