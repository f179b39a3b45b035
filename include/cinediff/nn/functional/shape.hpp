#pragma once

#include <memory>
#include <type_traits>
#include <vector>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/backend/parallel.hpp>
#include <cinediff/tensor/reduce.hpp>

// Differentiable shape operations and scans on Variables, with torch's names and arguments:
//
//     auto y = cat({a, b, c}, 1);              // torch.cat
//     auto s = stack({a, b}, 0);               // rank + 1
//     auto parts = split(x, 2, -1);            // or split(x, std::vector<index_t>{1, 3}, -1)
//     auto halves = chunk(x, 2, 1);
//     auto rows = index_select(x, 0, idx);     // idx: Tensor<std::int64_t, 1>
//     auto g = gather(x, 1, index);            // index: Tensor<std::int64_t, R>
//     auto c = cumsum(x, 1);
//     auto l = logsumexp(x, 1);                // rank - 1; logsumexp(x, 1, keep_dims) keeps it
//
// Backward passes route gradients back by slices; index_select and gather scatter-add
// sequentially in index order (in parallel only over independent slices), so they are
// deterministic.
namespace cinediff::nn::functional {

namespace detail {

template <std::size_t R>
std::size_t check_list_dim(const char* op, index_t dim, std::size_t count) {
    if (count == 0) {
        throw std::invalid_argument(std::string(op) + ": expected a non-empty list of tensors");
    }
    return normalize_axis(dim, R, op);
}

// Adds src into dst (same shape), element for element.
template <class T, std::size_t R, class S>
void add_into(const TensorView<T, R>& dst, const S& src) {
    assign(dst, dst + src);
}

} // namespace detail

// ---- cat / stack -------------------------------------------------------------------------------

template <class T, std::size_t R>
requires(R >= 1) autograd::Variable<T, R> cat(const std::vector<autograd::Variable<T, R>>& tensors,
                                              index_t dim = 0) {
    const std::size_t d = detail::check_list_dim<R>("cat", dim, tensors.size());
    shape_t<R> shape = tensors[0].shape();
    shape[d] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& s = tensors[i].shape();
        for (std::size_t k = 0; k < R; ++k) {
            if (k != d && s[k] != tensors[0].shape(k)) {
                throw shape_error("cat: sizes of tensors must match except in dimension " +
                                  std::to_string(d) + ": tensor 0 has shape " +
                                  shape_to_string(tensors[0].shape()) + ", tensor " + std::to_string(i) +
                                  " has shape " + shape_to_string(s));
            }
        }
        shape[d] += s[d];
    }
    Tensor<T, R> out(shape);
    index_t offset = 0;
    for (const auto& t : tensors) {
        assign(out.view().narrow(static_cast<index_t>(d), offset, t.shape(d)), t.value());
        offset += t.shape(d);
    }
    return autograd::record(
        "cat", std::move(out),
        [tensors, d](const auto&, const auto& gy) {
            index_t off = 0;
            for (const auto& t : tensors) {
                if (t.requires_grad()) {
                    t.accumulate_grad(gy.view().narrow(static_cast<index_t>(d), off, t.shape(d)));
                }
                off += t.shape(d);
            }
        },
        tensors);
}

template <class T, std::size_t R>
autograd::Variable<T, R + 1> stack(const std::vector<autograd::Variable<T, R>>& tensors, index_t dim = 0) {
    const std::size_t d = detail::check_list_dim<R + 1>("stack", dim, tensors.size());
    for (std::size_t i = 1; i < tensors.size(); ++i) {
        if (tensors[i].shape() != tensors[0].shape()) {
            throw shape_error("stack: expects each tensor to be equal size, but got " +
                              shape_to_string(tensors[0].shape()) + " at entry 0 and " +
                              shape_to_string(tensors[i].shape()) + " at entry " + std::to_string(i));
        }
    }
    shape_t<R + 1> shape{};
    for (std::size_t k = 0, j = 0; k <= R; ++k) {
        shape[k] = k == d ? static_cast<index_t>(tensors.size()) : tensors[0].shape(j++);
    }
    Tensor<T, R + 1> out(shape);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        assign(out.view().select(static_cast<index_t>(d), static_cast<index_t>(i)), tensors[i].value());
    }
    return autograd::record(
        "stack", std::move(out),
        [tensors, d](const auto&, const auto& gy) {
            for (std::size_t i = 0; i < tensors.size(); ++i) {
                if (tensors[i].requires_grad()) {
                    tensors[i].accumulate_grad(
                        gy.view().select(static_cast<index_t>(d), static_cast<index_t>(i)));
                }
            }
        },
        tensors);
}

