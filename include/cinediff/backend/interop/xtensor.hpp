#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuffer_adaptor.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xtensor.hpp>

#include <cinediff/tensor/tensor.hpp>

// Interop with xtensor (host only), both ways, without a copy where the layouts allow it.
//
//     auto xa = to_xtensor(t.view());          // xt::xtensor_adaptor over t's memory: no copy
//     xt::xarray<float> copy = to_xarray(t);    // an independent row-major copy
//     Tensor<float, 3> u = from_xtensor<float, 3>(xa * 2.0f);   // any xexpression, copied
//     TensorView<float, 2> v = view_of_xarray<2>(arr);          // arr's memory: no copy
//     TensorView<float, 3> w = view_of_xtensor(xtens);          // rank from the type
//
// Memory and lifetime. to_xtensor's adaptor holds a copy of the view's storage_owner, so it keeps
// cinediff memory alive just as a view does. The views made by view_of_xarray / view_of_xtensor do
// not own anything: the xtensor container must outlive them and must not be resized meanwhile.
// Strides are in elements on both sides. xtensor wants stride 0 on extent-1 axes (it broadcasts
// with them), so to_xtensor writes 0 there; other strides are passed through unchanged, so
// transposed, narrowed and broadcast (stride 0) views adapt without a copy. (The adaptor's buffer
// reports size() == the number of elements, as xtensor requires of a container; xtensor reads
// it linearly only when the strides are contiguous.)
namespace cinediff {

namespace interop_detail {

template <class S>
std::string xshape_to_string(const S& shape) {
    std::string s = "(";
    for (std::size_t d = 0; d < shape.size(); ++d) {
        s += (d ? ", " : "") + std::to_string(shape[d]);
    }
    return s + ")";
}

// Is a container with these extents and strides laid out in row-major order (extent-1 axes, whose
// stride does not matter, ignored)?
template <class Shape, class Strides>
bool is_row_major(const Shape& shape, const Strides& strides) {
    std::ptrdiff_t expected = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
        if (shape[d] != 1 && static_cast<std::ptrdiff_t>(strides[d]) != expected) {
            return false;
        }
        expected *= static_cast<std::ptrdiff_t>(shape[d]);
    }
    return true;
}

template <std::size_t R, class T, class C>
TensorView<T, R> view_of_container(T* data, const C& c, const char* what) {
    if (c.dimension() != R) {
        throw shape_error(std::string(what) + ": the xtensor container has " + std::to_string(c.dimension()) +
                          " dimensions, the view is to have " + std::to_string(R));
    }
    if (!is_row_major(c.shape(), c.strides())) {
        throw shape_error(std::string(what) + ": the xtensor container of shape " +
                          xshape_to_string(c.shape()) + " is not row-major; copy it with from_xtensor");
    }
    shape_t<R> shape{};
    for (std::size_t d = 0; d < R; ++d) {
        shape[d] = static_cast<index_t>(c.shape()[d]);
    }
    return TensorView<T, R>(data, shape);
}

} // namespace interop_detail

// The adaptor type to_xtensor returns for a TensorView<T, R>: strided (layout dynamic), sharing
// ownership of the memory.
template <class T, std::size_t R>
using xtensor_view_t = xt::xtensor_adaptor<xt::xbuffer_adaptor<T*, xt::smart_ownership, storage_owner>, R,
                                           xt::layout_type::dynamic>;

// An xtensor expression over a view's memory, with its strides: no copy. Writable when T is.
template <class T, std::size_t R>
xtensor_view_t<T, R> to_xtensor(const TensorView<T, R>& v) {
    using adaptor = xtensor_view_t<T, R>;
    using buffer = xt::xbuffer_adaptor<T*, xt::smart_ownership, storage_owner>;
    typename adaptor::shape_type shape{};
    typename adaptor::strides_type strides{};
    for (std::size_t d = 0; d < R; ++d) {
        if (v.shape(d) < 0 || v.strides()[d] < 0) {
            throw shape_error("to_xtensor: negative extent or stride in a view of shape " +
                              shape_to_string(v.shape()));
        }
        shape[d] = static_cast<std::size_t>(v.shape(d));
        strides[d] = v.shape(d) == 1 ? 0 : static_cast<std::ptrdiff_t>(v.strides()[d]);
    }
    return adaptor(buffer(v.data(), static_cast<std::size_t>(v.size()), v.owner()), shape, strides);
}
template <class T, std::size_t R>
xtensor_view_t<T, R> to_xtensor(Tensor<T, R>& t) {
    return to_xtensor(t.view());
}
template <class T, std::size_t R>
xtensor_view_t<const T, R> to_xtensor(const Tensor<T, R>& t) {
    return to_xtensor(t.view());
}
// A temporary Tensor stays alive in the adaptor.
template <class T, std::size_t R>
xtensor_view_t<T, R> to_xtensor(Tensor<T, R>&& t) {
    return to_xtensor(std::move(t).view());
}

