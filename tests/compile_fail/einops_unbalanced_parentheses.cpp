// expect: einops: unbalanced parentheses
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::rearrange<"b c h w -> b c (h w">(x); // the group is never closed
    return static_cast<int>(y.size());
}
