// A program built only against an installed cinediff (find_package(cinediff CONFIG)).
#include <cstdio>

#include <cinediff/tensor/reduce.hpp>
#include <cinediff/version.hpp>

int main() {
    using namespace cinediff;
    Tensor<float, 2> a({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor<float, 1> b({3}, {1, 1, 1});
    Tensor<float, 2> y = a * 2.0f + b;
    const double total = sum(y);
    std::printf("cinediff %d.%d.%d consumer: sum = %g\n", version_major, version_minor, version_patch, total);
    return total == 48.0 ? 0 : 1;
}
