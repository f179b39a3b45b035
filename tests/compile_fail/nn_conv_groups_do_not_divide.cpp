// expect: Conv: in_channels must be divisible by groups
// A module's configuration is checked when the type is formed: 6 input channels in 4 groups.
#include <cinediff/nn/modules/conv.hpp>

int main() {
    cinediff::nn::Conv2d<float,
                         cinediff::nn::conv2d_config{
                             .in_channels = 6, .out_channels = 8, .kernel_size = {3, 3}, .groups = 4}>
        conv;
    (void)conv;
}
