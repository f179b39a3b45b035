#pragma once

#include <initializer_list>
#include <vector>

#include <cinediff/tensor/assign.hpp>

namespace cinediff {

// An owning, contiguous, row-major tensor with a static rank and runtime extents.
//
// Value semantics: copying a Tensor copies its elements; moving it is free. Views (view(),
// permute(), narrow(), ...) share its memory and keep that memory alive. Assigning an expression
// evaluates it in one fused loop:
//
//     Tensor<float, 4> y = a * sigmoid(b) + 1.0f;
//
// Newly allocated tensors are zero-filled.
template <class T, std::size_t Rank>
class Tensor {
    static_assert(storage_type<T>, "cinediff::Tensor holds f16, bf16, f32, f64, integer or bool elements");

  public:
    using value_type = T;
    static constexpr std::size_t rank = Rank;

    Tensor() : Tensor(shape_t<Rank>{}) {}
    explicit Tensor(const shape_t<Rank>& shape) : m_shape(shape) {
        check_extents(shape, "Tensor");
        m_owner = allocate_storage<T>(numel(shape), m_data);
    }
    Tensor(const shape_t<Rank>& shape, T fill) : Tensor(shape) { std::fill_n(m_data, size(), fill); }
    // From values in row-major order; their count must match the shape.
    Tensor(const shape_t<Rank>& shape, std::initializer_list<T> values) : Tensor(shape) {
        if (static_cast<index_t>(values.size()) != size()) {
            throw shape_error("Tensor: " + std::to_string(values.size()) + " values given for shape " +
                              shape_to_string(shape));
        }
        std::copy(values.begin(), values.end(), m_data);
    }

    // Evaluates an expression (or copies a view) into new storage.
    template <class E>
    requires(expression<E> && !std::is_same_v<std::remove_cvref_t<E>, Tensor>)
        Tensor(const E& e) // NOLINT(google-explicit-constructor): `Tensor<float, 2> y = a + b;` is the DSL
        : Tensor(checked_shape(e)) {
        assign(view(), e);
    }

    Tensor(const Tensor& other) : Tensor(other.m_shape) { std::copy_n(other.m_data, size(), m_data); }
    Tensor(Tensor&& other) noexcept
        : m_data(std::exchange(other.m_data, nullptr)),
          m_shape(std::exchange(other.m_shape, shape_t<Rank>{})), m_owner(std::move(other.m_owner)) {}
    Tensor& operator=(const Tensor& other) {
        if (this != &other) {
            *this = Tensor(other);
        }
        return *this;
    }
    Tensor& operator=(Tensor&& other) noexcept {
        m_data = std::exchange(other.m_data, nullptr);
        m_shape = std::exchange(other.m_shape, shape_t<Rank>{});
        m_owner = std::move(other.m_owner);
        return *this;
    }
    ~Tensor() = default;

    // Assigning an expression of another shape gives the tensor that shape (like NumPy's rebinding);
    // use view() = ... (or assign(view(), e)) to write into existing storage with broadcasting.
    template <class E>
    requires(expression<E> && !std::is_same_v<std::remove_cvref_t<E>, Tensor>) Tensor& operator=(const E& e) {
        const auto shape = checked_shape(e);
        if (shape != m_shape) {
            *this = Tensor(e);
        } else {
            assign(view(), e);
        }
        return *this;
    }
    template <class S>
    requires arithmetic_scalar<S> Tensor& operator=(S value) {
        assign(view(), value);
        return *this;
    }

    template <class E>
    requires(expression<E> || arithmetic_scalar<E>) Tensor& operator+=(const E& e) {
        assign(view(), *this + e);
        return *this;
    }
    template <class E>
    requires(expression<E> || arithmetic_scalar<E>) Tensor& operator-=(const E& e) {
        assign(view(), *this - e);
        return *this;
    }
    template <class E>
    requires(expression<E> || arithmetic_scalar<E>) Tensor& operator*=(const E& e) {
        assign(view(), *this * e);
        return *this;
    }
    template <class E>
    requires(expression<E> || arithmetic_scalar<E>) Tensor& operator/=(const E& e) {
        assign(view(), *this / e);
        return *this;
    }

    T* data() { return m_data; }
    const T* data() const { return m_data; }
    const shape_t<Rank>& shape() const { return m_shape; }
    index_t shape(std::size_t axis) const { return m_shape[axis]; }
    shape_t<Rank> strides() const { return contiguous_strides(m_shape); }
    index_t size() const { return numel(m_shape); }
    bool empty() const { return size() == 0; }
    std::span<T> span() { return {m_data, static_cast<std::size_t>(size())}; }
    std::span<const T> span() const { return {m_data, static_cast<std::size_t>(size())}; }

