// expect: einops: input rank does not match the left side of the pattern
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::rearrange<"b c f h w -> (b f) c h w">(x); // the pattern wants rank 5
    return static_cast<int>(y.size());
}
