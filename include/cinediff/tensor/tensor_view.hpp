#pragma once

#include <algorithm>
#include <numeric>
#include <span>
#include <type_traits>
#include <utility>

#include <cinediff/tensor/storage.hpp>

namespace cinediff {

template <class T, std::size_t Rank>
class Tensor;

// A strided window onto tensor memory: pointer, extents and strides (in elements; a stride may
// be 0 for a broadcast axis). Views share ownership of the memory they look at, copy no
// elements, and are cheap to pass by value. `TensorView<const float, 3>` is read-only.
template <class T, std::size_t Rank>
class TensorView {
  public:
    using element_type = T;
    using value_type = std::remove_const_t<T>;
    static constexpr std::size_t rank = Rank;

    TensorView() = default;
    TensorView(T* data, const shape_t<Rank>& shape, const shape_t<Rank>& strides,
               storage_owner owner = nullptr)
        : m_data(data), m_shape(shape), m_strides(strides), m_owner(std::move(owner)) {}
    // A contiguous row-major window onto memory the caller keeps alive (interop with raw buffers).
    TensorView(T* data, const shape_t<Rank>& shape) : TensorView(data, shape, contiguous_strides(shape)) {}

    // Mutable views convert to read-only ones.
    template <class U>
    requires(std::is_const_v<T>&& std::is_same_v<std::remove_const_t<T>, U>)
        TensorView(const TensorView<U, Rank>& other) // NOLINT(google-explicit-constructor)
        : m_data(other.data()), m_shape(other.shape()), m_strides(other.strides()), m_owner(other.owner()) {}

    T* data() const { return m_data; }
    const shape_t<Rank>& shape() const { return m_shape; }
    index_t shape(std::size_t axis) const { return m_shape[axis]; }
    const shape_t<Rank>& strides() const { return m_strides; }
    index_t size() const { return numel(m_shape); }
    const storage_owner& owner() const { return m_owner; }

    bool is_contiguous() const {
        index_t expected = 1;
        for (std::size_t d = Rank; d-- > 0;) {
            if (m_shape[d] != 1 && m_strides[d] != expected) {
                return false;
            }
            expected *= m_shape[d];
        }
        return true;
    }

    template <class... Idx>
    requires(sizeof...(Idx) == Rank && (std::is_integral_v<Idx> && ...)) T& operator()(Idx... idx) const {
        const shape_t<Rank> i{static_cast<index_t>(idx)...};
        index_t offset = 0;
        for (std::size_t d = 0; d < Rank; ++d) {
            offset += i[d] * m_strides[d];
        }
        return m_data[offset];
    }

    // ---- views: none of these copies an element ----------------------------------------------

    // Fixes `axis` at `index` and drops it (PyTorch's select / NumPy's x[:, i]).
    TensorView<T, Rank - 1> select(index_t axis, index_t index) const requires(Rank > 0) {
        const std::size_t a = normalize_axis(axis, Rank, "select");
        if (index < -m_shape[a] || index >= m_shape[a]) {
            throw shape_error("select: index " + std::to_string(index) + " is out of range for axis " +
                              std::to_string(a) + " of extent " + std::to_string(m_shape[a]));
        }
        if (index < 0) {
            index += m_shape[a];
        }
        shape_t<Rank - 1> shape{}, strides{};
        for (std::size_t d = 0, k = 0; d < Rank; ++d) {
            if (d != a) {
                shape[k] = m_shape[d];
                strides[k++] = m_strides[d];
            }
        }
        return {m_data + index * m_strides[a], shape, strides, m_owner};
    }

