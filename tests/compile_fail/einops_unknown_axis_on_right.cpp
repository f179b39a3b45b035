// expect: einops: axis appears on the right but not on the left
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::rearrange<"b c h w -> b c h x">(x); // x is not an input axis
    return static_cast<int>(y.size());
}
