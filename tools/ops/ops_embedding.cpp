// cinediff-ops entries: embedding, get_timestep_embedding.
#include <cinediff/nn/functional/embedding.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

// F.embedding(input, weight, padding_idx=None, scale_grad_by_freq=False): input int64 indices of
// rank 0 to 4, weight (num_embeddings, dim); differentiable with respect to weight only.
void run_embedding(op_context& c) {
    if (c.input_dtype("input") != dtype::i64) {
        throw usage_error("embedding: input must hold int64 indices, got " +
                          std::string(dtype_name(c.input_dtype("input"))));
    }
    dispatch_float(c, "weight", [&]<class T>() {
        dispatch_rank<0, 4>(c, "input", [&]<std::size_t R>() {
            F::embedding_options o;
            o.padding_idx = c.optional_int_attr("padding_idx");
            o.scale_grad_by_freq = c.bool_attr("scale_grad_by_freq");
            c.output("out", F::embedding(c.constant<std::int64_t, R>("input"), c.input<T, 2>("weight"), o));
        });
    });
}

// diffusers' get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False,
// downscale_freq_shift=1, scale=1, max_period=10000): timesteps (N,) -> (N, embedding_dim),
// computed in the timesteps' dtype. Forward only.
void run_timestep_embedding(op_context& c) {
    dispatch_float(c, "timesteps", [&]<class T>() {
        c.output("out", F::get_timestep_embedding(c.constant<T, 1>("timesteps"), c.int_attr("embedding_dim"),
                                                  c.bool_attr("flip_sin_to_cos"),
                                                  c.float_attr("downscale_freq_shift"), c.float_attr("scale"),
                                                  c.float_attr("max_period")));
    });
}

const op_registration registration({
    {"embedding",
     {{"input", false}, {"weight"}},
     {{"padding_idx", "int", "none"}, {"scale_grad_by_freq", "bool", "false"}},
     {"out"},
     run_embedding},
    {"get_timestep_embedding",
     {{"timesteps", false}},
     {{"embedding_dim", "int", "", true},
      {"flip_sin_to_cos", "bool", "false"},
      {"downscale_freq_shift", "float", "1"},
      {"scale", "float", "1"},
      {"max_period", "float", "10000"}},
     {"out"},
     run_timestep_embedding},
});

} // namespace
} // namespace cinediff::tools
