// cinediff-ops entries: interpolate, pad.
#include <cinediff/nn/functional/interpolate.hpp>
#include <cinediff/nn/functional/pad.hpp>

#include "registry.hpp"

namespace cinediff::tools {
namespace {

namespace F = cinediff::nn::functional;

// F.interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
// recompute_scale_factor=None) on (N, C, spatial...) inputs of rank 3 to 5; size and
// scale_factor take one value or one per spatial dim.
void run_interpolate(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<3, 5>(c, "input", [&]<std::size_t R>() {
            F::interpolate_options o;
            if (!c.is_none("size")) {
                const auto size = c.int_list_attr("size");
                o.size.assign(size.begin(), size.end());
            }
            if (!c.is_none("scale_factor")) {
                o.scale_factor = c.float_list_attr("scale_factor");
            }
            o.mode = c.choice_attr("mode",
                                   {"nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area"});
            o.align_corners = c.optional_bool_attr("align_corners");
            o.recompute_scale_factor = c.optional_bool_attr("recompute_scale_factor");
            c.output("out", F::interpolate(c.input<T, R>("input"), o));
        });
    });
}

// F.pad(input, pad, mode='constant', value=0): pad lists (before, after) pairs from the last dim.
void run_pad(op_context& c) {
    dispatch_float(c, "input", [&]<class T>() {
        dispatch_rank<1, 5>(c, "input", [&]<std::size_t R>() {
            const auto pads = c.int_list_attr("pad");
            F::pad_options o;
            o.mode = c.choice_attr("mode", {"constant", "reflect", "replicate", "circular"});
            o.value = c.float_attr("value");
            c.output("out",
                     F::pad(c.input<T, R>("input"), std::vector<index_t>(pads.begin(), pads.end()), o));
        });
    });
}

const op_registration registration({
    {"interpolate",
     {{"input"}},
     {{"size", "ints", "none"},
      {"scale_factor", "floats", "none"},
      {"mode", "string", "nearest"},
      {"align_corners", "bool", "none"},
      {"recompute_scale_factor", "bool", "none"}},
     {"out"},
     run_interpolate},
    {"pad",
     {{"input"}},
     {{"pad", "ints", "", true}, {"mode", "string", "constant"}, {"value", "float", "0"}},
     {"out"},
     run_pad},
});

} // namespace
} // namespace cinediff::tools
