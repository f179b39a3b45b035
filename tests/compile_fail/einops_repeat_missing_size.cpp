// expect: einops: new axis in repeat needs a size
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::repeat<"b c h w -> b c f h w">(x); // how many frames? axis<"f">(n) is missing
    return static_cast<int>(y.size());
}
