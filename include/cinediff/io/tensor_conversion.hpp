#pragma once

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include <cinediff/io/array_record.hpp>
#include <cinediff/tensor/tensor.hpp>

namespace cinediff::io {

// Copies a record into a Tensor. The dtype and rank must match exactly: converting silently
// (f64 -> f32, say) would hide a mismatch between a checkpoint and the model reading it.
template <class T, std::size_t Rank>
Tensor<T, Rank> to_tensor(const array_record& record) {
    if (record.type != dtype_of_v<T>) {
        throw std::invalid_argument("to_tensor: array '" + record.name + "' has dtype " +
                                    std::string(dtype_name(record.type)) + ", expected " +
                                    std::string(dtype_name(dtype_of_v<T>)));
    }
    if (record.shape.size() != Rank) {
        throw shape_error("to_tensor: array '" + record.name + "' has shape " +
                          shape_to_string(record.shape) + " of rank " + std::to_string(record.shape.size()) +
                          ", expected rank " + std::to_string(Rank));
    }
    validate_record(record, "to_tensor");
    shape_t<Rank> shape{};
    for (std::size_t d = 0; d < Rank; ++d) {
        shape[d] = record.shape[d];
    }
    Tensor<T, Rank> tensor(shape);
    if (!record.bytes.empty()) {
        std::memcpy(static_cast<void*>(tensor.data()), record.bytes.data(), record.bytes.size());
    }
    return tensor;
}

// Copies a contiguous row-major Tensor into a record named `name`.
template <class T, std::size_t Rank>
array_record from_tensor(std::string name, const Tensor<T, Rank>& tensor) {
    array_record record;
    record.name = std::move(name);
    record.type = dtype_of_v<T>;
    record.shape.assign(tensor.shape().begin(), tensor.shape().end());
    record.bytes.resize(static_cast<std::size_t>(tensor.size()) * sizeof(T));
    if (!record.bytes.empty()) {
        std::memcpy(record.bytes.data(), static_cast<const void*>(tensor.data()), record.bytes.size());
    }
    return record;
}

} // namespace cinediff::io
