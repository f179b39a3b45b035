// expect: the expression's rank differs from the Tensor's rank
#include <cinediff/tensor/tensor.hpp>

int main() {
    cinediff::Tensor<float, 2> a({2, 3});
    cinediff::Tensor<float, 3> b = a + 1.0f; // rank 2 expression into a rank 3 tensor
    return static_cast<int>(b.size());
}
