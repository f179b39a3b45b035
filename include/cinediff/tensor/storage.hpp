#pragma once

#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

#include <cinediff/tensor/shape.hpp>

namespace cinediff {

// Host memory is 64-byte aligned so that every row of a contiguous tensor starts on a cache line
// and vector loads of the first element are aligned.
inline constexpr std::size_t storage_alignment = 64;

// Shared ownership of one allocation. Views hold a copy of the owner, so a view, and every lazy
// expression built from views, keeps its memory alive: nothing dangles when kept in `auto`.
using storage_owner = std::shared_ptr<void>;

template <class T>
storage_owner allocate_storage(index_t count, T*& data_out) {
    static_assert(std::is_trivially_copyable_v<T>, "cinediff tensors hold trivially copyable elements");
    if (count < 0 || static_cast<std::size_t>(count) > std::numeric_limits<std::size_t>::max() / sizeof(T)) {
        throw shape_error("allocate_storage: element count " + std::to_string(count) + " is out of range");
    }
    const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
    if (bytes == 0) {
        data_out = nullptr;
        return nullptr;
    }
    void* p = ::operator new (bytes, std::align_val_t{storage_alignment});
    std::memset(p, 0, bytes);
    data_out = static_cast<T*>(p);
    return storage_owner(p, [](void* q) { ::operator delete (q, std::align_val_t{storage_alignment}); });
}

} // namespace cinediff
