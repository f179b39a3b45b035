#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cinediff {

// Extents and strides are signed 64-bit, like PyTorch's, so index arithmetic never wraps silently.
using index_t = std::int64_t;

template <std::size_t Rank>
using shape_t = std::array<index_t, Rank>;

template <std::size_t Rank>
constexpr index_t numel(const shape_t<Rank>& shape) {
    index_t n = 1;
    for (index_t e : shape) {
        n *= e;
    }
    return n;
}

// Row-major (C order) strides of a contiguous tensor, in elements.
template <std::size_t Rank>
constexpr shape_t<Rank> contiguous_strides(const shape_t<Rank>& shape) {
    shape_t<Rank> strides{};
    index_t s = 1;
    for (std::size_t d = Rank; d-- > 0;) {
        strides[d] = s;
        s *= shape[d];
    }
    return strides;
}

template <class Range>
std::string shape_to_string(const Range& shape) {
    std::ostringstream os;
    os << '(';
    bool first = true;
    for (auto e : shape) {
        os << (first ? "" : ", ") << e;
        first = false;
    }
    os << ')';
    return os.str();
}

// Thrown for every shape, rank, axis or extent a caller gets wrong; the message names the values.
class shape_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

template <std::size_t Rank>
void check_extents(const shape_t<Rank>& shape, const char* what) {
    for (index_t e : shape) {
        if (e < 0) {
            throw shape_error(std::string(what) + ": negative extent in shape " + shape_to_string(shape));
        }
    }
}

// Resolves a possibly negative axis (-1 = last) and checks it, as PyTorch does.
inline std::size_t normalize_axis(index_t axis, std::size_t rank, const char* what) {
    const auto r = static_cast<index_t>(rank);
    if (axis < -r || axis >= r) {
        throw shape_error(std::string(what) + ": axis " + std::to_string(axis) +
                          " is out of range for rank " + std::to_string(rank));
    }
    return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

} // namespace cinediff