// ---- split / chunk -----------------------------------------------------------------------------

// Pieces of the given sizes along `dim` (torch.split with a list of sections).
template <class T, std::size_t R>
requires(R >= 1) std::vector<autograd::Variable<T, R>> split(const autograd::Variable<T, R>& tensor,
                                                             const std::vector<index_t>& split_sizes,
                                                             index_t dim = 0) {
    const std::size_t d = normalize_axis(dim, R, "split");
    index_t total = 0;
    for (index_t s : split_sizes) {
        if (s < 0) {
            throw shape_error("split: split_sizes " + shape_to_string(split_sizes) +
                              " contain a negative size");
        }
        total += s;
    }
    if (total != tensor.shape(d)) {
        throw shape_error("split: split_sizes " + shape_to_string(split_sizes) + " sum to " +
                          std::to_string(total) + ", but dimension " + std::to_string(d) + " of shape " +
                          shape_to_string(tensor.shape()) + " has size " + std::to_string(tensor.shape(d)));
    }
    std::vector<autograd::Variable<T, R>> out;
    out.reserve(split_sizes.size());
    index_t offset = 0;
    for (index_t s : split_sizes) {
        const auto di = static_cast<index_t>(d);
        out.push_back(autograd::record(
            "split", Tensor<T, R>(tensor.value().view().narrow(di, offset, s)),
            [tensor, di, offset, s](const auto&, const auto& gy) {
                detail::add_into(tensor.grad_accumulator().view().narrow(di, offset, s), gy);
            },
            tensor));
        offset += s;
    }
    return out;
}

// Pieces of split_size along `dim`; the last may be smaller (torch.split with an int).
template <class T, std::size_t R>
requires(R >= 1) std::vector<autograd::Variable<T, R>> split(const autograd::Variable<T, R>& tensor,
                                                             index_t split_size, index_t dim = 0) {
    const std::size_t d = normalize_axis(dim, R, "split");
    const index_t n = tensor.shape(d);
    if (split_size <= 0 && !(split_size == 0 && n == 0)) {
        throw shape_error("split: split_size " + std::to_string(split_size) + " must be positive");
    }
    std::vector<index_t> sizes;
    for (index_t start = 0; start < n; start += split_size) {
        sizes.push_back(std::min(split_size, n - start));
    }
    if (sizes.empty()) {
        sizes.push_back(0);
    }
    return split(tensor, sizes, dim);
}

// torch.chunk: pieces of ceil(size / chunks); there may be fewer than `chunks` pieces.
template <class T, std::size_t R>
requires(R >= 1) std::vector<autograd::Variable<T, R>> chunk(const autograd::Variable<T, R>& input,
                                                             index_t chunks, index_t dim = 0) {
    if (chunks <= 0) {
        throw shape_error("chunk: chunks " + std::to_string(chunks) + " must be positive");
    }
    const std::size_t d = normalize_axis(dim, R, "chunk");
    const index_t n = input.shape(d);
    const index_t size = (n + chunks - 1) / chunks;
    if (size == 0) { // an empty dimension: `chunks` empty pieces, as torch
        return split(input, std::vector<index_t>(static_cast<std::size_t>(chunks), 0), dim);
    }
    return split(input, size, dim);
}

// ---- index_select / gather ---------------------------------------------------------------------