    template <class... Idx>
    requires(sizeof...(Idx) == Rank && (std::is_integral_v<Idx> && ...)) T& operator()(Idx... idx) {
        return m_data[offset_of(idx...)];
    }
    template <class... Idx>
    requires(sizeof...(Idx) == Rank && (std::is_integral_v<Idx> && ...)) const T&
    operator()(Idx... idx) const {
        return m_data[offset_of(idx...)];
    }
    // Bounds-checked element access; throws shape_error naming the index and the shape.
    template <class... Idx>
    requires(sizeof...(Idx) == Rank && (std::is_integral_v<Idx> && ...)) T& at(Idx... idx) {
        const shape_t<Rank> i{static_cast<index_t>(idx)...};
        for (std::size_t d = 0; d < Rank; ++d) {
            if (i[d] < 0 || i[d] >= m_shape[d]) {
                throw shape_error("at: index " + shape_to_string(i) + " is out of range for shape " +
                                  shape_to_string(m_shape));
            }
        }
        return (*this)(idx...);
    }

    // Views of this tensor's memory (they share ownership of it).
    TensorView<T, Rank> view() & { return {m_data, m_shape, strides(), m_owner}; }
    TensorView<const T, Rank> view() const& { return {m_data, m_shape, strides(), m_owner}; }
    // A view of a temporary owns the memory, so `make_tensor().view()` is safe too.
    TensorView<T, Rank> view() && { return {m_data, m_shape, strides(), std::move(m_owner)}; }

    auto select(index_t axis, index_t index) & { return view().select(axis, index); }
    auto select(index_t axis, index_t index) const& { return view().select(axis, index); }
    auto narrow(index_t axis, index_t start, index_t length) & { return view().narrow(axis, start, length); }
    auto narrow(index_t axis, index_t start, index_t length) const& {
        return view().narrow(axis, start, length);
    }
    auto permute(const shape_t<Rank>& order) & { return view().permute(order); }
    auto permute(const shape_t<Rank>& order) const& { return view().permute(order); }
    auto transpose(index_t a, index_t b) & { return view().transpose(a, b); }
    auto transpose(index_t a, index_t b) const& { return view().transpose(a, b); }
    auto unsqueeze(index_t axis) & { return view().unsqueeze(axis); }
    auto unsqueeze(index_t axis) const& { return view().unsqueeze(axis); }
    auto squeeze(index_t axis) & { return view().squeeze(axis); }
    auto squeeze(index_t axis) const& { return view().squeeze(axis); }
    template <std::size_t NewRank>
    auto reshape(const shape_t<NewRank>& shape) & {
        return view().reshape(shape);
    }
    template <std::size_t NewRank>
    auto reshape(const shape_t<NewRank>& shape) const& {
        return view().reshape(shape);
    }
    template <std::size_t NewRank>
    auto broadcast_to(const shape_t<NewRank>& shape) const& {
        return view().broadcast_to(shape);
    }

  private:
    template <class E>
    static shape_t<Rank> checked_shape(const E& e) {
        using N = node_t<E>;
        static_assert(N::rank == Rank, "cinediff: the expression's rank differs from the Tensor's rank");
        return as_node(e).shape();
    }
    template <class... Idx>
    index_t offset_of(Idx... idx) const {
        const shape_t<Rank> i{static_cast<index_t>(idx)...};
        index_t offset = 0;
        for (std::size_t d = 0; d < Rank; ++d) {
            offset = offset * m_shape[d] + i[d];
        }
        return offset;
    }

    T* m_data = nullptr;
    shape_t<Rank> m_shape{};
    storage_owner m_owner;
};

template <class T, std::size_t R>
TensorView<const T, R> view_of(const Tensor<T, R>& t) {
    return t.view();
}

template <class T, std::size_t Rank>
Tensor<typename TensorView<T, Rank>::value_type, Rank> TensorView<T, Rank>::contiguous() const {
    return Tensor<value_type, Rank>(*this);
}

// Evaluates any expression into a new tensor (handy where `auto` would keep it lazy).
template <expression E>
auto eval(const E& e) {
    using N = node_t<E>;
    return Tensor<typename N::value_type, N::rank>(e);
}

// Writes into a view: `v.assign(expr)` is spelled assign(v, expr).
template <class T, std::size_t Rank>
Tensor<T, Rank> zeros(const shape_t<Rank>& shape) {
    return Tensor<T, Rank>(shape);
}
template <class T, std::size_t Rank>
Tensor<T, Rank> full(const shape_t<Rank>& shape, T value) {
    return Tensor<T, Rank>(shape, value);
}
// 0, 1, ..., n-1
template <class T>
Tensor<T, 1> arange(index_t n) {
    Tensor<T, 1> t(shape_t<1>{n});
    for (index_t i = 0; i < n; ++i) {
        t(i) = static_cast<T>(i);
    }
    return t;
}

} // namespace cinediff
