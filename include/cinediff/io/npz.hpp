#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <cinediff/io/array_record.hpp>

namespace cinediff::io {

// NumPy .npz: a zip archive of .npy members, as np.savez (stored) and np.savez_compressed
// (deflate) write it. Records are named after their members without the ".npy" suffix and come
// back in archive order. Every member must be a .npy file.
std::vector<array_record> read_npz(const std::filesystem::path& path);

// Writes atomically. Names must be unique and non-empty; each becomes member "<name>.npy".
void write_npz(const std::filesystem::path& path, const std::vector<array_record>& records,
               bool compressed = false);

std::vector<array_record> parse_npz(std::span<const std::byte> bytes, const std::string& source = "<memory>");
std::vector<std::byte> serialize_npz(const std::vector<array_record>& records, bool compressed = false,
                                     const std::string& destination = "<memory>");

} // namespace cinediff::io