    // Keeps `length` entries of `axis` starting at `start` (PyTorch's narrow).
    TensorView narrow(index_t axis, index_t start, index_t length) const {
        const std::size_t a = normalize_axis(axis, Rank, "narrow");
        if (start < 0) {
            start += m_shape[a];
        }
        if (start < 0 || length < 0 || start + length > m_shape[a]) {
            throw shape_error("narrow: start " + std::to_string(start) + " and length " +
                              std::to_string(length) + " do not fit axis " + std::to_string(a) +
                              " of extent " + std::to_string(m_shape[a]));
        }
        TensorView r = *this;
        r.m_data = m_data + start * m_strides[a];
        r.m_shape[a] = length;
        return r;
    }

    // Reorders axes: result axis i is this view's axis order[i].
    TensorView permute(const shape_t<Rank>& order) const {
        std::array<bool, Rank> seen{};
        TensorView r = *this;
        for (std::size_t i = 0; i < Rank; ++i) {
            const std::size_t a = normalize_axis(order[i], Rank, "permute");
            if (seen[a]) {
                throw shape_error("permute: axis " + std::to_string(a) + " appears twice in " +
                                  shape_to_string(order));
            }
            seen[a] = true;
            r.m_shape[i] = m_shape[a];
            r.m_strides[i] = m_strides[a];
        }
        return r;
    }

    TensorView transpose(index_t axis0, index_t axis1) const {
        const std::size_t a = normalize_axis(axis0, Rank, "transpose");
        const std::size_t b = normalize_axis(axis1, Rank, "transpose");
        TensorView r = *this;
        std::swap(r.m_shape[a], r.m_shape[b]);
        std::swap(r.m_strides[a], r.m_strides[b]);
        return r;
    }

    // Inserts an axis of extent 1 before `axis` (axis == Rank appends).
    TensorView<T, Rank + 1> unsqueeze(index_t axis) const {
        const std::size_t a = normalize_axis(axis, Rank + 1, "unsqueeze");
        shape_t<Rank + 1> shape{}, strides{};
        for (std::size_t d = 0, k = 0; d <= Rank; ++d) {
            if (d == a) {
                shape[d] = 1;
                strides[d] = (a < Rank) ? m_strides[a] * m_shape[a] : 1;
            } else {
                shape[d] = m_shape[k];
                strides[d] = m_strides[k++];
            }
        }
        return {m_data, shape, strides, m_owner};
    }

    // Removes `axis`, which must have extent 1.
    TensorView<T, Rank - 1> squeeze(index_t axis) const requires(Rank > 0) {
        const std::size_t a = normalize_axis(axis, Rank, "squeeze");
        if (m_shape[a] != 1) {
            throw shape_error("squeeze: axis " + std::to_string(a) + " has extent " +
                              std::to_string(m_shape[a]) + ", not 1, in shape " + shape_to_string(m_shape));
        }
        return select(static_cast<index_t>(a), 0);
    }

    // NumPy broadcasting to a shape of equal or higher rank: new leading axes and extent-1 axes get
    // stride 0.
    template <std::size_t NewRank>
    TensorView<T, NewRank> broadcast_to(const shape_t<NewRank>& shape) const {
        static_assert(NewRank >= Rank,
                      "broadcast_to: the target rank must not be lower than the view's rank");
        shape_t<NewRank> strides{};
        for (std::size_t d = 0; d < NewRank; ++d) {
            if (d < NewRank - Rank) {
                strides[d] = 0;
                continue;
            }
            const std::size_t s = d - (NewRank - Rank);
            if (m_shape[s] == shape[d]) {
                strides[d] = m_strides[s];
            } else if (m_shape[s] == 1) {
                strides[d] = 0;
            } else {
                throw shape_error("broadcast_to: cannot broadcast shape " + shape_to_string(m_shape) +
                                  " to " + shape_to_string(shape));
            }
        }
        return {m_data, shape, strides, m_owner};
    }

