// expect: einops: a group on the left needs the sizes of all but one of its axes
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({16, 3, 4, 5});
    auto y = cinediff::rearrange<"(b f) c h w -> b c f h w">(x); // neither b nor f is given
    return static_cast<int>(y.size());
}
