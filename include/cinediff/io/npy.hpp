#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cinediff/io/array_record.hpp>

namespace cinediff::io {

// NumPy .npy, format versions 1.0, 2.0 and 3.0. Reading accepts dtypes f2/f4/f8, i1-i8, u1-u8 and
// b1 in either byte order and in C or Fortran order, and returns C-order little-endian data.
// Writing produces version 1.0 (2.0 when the header would not fit) byte-identical to np.save.

// The record is named after the file's stem ("x.npy" -> "x").
array_record read_npy(const std::filesystem::path& path);

// Writes atomically: a temporary file in the same folder, renamed over `path` once complete.
void write_npy(const std::filesystem::path& path, const array_record& record);

// In-memory variants. `source` only names the buffer in error messages.
array_record parse_npy(std::span<const std::byte> bytes, const std::string& source = "<memory>");
std::vector<std::byte> serialize_npy(const array_record& record, const std::string& destination = "<memory>");

// The NumPy descr for a dtype ("<f4", "|b1"), or nullopt where NumPy has none (bfloat16).
std::optional<std::string> npy_descr(dtype type);

} // namespace cinediff::io
