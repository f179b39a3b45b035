#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include <cinediff/backend/gemm.hpp>
#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Dense products without a graph: the deterministic GEMM every nn kernel goes through, linear
// (torch.nn.functional.linear) and matmul/bmm with torch.matmul's batch broadcasting, each with a
// hand-written backward.
namespace cinediff::nn::kernels {

// Which gradients a backward pass computes (the others stay empty): inputs that do not require
// grad cost nothing.
struct grad_request {
    bool input = true;
    bool weight = true;
    bool bias = true;
};

namespace detail {

// Uninitialised scratch memory (std::vector would zero-fill buffers that are overwritten anyway).
template <class T>
std::unique_ptr<T[]> scratch(index_t n) {
    return std::unique_ptr<T[]>(new T[static_cast<std::size_t>(std::max<index_t>(n, 1))]);
}

} // namespace detail

// ---- linear ---------------------------------------------------------------------------------------

template <class T, std::size_t R>
struct linear_grads {
    std::optional<Tensor<T, R>> input;
    std::optional<Tensor<T, 2>> weight;
    std::optional<Tensor<T, 1>> bias;
};

namespace detail {

template <class T, std::size_t R>
void check_linear(const Tensor<T, R>& input, const Tensor<T, 2>& weight,
                  const std::type_identity_t<Tensor<T, 1>>* bias) {
    if (input.shape(R - 1) != weight.shape(1)) {
        throw shape_error("linear: weight of shape " + shape_to_string(weight.shape()) + " expects " +
                          std::to_string(weight.shape(1)) + " input features, input of shape " +
                          shape_to_string(input.shape()) + " has " + std::to_string(input.shape(R - 1)));
    }
    if (bias != nullptr && bias->shape(0) != weight.shape(0)) {
        throw shape_error("linear: bias of shape " + shape_to_string(bias->shape()) + " does not match the " +
                          std::to_string(weight.shape(0)) + " output features of weight " +
                          shape_to_string(weight.shape()));
    }
}

// The product of all but the last extent: the number of rows a linear layer transforms.
template <std::size_t R>
index_t leading_rows(const shape_t<R>& shape) {
    index_t rows = 1;
    for (std::size_t d = 0; d + 1 < R; ++d) {
        rows *= shape[d];
    }
    return rows;
}

// Column sums of a row-major (rows x cols) matrix, accumulated in double row after row.
template <class T>
Tensor<T, 1> column_sums(const T* g, index_t rows, index_t cols) {
    std::vector<double> acc(static_cast<std::size_t>(cols), 0.0);
    for (index_t r = 0; r < rows; ++r) {
        const T* row = g + r * cols;
        for (index_t j = 0; j < cols; ++j) {
            acc[static_cast<std::size_t>(j)] += static_cast<double>(row[j]);
        }
    }
    Tensor<T, 1> out(shape_t<1>{cols});
    for (index_t j = 0; j < cols; ++j) {
        out.data()[j] = static_cast<T>(acc[static_cast<std::size_t>(j)]);
    }
    return out;
}

} // namespace detail

// y = input · weightᵀ + bias over the last axis of input (..., in_features); weight is
// (out_features, in_features) as in torch. All leading axes are one GEMM's rows.
template <class T, std::size_t R>
Tensor<T, R> linear_forward(const Tensor<T, R>& input, const Tensor<T, 2>& weight,
                            const std::type_identity_t<Tensor<T, 1>>* bias) {
    static_assert(R >= 1, "linear: the input needs at least one axis");
    detail::check_linear(input, weight, bias);
    const index_t in = weight.shape(1), out_features = weight.shape(0);
    const index_t rows = detail::leading_rows(input.shape());
    shape_t<R> shape = input.shape();
    shape[R - 1] = out_features;
    Tensor<T, R> y(shape);
    backend::gemm(backend::transpose::no, backend::transpose::yes, rows, out_features, in, T(1), input.data(),
                  in, weight.data(), in, T(0), y.data(), out_features);
    if (bias != nullptr) {
        const T* b = bias->data();
        backend::parallel_for(rows, out_features, [&](index_t r) {
            T* row = y.data() + r * out_features;
            for (index_t j = 0; j < out_features; ++j) {
                row[j] += b[j];
            }
        });
    }
    return y;
}

// Gradients of linear for the output gradient `grad_output`: input = gy · W, weight = gyᵀ · x (the
// sum over rows is a GEMM's inner dimension, so it is deterministic), bias = column sums of gy.
template <class T, std::size_t R>
linear_grads<T, R> linear_backward(const Tensor<T, R>& input, const Tensor<T, 2>& weight,
                                   const Tensor<T, R>& grad_output, grad_request need = {}) {
    const index_t in = weight.shape(1), out_features = weight.shape(0);
    shape_t<R> expected = input.shape();
    expected[R - 1] = out_features;
    if (grad_output.shape() != expected) {
        throw shape_error("linear: grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " for an output of shape " + shape_to_string(expected));
    }
    const index_t rows = detail::leading_rows(input.shape());
    linear_grads<T, R> g;
    if (need.input) {
        g.input.emplace(input.shape());
        backend::gemm(backend::transpose::no, backend::transpose::no, rows, in, out_features, T(1),
                      grad_output.data(), out_features, weight.data(), in, T(0), g.input->data(), in);
    }
    if (need.weight) {
        g.weight.emplace(weight.shape());
        backend::gemm(backend::transpose::yes, backend::transpose::no, out_features, in, rows, T(1),
                      grad_output.data(), out_features, input.data(), in, T(0), g.weight->data(), in);
    }
    if (need.bias) {
        g.bias = detail::column_sums(grad_output.data(), rows, out_features);
    }
    return g;
}

// ---- matmul / bmm -------------------------------------------------------------------------------

// How torch.matmul pairs the matrices of two operands of rank >= 2: the leading (batch) axes
// broadcast, and output matrix i multiplies a's matrix a_index[i] by b's matrix b_index[i].
template <std::size_t RA, std::size_t RB>
struct matmul_plan {
    static constexpr std::size_t rank = RA > RB ? RA : RB;
    shape_t<rank> out_shape{};
    index_t m = 0, k = 0, n = 0;
    index_t a_matrices = 1, b_matrices = 1, out_matrices = 1;
    std::vector<index_t> a_index, b_index;
};

template <std::size_t RA, std::size_t RB>
matmul_plan<RA, RB> make_matmul_plan(const shape_t<RA>& a, const shape_t<RB>& b, const char* op = "matmul") {
    static_assert(RA >= 2 && RB >= 2, "matmul: both operands need at least two axes");
    constexpr std::size_t R = matmul_plan<RA, RB>::rank;
    matmul_plan<RA, RB> p;
    p.m = a[RA - 2];
    p.k = a[RA - 1];
    p.n = b[RB - 1];
    if (b[RB - 2] != p.k) {
        throw shape_error(std::string(op) + ": input of shape " + shape_to_string(a) +
                          " and other of shape " + shape_to_string(b) + " cannot be multiplied (" +
                          std::to_string(p.k) + " columns vs " + std::to_string(b[RB - 2]) + " rows)");
    }
    // Batch axes, right-aligned; ea/eb are each operand's extent (1 where it has no such axis).
    shape_t<R> ea{}, eb{};
    for (std::size_t d = 0; d + 2 < R; ++d) {
        const std::size_t from_end = R - d; // >= 3
        ea[d] = from_end <= RA ? a[RA - from_end] : 1;
        eb[d] = from_end <= RB ? b[RB - from_end] : 1;
        if (ea[d] != eb[d] && ea[d] != 1 && eb[d] != 1) {
            throw shape_error(std::string(op) + ": batch axes of input " + shape_to_string(a) +
                              " and other " + shape_to_string(b) + " do not broadcast");
        }
        p.out_shape[d] = ea[d] == 1 ? eb[d] : ea[d];
        p.a_matrices *= ea[d];
        p.b_matrices *= eb[d];
        p.out_matrices *= p.out_shape[d];
    }
    p.out_shape[R - 2] = p.m;
    p.out_shape[R - 1] = p.n;
    p.a_index.resize(static_cast<std::size_t>(p.out_matrices));
    p.b_index.resize(static_cast<std::size_t>(p.out_matrices));
    shape_t<R> idx{};
    for (index_t i = 0; i < p.out_matrices; ++i) {
        index_t ia = 0, ib = 0;
        for (std::size_t d = 0; d + 2 < R; ++d) {
            ia = ia * ea[d] + (ea[d] == 1 ? 0 : idx[d]);
            ib = ib * eb[d] + (eb[d] == 1 ? 0 : idx[d]);
        }
        p.a_index[static_cast<std::size_t>(i)] = ia;
        p.b_index[static_cast<std::size_t>(i)] = ib;
        for (std::size_t d = R - 2; d-- > 0;) {
            if (++idx[d] < p.out_shape[d]) {
                break;
            }
            idx[d] = 0;
        }
    }
    return p;
}

template <class T, std::size_t RA, std::size_t RB>
Tensor<T, matmul_plan<RA, RB>::rank> matmul_forward(const Tensor<T, RA>& a, const Tensor<T, RB>& b,
                                                    const char* op = "matmul") {
    const auto p = make_matmul_plan(a.shape(), b.shape(), op);
    Tensor<T, matmul_plan<RA, RB>::rank> y(p.out_shape);
    backend::parallel_for(p.out_matrices, p.m * p.n * p.k, [&](index_t i) {
        backend::gemm(backend::transpose::no, backend::transpose::no, p.m, p.n, p.k, T(1),
                      a.data() + p.a_index[static_cast<std::size_t>(i)] * p.m * p.k, p.k,
                      b.data() + p.b_index[static_cast<std::size_t>(i)] * p.k * p.n, p.n, T(0),
                      y.data() + i * p.m * p.n, p.n);
    });
    return y;
}

template <class T, std::size_t RA, std::size_t RB>
struct matmul_grads {
    std::optional<Tensor<T, RA>> input;
    std::optional<Tensor<T, RB>> other;
};

namespace detail {

// For each matrix of an operand, the output matrices it contributed to, in increasing order.
inline std::vector<std::vector<index_t>> group_by(const std::vector<index_t>& index, index_t count) {
    std::vector<std::vector<index_t>> groups(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < index.size(); ++i) {
        groups[static_cast<std::size_t>(index[i])].push_back(static_cast<index_t>(i));
    }
    return groups;
}

} // namespace detail

// Gradients of matmul: d input = gy · otherᵀ and d other = inputᵀ · gy, summed over the batch axes
// that broadcasting expanded. Each operand matrix adds its contributions in increasing output
// order (GEMMs with beta = 1), so the result does not depend on the thread count.
template <class T, std::size_t RA, std::size_t RB>
matmul_grads<T, RA, RB> matmul_backward(const Tensor<T, RA>& a, const Tensor<T, RB>& b,
                                        const Tensor<T, matmul_plan<RA, RB>::rank>& grad_output,
                                        bool need_input = true, bool need_other = true,
                                        const char* op = "matmul") {
    const auto p = make_matmul_plan(a.shape(), b.shape(), op);
    if (grad_output.shape() != p.out_shape) {
        throw shape_error(std::string(op) + ": grad_output of shape " + shape_to_string(grad_output.shape()) +
                          " for an output of shape " + shape_to_string(p.out_shape));
    }
    matmul_grads<T, RA, RB> g;
    const T* gy = grad_output.data();
    if (need_input) {
        g.input.emplace(a.shape());
        const auto groups = detail::group_by(p.a_index, p.a_matrices);
        T* ga = g.input->data();
        backend::parallel_for(
            p.a_matrices, p.m * p.n * p.k * (p.out_matrices / p.a_matrices), [&](index_t ia) {
                bool first = true;
                for (index_t i : groups[static_cast<std::size_t>(ia)]) {
                    backend::gemm(backend::transpose::no, backend::transpose::yes, p.m, p.k, p.n, T(1),
                                  gy + i * p.m * p.n, p.n,
                                  b.data() + p.b_index[static_cast<std::size_t>(i)] * p.k * p.n, p.n,
                                  first ? T(0) : T(1), ga + ia * p.m * p.k, p.k);
                    first = false;
                }
            });
    }
    if (need_other) {
        g.other.emplace(b.shape());
        const auto groups = detail::group_by(p.b_index, p.b_matrices);
        T* gb = g.other->data();
        backend::parallel_for(
            p.b_matrices, p.m * p.n * p.k * (p.out_matrices / p.b_matrices), [&](index_t ib) {
                bool first = true;
                for (index_t i : groups[static_cast<std::size_t>(ib)]) {
                    backend::gemm(backend::transpose::yes, backend::transpose::no, p.k, p.n, p.m, T(1),
                                  a.data() + p.a_index[static_cast<std::size_t>(i)] * p.m * p.k, p.k,
                                  gy + i * p.m * p.n, p.n, first ? T(0) : T(1), gb + ib * p.k * p.n, p.n);
                    first = false;
                }
            });
    }
    return g;
}

} // namespace cinediff::nn::kernels
