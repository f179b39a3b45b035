#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <cinediff/io/array_record.hpp>

namespace cinediff::io {

// safetensors, as the reference (Rust) writer behind PyTorch's safetensors.torch.save_file and
// diffusers produces it: u64 little-endian header length N, N bytes of UTF-8 JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets"} plus an optional "__metadata__" string map,
// then the data buffer. Offsets are relative to the buffer and must tile it exactly.
struct safetensors_file {
    std::vector<array_record> records; // in data-offset order
    std::map<std::string, std::string> metadata;
};

// The reference reader's limit on the JSON header.
inline constexpr std::size_t safetensors_max_header_bytes = 100'000'000;

safetensors_file read_safetensors(const std::filesystem::path& path);

// Writes atomically, in the reference writer's layout: tensors sorted by dtype (widest first, in the
// reference's dtype order) then by name, "__metadata__" first, the header padded with spaces to a
// multiple of 8 bytes. Names must be unique, non-empty, valid UTF-8 and not "__metadata__".
void write_safetensors(const std::filesystem::path& path, const std::vector<array_record>& records,
                       const std::map<std::string, std::string>& metadata = {});

safetensors_file parse_safetensors(std::span<const std::byte> bytes, const std::string& source = "<memory>");
std::vector<std::byte> serialize_safetensors(const std::vector<array_record>& records,
                                             const std::map<std::string, std::string>& metadata = {},
                                             const std::string& destination = "<memory>");

} // namespace cinediff::io
