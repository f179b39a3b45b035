// cinediff-ops entries: cat, stack, split, chunk, index_select, gather, cumsum, logsumexp (inputs of
// rank 1 to 5; stack's of rank 1 to 4).
//
// cat and stack take a variable number of tensors: inputs input0, input1, ... input7 (up to
// max_pieces, given without gaps; input0 is required). split and chunk produce a variable number
// of pieces: outputs out0 ... out7, of which only the pieces produced are written; more than
// max_pieces pieces is an error.
#include <cinediff/nn/functional/shape.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

constexpr std::size_t max_pieces = 8;

std::string piece_name(const char* prefix, std::size_t i) {
    return prefix + std::to_string(i);
}

std::vector<input_spec> list_inputs() {
    std::vector<input_spec> inputs;
    for (std::size_t i = 0; i < max_pieces; ++i) {
        inputs.push_back({piece_name("input", i), true, i > 0});
    }
    return inputs;
}

std::vector<std::string> piece_outputs() {
    std::vector<std::string> outputs;
    for (std::size_t i = 0; i < max_pieces; ++i) {
        outputs.push_back(piece_name("out", i));
    }
    return outputs;
}

// input0, input1, ... as Variables of rank R (all given ones, without gaps).
template <class T, std::size_t R>
std::vector<autograd::Variable<T, R>> list_variables(op_context& c) {
    std::vector<autograd::Variable<T, R>> tensors;
    std::size_t count = 0;
    while (count < max_pieces && c.has(piece_name("input", count))) {
        ++count;
    }
    for (std::size_t i = count; i < max_pieces; ++i) {
        if (c.has(piece_name("input", i))) {
            throw usage_error(c.spec().name + ": input" + std::to_string(i) + " is given but input" +
                              std::to_string(count) +
                              " is not (inputs are numbered from input0 without gaps)");
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        const std::string name = piece_name("input", i);
        if (c.input_dtype(name) != c.input_dtype("input0")) {
            throw usage_error(c.spec().name + ": " + name + " has dtype " +
                              std::string(dtype_name(c.input_dtype(name))) + ", input0 has " +
                              std::string(dtype_name(c.input_dtype("input0"))));
        }
        tensors.push_back(c.input<T, R>(name));
    }
    return tensors;
}

template <class T, std::size_t R>
void output_pieces(op_context& c, const std::vector<autograd::Variable<T, R>>& pieces) {
    if (pieces.size() > max_pieces) {
        throw usage_error(c.spec().name + ": " + std::to_string(pieces.size()) + " pieces, at most " +
                          std::to_string(max_pieces) + " are supported (outputs out0 to out" +
                          std::to_string(max_pieces - 1) + ")");
    }
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        c.output(piece_name("out", i), pieces[i]);
    }
}

void run_cat(op_context& c) {
    dispatch_float(c, "input0", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input0", [&]<std::size_t R>() {
            c.output("out", F::cat(list_variables<T, R>(c), c.int_attr("dim")));
        });
    });
}

void run_stack(op_context& c) {
    dispatch_float(c, "input0", [&]<class T>() {
        dispatch_rank<1, 4>(c, "input0", [&]<std::size_t R>() {
            c.output("out", F::stack(list_variables<T, R>(c), c.int_attr("dim")));
        });
    });
}

// torch.split(tensor, split_size_or_sections, dim=0): one value is the size of every piece (the
// last may be smaller), several are the pieces' sizes.
void run_split(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            const auto sizes = c.int_list_attr("split_size_or_sections");
            const auto x = c.input<T, R>("input");
            const auto dim = c.int_attr("dim");
            if (sizes.size() == 1) {
                output_pieces(c, F::split(x, static_cast<index_t>(sizes[0]), dim));
            } else {
                output_pieces(c, F::split(x, std::vector<index_t>(sizes.begin(), sizes.end()), dim));
            }
        });
    });
}

void run_chunk(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            output_pieces(c, F::chunk(c.input<T, R>("input"), c.int_attr("chunks"), c.int_attr("dim")));
        });
    });
}

void check_index_dtype(op_context& c) {
    if (c.input_dtype("index") != dtype::i64) {
        throw usage_error(c.spec().name + ": index must be int64, got " +
                          std::string(dtype_name(c.input_dtype("index"))));
    }
}

void run_index_select(op_context& c) {
    check_index_dtype(c);
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::index_select(c.input<T, R>("input"), c.int_attr("dim"),
                                            c.constant<std::int64_t, 1>("index")));
        });
    });
}

void run_gather(op_context& c) {
    check_index_dtype(c);
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::gather(c.input<T, R>("input"), c.int_attr("dim"),
                                      c.constant<std::int64_t, R>("index")));
        });
    });
}

// A rank-1 input runs as (1, n) along dim 1: GCC 12 reports a false -Warray-bounds in
// cinediff::cumsum's rank-1 instantiation at -O3.
void run_cumsum(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        if (c.input_rank("input") == 1) {
            const auto dim = c.int_attr("dim");
            if (dim != 0 && dim != -1) {
                throw usage_error("cumsum: dim " + std::to_string(dim) +
                                  " is out of range for an input of rank 1");
            }
            const auto n = c.input_shape("input")[0];
            c.output_as("out", F::cumsum(c.input_as<T, 2>("input", shape_t<2>{1, n}), 1),
                        c.input_shape("input"));
            return;
        }
        dispatch_rank<2, 5>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::cumsum(c.input<T, R>("input"), c.int_attr("dim")));
        });
    });
}

void run_logsumexp(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            const auto x = c.input<T, R>("input");
            const auto dim = c.int_attr("dim");
            if (c.bool_attr("keepdim")) {
                c.output("out", F::logsumexp(x, dim, keep_dims));
            } else {
                c.output("out", F::logsumexp(x, dim));
            }
        });
    });
}

const op_registration registration({
    {"cat", list_inputs(), {{"dim", "int", "0"}}, {"out"}, run_cat},
    {"stack", list_inputs(), {{"dim", "int", "0"}}, {"out"}, run_stack},
    {"split",
     {{"input"}},
     {{"split_size_or_sections", "ints", "", true}, {"dim", "int", "0"}},
     piece_outputs(),
     run_split},
    {"chunk", {{"input"}}, {{"chunks", "int", "", true}, {"dim", "int", "0"}}, piece_outputs(), run_chunk},
    {"index_select", {{"input"}, {"index", false}}, {{"dim", "int", "", true}}, {"out"}, run_index_select},
    {"gather", {{"input"}, {"index", false}}, {{"dim", "int", "", true}}, {"out"}, run_gather},
    {"cumsum", {{"input"}}, {{"dim", "int", "", true}}, {"out"}, run_cumsum},
    {"logsumexp",
     {{"input"}},
     {{"dim", "int", "", true}, {"keepdim", "bool", "false"}},
     {"out"},
     run_logsumexp},
});

} // namespace
} // namespace cinediff::tools
