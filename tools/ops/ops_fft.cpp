// cinediff-ops entries: fft2, fft2_complex, ifft2 (torch.fft over the last two dims).
//
// Complex values are a trailing dimension of 2 (torch.view_as_real layout). fft2 takes a real
// input (..., H, W) of rank 2 to 4 and returns (..., H, W, 2); fft2_complex (torch.fft.fft2 of a
// complex tensor) and ifft2 take and return (..., H, W, 2) of rank 3 to 5.
#include <cinediff/nn/functional/fft.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

F::fft_options fft_attrs(op_context& c) {
    F::fft_options o;
    o.norm = c.choice_attr("norm", {"backward", "ortho", "forward"});
    return o;
}

void run_fft2(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<2, 4>(c, "input", [&]<std::size_t R>() {
            c.output("out", F::fft2(c.input<T, R>("input"), fft_attrs(c)));
        });
    });
}

template <bool Inverse>
void run_complex(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<3, 5>(c, "input", [&]<std::size_t R>() {
            if constexpr (Inverse) {
                c.output("out", F::ifft2(c.input<T, R>("input"), fft_attrs(c)));
            } else {
                c.output("out", F::fft2_complex(c.input<T, R>("input"), fft_attrs(c)));
            }
        });
    });
}

const std::vector<attribute_spec> fft_attributes{{"norm", "string", "backward"}};

const op_registration registration({
    {"fft2", {{"input"}}, fft_attributes, {"out"}, run_fft2},
    {"fft2_complex", {{"input"}}, fft_attributes, {"out"}, run_complex<false>},
    {"ifft2", {{"input"}}, fft_attributes, {"out"}, run_complex<true>},
});

} // namespace
} // namespace cinediff::tools
