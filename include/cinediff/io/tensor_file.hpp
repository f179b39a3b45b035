#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cinediff/io/array_record.hpp>

namespace cinediff::io {

// Format-agnostic access for tools: the format is chosen by extension (.npy, .npz, .safetensors).
enum class tensor_format { npy, npz, safetensors };

std::string_view format_name(tensor_format format);

// nullopt for an unknown extension.
std::optional<tensor_format> format_from_extension(const std::filesystem::path& path);

// By extension, else by the file's first bytes; throws file_error when neither identifies it.
tensor_format detect_format(const std::filesystem::path& path);

struct tensor_file {
    tensor_format format = tensor_format::npy;
    std::vector<array_record> records;
    std::map<std::string, std::string> metadata; // safetensors only
};

tensor_file read_tensor_file(const std::filesystem::path& path);

// Writes in the format given by path's extension; .npy requires exactly one record, and .npy/.npz
// reject dtypes NumPy cannot hold (bfloat16). Metadata survives only into safetensors.
// compress_npz deflates .npz members (np.savez_compressed); otherwise they are stored (np.savez).
// Throws file_error (naming `path`) before anything is written.
void write_tensor_file(const std::filesystem::path& path, const tensor_file& file, bool compress_npz = false);

} // namespace cinediff::io