    // A view with another shape over the same elements in row-major order. One extent may be -1.
    // Works without copying whenever the strides allow it (the rule of PyTorch's view());
    // otherwise throws and asks for an explicit contiguous().
    template <std::size_t NewRank>
    TensorView<T, NewRank> reshape(shape_t<NewRank> shape) const {
        infer_extent(shape);
        shape_t<NewRank> strides{};
        if (!compute_reshape_strides(shape, strides)) {
            throw shape_error("reshape: a view of shape " + shape_to_string(m_shape) + " with strides " +
                              shape_to_string(m_strides) + " cannot be reshaped to " +
                              shape_to_string(shape) + " without a copy; call contiguous() first");
        }
        return {m_data, shape, strides, m_owner};
    }

    // A flat span of the elements; only for contiguous views.
    std::span<T> span() const {
        if (!is_contiguous()) {
            throw shape_error("span: the view of shape " + shape_to_string(m_shape) + " is not contiguous");
        }
        return {m_data, static_cast<std::size_t>(size())};
    }

    // An owning, contiguous copy (defined in tensor.hpp).
    Tensor<value_type, Rank> contiguous() const;

  private:
    template <std::size_t NewRank>
    void infer_extent(shape_t<NewRank>& shape) const {
        index_t known = 1;
        int inferred = -1;
        for (std::size_t d = 0; d < NewRank; ++d) {
            if (shape[d] == -1 && inferred < 0) {
                inferred = static_cast<int>(d);
            } else if (shape[d] < 0) {
                throw shape_error("reshape: invalid extent in " + shape_to_string(shape));
            } else {
                known *= shape[d];
            }
        }
        if (inferred >= 0) {
            if (known == 0 || size() % known != 0) {
                throw shape_error("reshape: cannot infer -1 in " + shape_to_string(shape) + " for " +
                                  std::to_string(size()) + " elements");
            }
            shape[static_cast<std::size_t>(inferred)] = size() / known;
        }
        if (numel(shape) != size()) {
            throw shape_error("reshape: shape " + shape_to_string(shape) + " has " +
                              std::to_string(numel(shape)) + " elements, the view " +
                              shape_to_string(m_shape) + " has " + std::to_string(size()));
        }
    }

    // Walks old and new extents from the back in chunks of equal element count; each chunk of old
    // axes must be mutually contiguous, and then the new axes of the chunk get strides within it.
    template <std::size_t NewRank>
    bool compute_reshape_strides(const shape_t<NewRank>& shape, shape_t<NewRank>& strides) const {
        if (size() == 0) {
            strides = contiguous_strides(shape);
            return true;
        }
        std::ptrdiff_t view_d = static_cast<std::ptrdiff_t>(NewRank) - 1;
        index_t chunk_base_stride = Rank > 0 ? m_strides[Rank - 1] : 1;
        index_t tensor_numel = 1;
        index_t view_numel = 1;
        for (std::ptrdiff_t tensor_d = static_cast<std::ptrdiff_t>(Rank) - 1; tensor_d >= 0; --tensor_d) {
            const auto td = static_cast<std::size_t>(tensor_d);
            tensor_numel *= m_shape[td];
            const bool chunk_ends = tensor_d == 0 || (m_shape[td - 1] != 1 &&
                                                      m_strides[td - 1] != tensor_numel * chunk_base_stride);
            if (chunk_ends) {
                while (view_d >= 0 &&
                       (view_numel < tensor_numel || shape[static_cast<std::size_t>(view_d)] == 1)) {
                    strides[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
                    view_numel *= shape[static_cast<std::size_t>(view_d)];
                    --view_d;
                }
                if (view_numel != tensor_numel) {
                    return false;
                }
                if (tensor_d > 0) {
                    chunk_base_stride = m_strides[td - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        for (; view_d >= 0; --view_d) { // trailing extent-1 axes
            strides[static_cast<std::size_t>(view_d)] = 1;
        }
        return true;
    }

    T* m_data = nullptr;
    shape_t<Rank> m_shape{};
    shape_t<Rank> m_strides{};
    storage_owner m_owner;
};

} // namespace cinediff
