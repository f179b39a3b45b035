// expect: einops: axis appears twice
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::rearrange<"b c h w -> b h h c">(x); // h twice on the right, w missing
    return static_cast<int>(y.size());
}