// A row-major xt::xarray copy of a view or tensor.
template <class T, std::size_t R>
xt::xarray<std::remove_const_t<T>> to_xarray(const TensorView<T, R>& v) {
    return xt::xarray<std::remove_const_t<T>>(to_xtensor(TensorView<const std::remove_const_t<T>, R>(v)));
}
template <class T, std::size_t R>
xt::xarray<T> to_xarray(const Tensor<T, R>& t) {
    return to_xarray(t.view());
}

// A Tensor<T, R> copy of any xtensor expression (a container, an adaptor, a lazy expression);
// throws shape_error when the expression's dimension is not R. Elements are converted with
// static_cast.
template <class T, std::size_t R, class E>
Tensor<T, R> from_xtensor(const xt::xexpression<E>& expr) {
    const E& e = expr.derived_cast();
    if (e.dimension() != R) {
        throw shape_error("from_xtensor: the expression has " + std::to_string(e.dimension()) +
                          " dimensions (shape " + interop_detail::xshape_to_string(e.shape()) +
                          "), the Tensor has rank " + std::to_string(R));
    }
    shape_t<R> shape{};
    std::array<std::size_t, R> xshape{};
    for (std::size_t d = 0; d < R; ++d) {
        shape[d] = static_cast<index_t>(e.shape()[d]);
        xshape[d] = e.shape()[d];
    }
    Tensor<T, R> t(shape);
    auto dst = xt::adapt(t.data(), static_cast<std::size_t>(t.size()), xt::no_ownership(), xshape);
    if constexpr (std::is_same_v<typename E::value_type, T>) {
        xt::noalias(dst) = e;
    } else {
        xt::noalias(dst) = xt::cast<T>(e);
    }
    return t;
}
// The same with the element type of the expression.
template <std::size_t R, class E>
Tensor<typename E::value_type, R> from_xtensor(const xt::xexpression<E>& expr) {
    return from_xtensor<typename E::value_type, R>(expr);
}

// A view of an xt::xarray's memory (no copy). The array must be row-major and have R dimensions
// (shape_error otherwise), and must outlive the view without being resized.
template <std::size_t R, class T, xt::layout_type L>
TensorView<T, R> view_of_xarray(xt::xarray<T, L>& a) {
    return interop_detail::view_of_container<R>(a.data(), a, "view_of_xarray");
}
template <std::size_t R, class T, xt::layout_type L>
TensorView<const T, R> view_of_xarray(const xt::xarray<T, L>& a) {
    return interop_detail::view_of_container<R>(a.data(), a, "view_of_xarray");
}
template <std::size_t R, class T, xt::layout_type L>
TensorView<T, R> view_of_xarray(xt::xarray<T, L>&&) = delete; // the view would dangle

// A view of an xt::xtensor's memory (no copy); the rank comes from the type.
template <class T, std::size_t N, xt::layout_type L>
TensorView<T, N> view_of_xtensor(xt::xtensor<T, N, L>& a) {
    return interop_detail::view_of_container<N>(a.data(), a, "view_of_xtensor");
}
template <class T, std::size_t N, xt::layout_type L>
TensorView<const T, N> view_of_xtensor(const xt::xtensor<T, N, L>& a) {
    return interop_detail::view_of_container<N>(a.data(), a, "view_of_xtensor");
}
template <class T, std::size_t N, xt::layout_type L>
TensorView<T, N> view_of_xtensor(xt::xtensor<T, N, L>&&) = delete; // the view would dangle

} // namespace cinediff
