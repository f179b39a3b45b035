#pragma once

#include <string>
#include <vector>

#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/tensor.hpp>

// Padding kernels of torch.nn.functional.pad: constant, reflect, replicate and circular, with
// torch's pad-list order (last dimension first: left, right, top, bottom, front, back). Negative
// pads crop.
//
// Every output element reads one input element (or the constant): each dimension gets a table
// from output index to source index (-1 for the constant). The forward pass runs in parallel over
// output elements; the backward pass scatters sequentially within each slice of the leading
// unpadded dimensions and in parallel over those slices, so it is deterministic.
namespace cinediff::nn::kernels {

enum class pad_mode { constant, reflect, replicate, circular };

inline pad_mode parse_pad_mode(const std::string& mode) {
    if (mode == "constant") {
        return pad_mode::constant;
    }
    if (mode == "reflect") {
        return pad_mode::reflect;
    }
    if (mode == "replicate") {
        return pad_mode::replicate;
    }
    if (mode == "circular") {
        return pad_mode::circular;
    }
    throw std::invalid_argument("pad: mode '" + mode +
                                "' is not supported (supported: constant, reflect, replicate, circular)");
}

inline const char* pad_mode_name(pad_mode m) {
    switch (m) {
    case pad_mode::constant:
        return "constant";
    case pad_mode::reflect:
        return "reflect";
    case pad_mode::replicate:
        return "replicate";
    default:
        return "circular";
    }
}

// The source-index tables of a padding, checked.
template <std::size_t R>
struct pad_plan {
    shape_t<R> out_shape{};
    std::array<std::vector<index_t>, R> source; // per dimension: output index -> input index or -1
    std::size_t padded_dims = 0;                // the last `padded_dims` dimensions are padded
};

template <std::size_t R>
pad_plan<R> make_pad_plan(const shape_t<R>& shape, const std::vector<index_t>& pad, pad_mode mode) {
    pad_plan<R> plan;
    if (pad.size() % 2 != 0) {
        throw shape_error("pad: the pad list " + shape_to_string(pad) + " must have an even length");
    }
    const std::size_t p = pad.size() / 2;
    if (p > R) {
        throw shape_error("pad: the pad list " + shape_to_string(pad) + " pads " + std::to_string(p) +
                          " dimensions of an input of shape " + shape_to_string(shape));
    }
    if (mode != pad_mode::constant && !(p >= 1 && p <= 3 && (R == p + 1 || R == p + 2))) {
        throw shape_error(std::string("pad: ") + pad_mode_name(mode) + " padding of " + std::to_string(p) +
                          " dimensions needs a " + std::to_string(p + 1) + "D or " + std::to_string(p + 2) +
                          "D input, got shape " + shape_to_string(shape));
    }
    plan.padded_dims = p;
    plan.out_shape = shape;
    for (std::size_t j = 0; j < p; ++j) {
        const std::size_t d = R - 1 - j;
        const index_t left = pad[2 * j], right = pad[2 * j + 1], n = shape[d];
        const index_t out = n + left + right;
        if (out < 0 || (mode != pad_mode::constant && out <= 0)) {
            throw shape_error("pad: input of shape " + shape_to_string(shape) + " with padding (" +
                              std::to_string(left) + ", " + std::to_string(right) + ") at dimension " +
                              std::to_string(d) + " gives a non-positive output size " + std::to_string(out));
        }
        if (mode == pad_mode::reflect && (left >= n || right >= n)) {
            throw shape_error("pad: reflect padding (" + std::to_string(left) + ", " + std::to_string(right) +
                              ") at dimension " + std::to_string(d) + " of input " + shape_to_string(shape) +
                              ": padding size should be less than the corresponding input dimension");
        }
        if (mode == pad_mode::circular && (left > n || right > n)) {
            throw shape_error("pad: circular padding (" + std::to_string(left) + ", " +
                              std::to_string(right) + ") at dimension " + std::to_string(d) + " of input " +
                              shape_to_string(shape) +
                              ": padding must not be larger than the corresponding input dimension");
        }
        if (mode != pad_mode::constant && n == 0) {
            throw shape_error(std::string("pad: ") + pad_mode_name(mode) + " padding of an empty dimension " +
                              std::to_string(d) + " of shape " + shape_to_string(shape));
        }
        plan.out_shape[d] = out;
    }
    for (std::size_t d = 0; d < R; ++d) {
        const index_t n = shape[d], out = plan.out_shape[d];
        const bool padded = d + p >= R;
        const index_t left = padded ? pad[2 * (R - 1 - d)] : 0;
        auto& src = plan.source[d];
        src.resize(static_cast<std::size_t>(out));
        for (index_t o = 0; o < out; ++o) {
            index_t i = o - left;
            if (i < 0 || i >= n) {
                switch (mode) {
                case pad_mode::constant:
                    i = -1;
                    break;
                case pad_mode::reflect:
                    i = i < 0 ? -i : 2 * (n - 1) - i;
                    break;
                case pad_mode::replicate:
                    i = i < 0 ? 0 : n - 1;
                    break;
                case pad_mode::circular:
                    i = ((i % n) + n) % n;
                    break;
                }
            }
            src[static_cast<std::size_t>(o)] = i;
        }
    }
    return plan;
}

template <class T, std::size_t R>
Tensor<T, R> pad_forward(const Tensor<T, R>& input, const pad_plan<R>& plan, double value = 0) {
    Tensor<T, R> out(plan.out_shape);
    const auto in_strides = input.strides();
    const T* x = input.data();
    T* y = out.data();
    const T fill = static_cast<T>(value);
    const index_t row = R > 0 ? plan.out_shape[R - 1] : 1;
    const index_t rows = row == 0 ? 0 : out.size() / row;
    backend::parallel_for(rows, row, [&](index_t r) {
        index_t base = 0;
        bool outside = false;
        index_t rest = r;
        for (std::size_t d = R - 1; d-- > 0;) {
            const index_t o = rest % plan.out_shape[d];
            rest /= plan.out_shape[d];
            const index_t i = plan.source[d][static_cast<std::size_t>(o)];
            outside = outside || i < 0;
            base += i * in_strides[d];
        }
        T* dst = y + r * row;
        const auto& last = plan.source[R - 1];
        for (index_t o = 0; o < row; ++o) {
            const index_t i = last[static_cast<std::size_t>(o)];
            dst[o] = (outside || i < 0) ? fill : x[base + i];
        }
    });
    return out;
}

template <class T, std::size_t R>
Tensor<T, R> pad_backward(const Tensor<T, R>& grad_output, const shape_t<R>& input_shape,
                          const pad_plan<R>& plan) {
    Tensor<T, R> grad_input(input_shape);
    const auto in_strides = grad_input.strides();
    // Slices along the leading unpadded dimensions are independent.
    const std::size_t lead = R - plan.padded_dims;
    index_t slices = 1;
    for (std::size_t d = 0; d < lead; ++d) {
        slices *= plan.out_shape[d];
    }
    const index_t row = plan.out_shape[R - 1];
    const index_t rows = row == 0 ? 0 : grad_output.size() / row;
    const index_t rows_per_slice = slices == 0 ? 0 : rows / slices;
    const T* gy = grad_output.data();
    T* gx = grad_input.data();
    backend::parallel_for(slices, rows_per_slice * row, [&](index_t s) {
        for (index_t r = s * rows_per_slice; r < (s + 1) * rows_per_slice; ++r) {
            index_t base = 0;
            bool outside = false;
            index_t rest = r;
            for (std::size_t d = R - 1; d-- > 0;) {
                const index_t o = rest % plan.out_shape[d];
                rest /= plan.out_shape[d];
                const index_t i = plan.source[d][static_cast<std::size_t>(o)];
                outside = outside || i < 0;
                base += i * in_strides[d];
            }
            if (outside) {
                continue;
            }
            const T* src = gy + r * row;
            const auto& last = plan.source[R - 1];
            for (index_t o = 0; o < row; ++o) {
                const index_t i = last[static_cast<std::size_t>(o)];
                if (i >= 0) {
                    gx[base + i] += src[o];
                }
            }
        }
    });
    return grad_input;
}

} // namespace cinediff::nn::kernels
