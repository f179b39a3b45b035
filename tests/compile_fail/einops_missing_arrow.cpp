// expect: einops: pattern has no '->'
#include <cinediff/tensor/einops.hpp>

int main() {
    cinediff::Tensor<float, 4> x({2, 3, 4, 5});
    auto y = cinediff::rearrange<"b c h w b h w c">(x); // no arrow
    return static_cast<int>(y.size());
}
