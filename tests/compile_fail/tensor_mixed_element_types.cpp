// expect: both tensor operands must have the same element type
#include <cinediff/tensor/tensor.hpp>

int main() {
    cinediff::Tensor<float, 1> a({3});
    cinediff::Tensor<double, 1> b({3});
    cinediff::Tensor<float, 1> c = a + b; // float + double needs an explicit cast<>()
    return static_cast<int>(c.size());
}
