// cinediff-ops entries: avg_pool1d-3d, max_pool1d-3d, adaptive_avg_pool1d-3d. Inputs are batched
// (N, C, spatial...) or unbatched (C, spatial...), as in torch.
#include <cinediff/nn/functional/pool.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

// stride=None (the default) is the kernel size: the kernels read a zero stride that way.
template <std::size_t N>
shape_t<N> stride_attr(op_context& c) {
    return c.is_none("stride") ? shape_t<N>{} : c.ints_array<N>("stride");
}

template <std::size_t N>
void run_avg_pool(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<N + 1, N + 2>(c, "input", [&]<std::size_t R>() {
            nn::kernels::avg_pool_options<N> o;
            o.kernel_size = c.ints_array<N>("kernel_size");
            o.stride = stride_attr<N>(c);
            o.padding = c.ints_array<N>("padding");
            o.ceil_mode = c.bool_attr("ceil_mode");
            o.count_include_pad = c.bool_attr("count_include_pad");
            o.divisor_override = c.optional_int_attr("divisor_override");
            c.output("out", F::detail::avg_pool<N>(c.spec().name.c_str(), c.input<T, R>("input"), o));
        });
    });
}

// return_indices=true also writes `indices` (int64, the flat spatial index of each maximum within
// its plane, as torch).
template <std::size_t N>
void run_max_pool(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<N + 1, N + 2>(c, "input", [&]<std::size_t R>() {
            nn::kernels::max_pool_options<N> o;
            o.kernel_size = c.ints_array<N>("kernel_size");
            o.stride = stride_attr<N>(c);
            o.padding = c.ints_array<N>("padding");
            o.dilation = c.ints_array<N>("dilation");
            o.ceil_mode = c.bool_attr("ceil_mode");
            auto [out, indices] = F::detail::max_pool<N>(c.spec().name.c_str(), c.input<T, R>("input"), o);
            c.output("out", out);
            if (c.bool_attr("return_indices")) {
                c.output("indices", indices);
            }
        });
    });
}

template <std::size_t N>
void run_adaptive_avg_pool(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<N + 1, N + 2>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::detail::adaptive_avg_pool<N>(c.spec().name.c_str(), c.input<T, R>("input"),
                                                            c.ints_array<N>("output_size")));
        });
    });
}

op_spec avg_pool_spec(const std::string& name, void (*run)(op_context&)) {
    return {name,
            {{"input"}},
            {{"kernel_size", "ints", "", true},
             {"stride", "ints", "none"},
             {"padding", "ints", "0"},
             {"ceil_mode", "bool", "false"},
             {"count_include_pad", "bool", "true"},
             {"divisor_override", "int", "none"}},
            {"out"},
            run};
}

op_spec max_pool_spec(const std::string& name, void (*run)(op_context&)) {
    return {name,
            {{"input"}},
            {{"kernel_size", "ints", "", true},
             {"stride", "ints", "none"},
             {"padding", "ints", "0"},
             {"dilation", "ints", "1"},
             {"ceil_mode", "bool", "false"},
             {"return_indices", "bool", "false"}},
            {"out", "indices"},
            run};
}

op_spec adaptive_spec(const std::string& name, void (*run)(op_context&)) {
    return {name, {{"input"}}, {{"output_size", "ints", "", true}}, {"out"}, run};
}

const op_registration registration({
    avg_pool_spec("avg_pool1d", run_avg_pool<1>),
    avg_pool_spec("avg_pool2d", run_avg_pool<2>),
    avg_pool_spec("avg_pool3d", run_avg_pool<3>),
    max_pool_spec("max_pool1d", run_max_pool<1>),
    max_pool_spec("max_pool2d", run_max_pool<2>),
    max_pool_spec("max_pool3d", run_max_pool<3>),
    adaptive_spec("adaptive_avg_pool1d", run_adaptive_avg_pool<1>),
    adaptive_spec("adaptive_avg_pool2d", run_adaptive_avg_pool<2>),
    adaptive_spec("adaptive_avg_pool3d", run_adaptive_avg_pool<3>),
});

} // namespace
} // namespace cinediff::tools