template <class T, std::size_t R, class I>
requires(R >= 1 && std::is_integral_v<I>) autograd::Variable<T, R> index_select(
    const autograd::Variable<T, R>& input, index_t dim, const Tensor<I, 1>& index) {
    const std::size_t d = normalize_axis(dim, R, "index_select");
    const auto di = static_cast<index_t>(d);
    const index_t n = input.shape(d);
    for (index_t i = 0; i < index.size(); ++i) {
        const auto v = static_cast<index_t>(index.data()[i]);
        if (v < 0 || v >= n) {
            throw shape_error("index_select: index " + std::to_string(v) + " is out of range for dimension " +
                              std::to_string(d) + " of size " + std::to_string(n));
        }
    }
    shape_t<R> shape = input.shape();
    shape[d] = index.size();
    Tensor<T, R> out(shape);
    for (index_t i = 0; i < index.size(); ++i) {
        assign(out.view().narrow(di, i, 1),
               input.value().view().narrow(di, static_cast<index_t>(index.data()[i]), 1));
    }
    return autograd::record(
        "index_select", std::move(out),
        [input, di, index](const auto&, const auto& gy) {
            auto& g = input.grad_accumulator();
            for (index_t i = 0; i < index.size(); ++i) { // in index order: repeated indices add up in order
                detail::add_into(g.view().narrow(di, static_cast<index_t>(index.data()[i]), 1),
                                 gy.view().narrow(di, i, 1));
            }
        },
        input);
}

namespace detail {

// Offsets into the input (contiguous) of every element of `index` for gather along d.
template <std::size_t R, class I>
void gather_offsets(const shape_t<R>& input_shape, std::size_t d, const Tensor<I, R>& index, index_t begin,
                    index_t end, std::vector<index_t>& offsets) {
    const auto in_strides = contiguous_strides(input_shape);
    offsets.resize(static_cast<std::size_t>(end - begin));
    for (index_t i = begin; i < end; ++i) {
        index_t rest = i, off = 0;
        for (std::size_t k = R; k-- > 0;) {
            const index_t c = rest % index.shape(k);
            rest /= index.shape(k);
            off += (k == d ? static_cast<index_t>(index.data()[i]) : c) * in_strides[k];
        }
        offsets[static_cast<std::size_t>(i - begin)] = off;
    }
}

} // namespace detail

// out[i][j][k] = input[i][index[i][j][k]][k] for dim = 1 (torch.gather).
template <class T, std::size_t R, class I>
requires(R >= 1 &&
         std::is_integral_v<I>) autograd::Variable<T, R> gather(const autograd::Variable<T, R>& input,
                                                                index_t dim, const Tensor<I, R>& index) {
    const std::size_t d = normalize_axis(dim, R, "gather");
    for (std::size_t k = 0; k < R; ++k) {
        if (k != d && index.shape(k) > input.shape(k)) {
            throw shape_error("gather: size of index " + shape_to_string(index.shape()) +
                              " must not exceed the input " + shape_to_string(input.shape()) +
                              " in dimension " + std::to_string(k) + " (dim = " + std::to_string(d) + ")");
        }
    }
    const index_t n = input.shape(d);
    for (index_t i = 0; i < index.size(); ++i) {
        const auto v = static_cast<index_t>(index.data()[i]);
        if (v < 0 || v >= n) {
            throw shape_error("gather: index " + std::to_string(v) + " is out of bounds for dimension " +
                              std::to_string(d) + " with size " + std::to_string(n));
        }
    }
    Tensor<T, R> out(index.shape());
    const T* x = input.value().data();
    T* y = out.data();
    const index_t block = 4096;
    backend::parallel_for_blocks(index.size(), block, [&](index_t begin, index_t end) {
        std::vector<index_t> offsets;
        detail::gather_offsets<R>(input.shape(), d, index, begin, end, offsets);
        for (index_t i = begin; i < end; ++i) {
            y[i] = x[offsets[static_cast<std::size_t>(i - begin)]];
        }
    });
    return autograd::record(
        "gather", std::move(out),
        [input, d, index](const auto&, const auto& gy) {
            T* g = input.grad_accumulator().data();
            // Slices along dimension 0 write disjoint parts of the gradient unless d == 0.
            const index_t slices = (d == 0 || R == 1) ? 1 : index.shape(0);
            const index_t per = slices == 0 ? 0 : index.size() / slices;
            backend::parallel_for(slices, per, [&](index_t s) {
                std::vector<index_t> offsets;
                detail::gather_offsets<R>(input.shape(), d, index, s * per, (s + 1) * per, offsets);
                for (index_t i = s * per; i < (s + 1) * per; ++i) {
                    g[offsets[static_cast<std::size_t>(i - s * per)]] += gy.data()[i];
                }
            });
        },
        input);
}

