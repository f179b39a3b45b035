// expect: constraints not satisfied|not satisfied
// Walking a type that has no visit() member is rejected by the nn::module concept, at the call.
#include <cinediff/nn/module.hpp>

struct not_a_module {
    int weight = 0;
};

int main() {
    not_a_module m;
    cinediff::nn::train(m);
}
