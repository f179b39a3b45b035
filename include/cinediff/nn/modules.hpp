#pragma once

// Every module class of torch.nn that cinediff mirrors (one header per family in nn/modules/).
#include <cinediff/nn/modules/activation.hpp>
#include <cinediff/nn/modules/conv.hpp>
#include <cinediff/nn/modules/dropout.hpp>
#include <cinediff/nn/modules/embedding.hpp>
#include <cinediff/nn/modules/linear.hpp>
#include <cinediff/nn/modules/norm.hpp>