// ---- cumsum / logsumexp ------------------------------------------------------------------------

template <class T, std::size_t R>
requires(R >= 1 &&
         std::is_floating_point_v<T>) autograd::Variable<T, R> cumsum(const autograd::Variable<T, R>& input,
                                                                      index_t dim) {
    const std::size_t d = normalize_axis(dim, R, "cumsum");
    Tensor<T, R> out = cinediff::cumsum(input.value(), static_cast<index_t>(d));
    return autograd::record(
        "cumsum", std::move(out),
        [input, d](const auto&, const auto& gy) {
            // d/dx of a cumulative sum: the reversed cumulative sum of the gradient.
            Tensor<T, R> gx(gy.shape());
            const auto strides = gx.strides();
            const index_t len = gy.shape(d);
            const index_t lines = len == 0 ? 0 : gy.size() / len;
            backend::parallel_for(lines, len, [&](index_t line) {
                index_t off = 0;
                for (std::size_t k = R, rest = static_cast<std::size_t>(line); k-- > 0;) {
                    if (k == d) {
                        continue;
                    }
                    const auto c = static_cast<index_t>(rest % static_cast<std::size_t>(gy.shape(k)));
                    rest /= static_cast<std::size_t>(gy.shape(k));
                    off += c * strides[k];
                }
                double acc = 0;
                for (index_t i = len; i-- > 0;) {
                    acc += static_cast<double>(gy.data()[off + i * strides[d]]);
                    gx.data()[off + i * strides[d]] = static_cast<T>(acc);
                }
            });
            input.accumulate_grad(gx);
        },
        input);
}

// log(sum(exp(x))) along dim, keeping it as extent 1.
template <class T, std::size_t R>
requires(R >= 1 && std::is_floating_point_v<T>) autograd::Variable<T, R> logsumexp(
    const autograd::Variable<T, R>& input, index_t dim, keep_dims_t) {
    const index_t axes[1] = {static_cast<index_t>(normalize_axis(dim, R, "logsumexp"))};
    Tensor<T, R> out = cinediff::logsumexp(input.value(), axes, keep_dims);
    return autograd::record(
        "logsumexp", std::move(out),
        [input](const auto& y, const auto& gy) { input.accumulate_grad(gy * exp(input.value() - y)); },
        input);
}

// log(sum(exp(x))) along dim, which is removed (torch.logsumexp(x, dim, keepdim=False)).
template <class T, std::size_t R>
requires(R >= 1 && std::is_floating_point_v<T>) autograd::Variable<T, R - 1> logsumexp(
    const autograd::Variable<T, R>& input, index_t dim) {
    const std::size_t d = normalize_axis(dim, R, "logsumexp");
    const index_t axes[1] = {static_cast<index_t>(d)};
    Tensor<T, R - 1> out = cinediff::logsumexp(input.value(), axes);
    return autograd::record(
        "logsumexp", std::move(out),
        [input, d](const auto& y, const auto& gy) {
            const auto di = static_cast<index_t>(d);
            input.accumulate_grad(gy.view().unsqueeze(di) * exp(input.value() - y.view().unsqueeze(di)));
        },
        input);
}

} // namespace cinediff::nn::functional
