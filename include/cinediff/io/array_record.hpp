#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cinediff/tensor/dtype.hpp>
#include <cinediff/tensor/shape.hpp>

namespace cinediff::io {

// A type-erased array as the file formats see it: a name, an element type, a shape and the raw
// bytes in C order and native (little-endian) byte order. Readers always produce this normal form,
// whatever order or endianness the file used, so callers never deal with strides or byte swaps.
struct array_record {
    std::string name;
    dtype type = dtype::f32;
    std::vector<index_t> shape;
    std::vector<std::byte> bytes;

    friend bool operator==(const array_record&, const array_record&) = default;
};

// Number of elements, or nullopt when a dimension is negative or the product overflows int64.
std::optional<index_t> checked_element_count(const std::vector<index_t>& shape);

// Byte size of shape x dtype, or nullopt on a negative extent or overflow.
std::optional<std::size_t> checked_byte_size(const std::vector<index_t>& shape, dtype type);

// Throws file_error(path, ...) unless the record's bytes match its shape and dtype exactly.
void validate_record(const array_record& record, const std::string& path);

// Parses a safetensors dtype name ("F32", "BOOL", ...); nullopt for names cinediff does not store.
std::optional<dtype> dtype_from_name(std::string_view name);

} // namespace cinediff::io
