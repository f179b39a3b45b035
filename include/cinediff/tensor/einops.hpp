#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <cinediff/tensor/fixed_string.hpp>
#include <cinediff/tensor/reduce.hpp>

// Compile-time einops: rearrange, reduce and repeat with the pattern as a template argument.
//
//     auto y = rearrange<"b c f h w -> (b f) c h w">(x);                 // rank 5 -> rank 4
//     auto z = rearrange<"(b f) c h w -> b c f h w">(y, axis<"f">(8));   // sizes by name
//     auto m = reduce<"b c f h w -> b c", einops::mean>(x);              // a Tensor<float, 2>
//     auto r = repeat<"b c h w -> b c f h w">(img, axis<"f">(8));        // a broadcast view
//
// Pattern syntax: axis names are identifiers (`b`, `c1`, `frames`); parentheses group axes into
// one dimension (one level, `()` is a dimension of extent 1); a number is an anonymous axis of that
// size (`1` on either side, other numbers on the right of repeat and the left of reduce). `...` is
// not supported: name every axis.
//
// Checked at compile time (the input's rank is static): the syntax, the input rank against the
// left side, axes on one side only, axes repeated on one side, sizes given for axes the pattern
// does not name or given twice, a new repeat axis without a size, and a group on the left with two
// or more axes of unknown size. Each failure is a static_assert whose message starts with
// "einops:"; the error's context names the pattern and, where there is one, the offending axis,
// e.g. `cinediff::einops::error::axis_on_right_but_not_on_left<fixed_string<13>{"b c -> b c x"},
// fixed_string<2>{"x"}>`. Run-time mismatches (a given size that does not match an extent, an
// extent the known sizes of its group do not divide) throw shape_error naming the pattern, the
// axis and the extents.
//
// Views and copies. rearrange and repeat return a TensorView<T, OutRank> in all cases. Splitting
// input dimensions, permuting, dropping or inserting extent-1 axes and broadcasting new repeat axes
// (stride 0) never copy. Merging a group on the right copies only when the strides do not allow a
// view (the merged axes are not laid out one inside the other, e.g. `b c h w -> b (h w c)` on a
// contiguous input, or a merge involving a broadcast axis as in `h w -> (h 2) w`): the permuted
// elements are then copied once into new contiguous memory, which the returned view owns. So the
// result shares the input's memory exactly when no copy was needed; test with `y.data()` or
// `y.owner() == x.owner()` if it matters (writes through a view reach the input, writes to a copy
// do not). Inputs: a Tensor (an lvalue gives a view of it, an rvalue is kept alive by the result),
// a TensorView, or an expression (evaluated once). reduce returns a new Tensor.
namespace cinediff {

// The size of a named axis, passed after the tensor: axis<"f">(8).
template <fixed_string Name>
struct axis_size {
    static constexpr auto name = Name;
    index_t value;
};

template <fixed_string Name>
constexpr axis_size<Name> axis(index_t n) {
    return {n};
}

namespace einops {

// Reductions for reduce<pattern, Op>: Op::apply(view, axes) reduces the view over `axes` (the
// signature of cinediff::sum(x, {axes...})). Any type with such a static apply works.
struct sum {
    template <class V, std::size_t N>
    static auto apply(const V& v, const index_t (&axes)[N]) {
        return ::cinediff::sum(v, axes);
    }
};
struct mean {
    template <class V, std::size_t N>
    static auto apply(const V& v, const index_t (&axes)[N]) {
        return ::cinediff::mean(v, axes);
    }
};
struct max {
    template <class V, std::size_t N>
    static auto apply(const V& v, const index_t (&axes)[N]) {
        return ::cinediff::max(v, axes);
    }
};
struct min {
    template <class V, std::size_t N>
    static auto apply(const V& v, const index_t (&axes)[N]) {
        return ::cinediff::min(v, axes);
    }
};
struct logsumexp {
    template <class V, std::size_t N>
    static auto apply(const V& v, const index_t (&axes)[N]) {
        return ::cinediff::logsumexp(v, axes);
    }
};

namespace detail {
template <auto...>
inline constexpr bool always_false = false;
} // namespace detail

// The compile-time errors. Each is a class whose name says what is wrong and whose arguments are
// the pattern and the offending axis or text; instantiating one fails with an "einops:" message.
namespace error {
template <fixed_string Pattern>
struct pattern_has_no_arrow {
    static_assert(detail::always_false<Pattern>, "einops: pattern has no '->'");
};
template <fixed_string Pattern>
struct pattern_has_several_arrows {
    static_assert(detail::always_false<Pattern>, "einops: pattern has more than one '->'");
};
template <fixed_string Pattern, fixed_string At>
struct unbalanced_parentheses {
    static_assert(detail::always_false<Pattern, At>, "einops: unbalanced parentheses");
};
template <fixed_string Pattern, fixed_string At>
struct nested_parentheses {
    static_assert(detail::always_false<Pattern, At>, "einops: nested parentheses are not allowed");
};
template <fixed_string Pattern, fixed_string At>
struct unexpected_character {
    static_assert(detail::always_false<Pattern, At>,
                  "einops: unexpected character in the pattern (axis names are identifiers, sizes are "
                  "positive numbers)");
};
template <fixed_string Pattern, fixed_string At>
struct ellipsis_not_supported {
    static_assert(detail::always_false<Pattern, At>, "einops: '...' is not supported; name every axis");
};
template <fixed_string Pattern, fixed_string At>
struct too_many_axes {
    static_assert(detail::always_false<Pattern, At>,
                  "einops: too many axes in the pattern (at most 16 on each side)");
};
template <fixed_string Pattern, fixed_string At>
struct bad_number {
    static_assert(detail::always_false<Pattern, At>,
                  "einops: a number in the pattern must be a positive size of at most 9 digits");
};
template <fixed_string Pattern, fixed_string Axis>
struct axis_appears_twice {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: axis appears twice on one side of the pattern");
};
template <fixed_string Pattern, std::size_t InputRank, std::size_t PatternRank>
struct input_rank_does_not_match_pattern {
    static_assert(detail::always_false<Pattern, InputRank, PatternRank>,
                  "einops: input rank does not match the left side of the pattern");
};
template <fixed_string Pattern, fixed_string Axis>
struct size_given_for_unknown_axis {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: a size is given for an axis that the pattern does not name");
};
template <fixed_string Pattern, fixed_string Axis>
struct size_given_twice {
    static_assert(detail::always_false<Pattern, Axis>, "einops: a size is given twice for the same axis");
};
template <fixed_string Pattern, fixed_string Axis>
struct axis_on_right_but_not_on_left {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: axis appears on the right but not on the left");
};
template <fixed_string Pattern, fixed_string Axis>
struct axis_on_left_but_not_on_right {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: axis appears on the left but not on the right");
};
template <fixed_string Pattern, fixed_string Axis>
struct number_in_rearrange {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: rearrange allows no number other than 1 in the pattern");
};
template <fixed_string Pattern, fixed_string Axis>
struct reduce_cannot_create_axis {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: reduce cannot create a new axis (only 1 may appear on the right alone)");
};
template <fixed_string Pattern, fixed_string Axis>
struct repeat_cannot_drop_axis {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: repeat cannot drop an axis (only 1 may appear on the left alone)");
};
template <fixed_string Pattern, fixed_string Axis>
struct new_axis_needs_size {
    static_assert(detail::always_false<Pattern, Axis>,
                  "einops: new axis in repeat needs a size: pass cinediff::axis<\"name\">(n)");
};
template <fixed_string Pattern, fixed_string Group>
struct group_needs_sizes {
    static_assert(detail::always_false<Pattern, Group>,
                  "einops: a group on the left needs the sizes of all but one of its axes: pass "
                  "cinediff::axis<\"name\">(n)");
};
} // namespace error

namespace detail {

inline constexpr std::size_t max_atoms = 16;           // axes on one side of a pattern
inline constexpr std::size_t max_axes = 2 * max_atoms; // distinct axes in a pattern

enum class parse_error : unsigned char {
    none,
    no_arrow,
    several_arrows,
    unbalanced,
    nested,
    bad_character,
    ellipsis,
    too_many_axes,
    bad_number,
    duplicate_axis
};

// One side of a pattern: dimensions, each a group of atoms (a plain axis is a group of one).
struct side_desc {
    std::size_t n_dims = 0;
    std::size_t n_atoms = 0;
    std::array<std::size_t, max_atoms + 1> dim_begin{}; // atoms of dim d: [dim_begin[d], dim_begin[d+1])
    std::array<std::size_t, max_atoms> dim_text{};      // where dim d is written in the pattern
    std::array<std::size_t, max_atoms> dim_text_len{};
    std::array<std::size_t, max_atoms> atoms{}; // axis ids

    constexpr std::size_t dim_atoms(std::size_t d) const { return dim_begin[d + 1] - dim_begin[d]; }
};

struct axis_desc {
    std::size_t text = 0; // the name (or number) in the pattern
    std::size_t text_len = 0;
    index_t literal = 0; // a number: an anonymous axis of that size; 0: a named axis
    int left = -1;       // atom position on each side, -1 where absent
    int right = -1;
};

struct pattern_desc {
    parse_error error = parse_error::none;
    std::size_t error_pos = 0;
    std::size_t error_len = 0;
    side_desc left;
    side_desc right;
    std::size_t n_axes = 0;
    std::array<axis_desc, max_axes> axes{};
};

constexpr bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

constexpr void fail(pattern_desc& p, parse_error e, std::size_t pos, std::size_t len) {
    if (p.error == parse_error::none) {
        p.error = e;
        p.error_pos = pos;
        p.error_len = len;
    }
}

// Hand-written instead of string_view's find/compare: GCC 12 cannot evaluate those in constant
// expressions under -fsanitize=undefined (the asan preset).
constexpr bool same_text(std::string_view a, std::size_t a_pos, std::size_t len, std::string_view b,
                         std::size_t b_pos, std::size_t b_len) {
    if (len != b_len) {
        return false;
    }
    for (std::size_t i = 0; i < len; ++i) {
        if (a[a_pos + i] != b[b_pos + i]) {
            return false;
        }
    }
    return true;
}

constexpr std::size_t find_arrow(std::string_view s, std::size_t from) {
    for (std::size_t i = from; i + 1 < s.size(); ++i) {
        if (s[i] == '-' && s[i + 1] == '>') {
            return i;
        }
    }
    return s.size();
}

constexpr int find_named(const pattern_desc& p, std::string_view s, std::string_view name, std::size_t pos,
                         std::size_t len) {
    for (std::size_t a = 0; a < p.n_axes; ++a) {
        if (p.axes[a].literal == 0 && same_text(s, p.axes[a].text, p.axes[a].text_len, name, pos, len)) {
            return static_cast<int>(a);
        }
    }
    return -1;
}

constexpr void add_atom(pattern_desc& p, bool left, std::string_view s, std::size_t pos, std::size_t len,
                        index_t literal) {
    side_desc& side = left ? p.left : p.right;
    if (side.n_atoms == max_atoms) {
        fail(p, parse_error::too_many_axes, pos, len);
        return;
    }
    int id = literal == 0 ? find_named(p, s, s, pos, len) : -1;
    if (id >= 0) {
        if ((left ? p.axes[static_cast<std::size_t>(id)].left : p.axes[static_cast<std::size_t>(id)].right) >=
            0) {
            fail(p, parse_error::duplicate_axis, pos, len);
            return;
        }
    } else {
        if (p.n_axes == max_axes) {
            fail(p, parse_error::too_many_axes, pos, len);
            return;
        }
        id = static_cast<int>(p.n_axes++);
        p.axes[static_cast<std::size_t>(id)] = axis_desc{pos, len, literal, -1, -1};
    }
    axis_desc& a = p.axes[static_cast<std::size_t>(id)];
    (left ? a.left : a.right) = static_cast<int>(side.n_atoms);
    side.atoms[side.n_atoms++] = static_cast<std::size_t>(id);
}

constexpr void parse_side(pattern_desc& p, std::string_view s, std::size_t begin, std::size_t end,
                          bool left) {
    side_desc& side = left ? p.left : p.right;
    bool in_group = false;
    std::size_t group_open = 0;
    auto open_dim = [&](std::size_t pos) {
        if (side.n_dims == max_atoms) {
            fail(p, parse_error::too_many_axes, pos, 1);
            return false;
        }
        side.dim_begin[side.n_dims] = side.n_atoms;
        side.dim_text[side.n_dims] = pos;
        return true;
    };
    auto close_dim = [&](std::size_t pos_end) {
        side.dim_text_len[side.n_dims] = pos_end - side.dim_text[side.n_dims];
        ++side.n_dims;
        side.dim_begin[side.n_dims] = side.n_atoms;
    };
    for (std::size_t i = begin; i < end && p.error == parse_error::none;) {
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '(') {
            if (in_group) {
                fail(p, parse_error::nested, i, 1);
            } else if (open_dim(i)) {
                in_group = true;
                group_open = i;
                ++i;
            }
        } else if (c == ')') {
            if (!in_group) {
                fail(p, parse_error::unbalanced, i, 1);
            } else {
                in_group = false;
                close_dim(++i);
            }
        } else if (c == '.') {
            std::size_t j = i;
            while (j < end && s[j] == '.') {
                ++j;
            }
            fail(p, parse_error::ellipsis, i, j - i);
        } else if (is_ident_start(c) || is_digit(c)) {
            std::size_t j = i;
            index_t literal = 0;
            if (is_digit(c)) {
                while (j < end && is_digit(s[j]) && j - i < 10) {
                    literal = literal * 10 + (s[j++] - '0');
                }
                if (literal == 0 || j - i > 9 || (j < end && is_ident_char(s[j]))) {
                    fail(p, parse_error::bad_number, i, j - i);
                    break;
                }
            } else {
                while (j < end && is_ident_char(s[j])) {
                    ++j;
                }
            }
            if (!in_group && !open_dim(i)) {
                break;
            }
            add_atom(p, left, s, i, j - i, literal);
            if (!in_group) {
                close_dim(j);
            }
            i = j;
        } else {
            fail(p, parse_error::bad_character, i, 1);
        }
    }
    if (in_group) {
        fail(p, parse_error::unbalanced, group_open, 1);
    }
}

constexpr pattern_desc parse(std::string_view s) {
    pattern_desc p;
    const std::size_t arrow = find_arrow(s, 0);
    if (arrow == s.size()) {
        fail(p, parse_error::no_arrow, 0, s.size());
    } else if (find_arrow(s, arrow + 2) != s.size()) {
        fail(p, parse_error::several_arrows, find_arrow(s, arrow + 2), 2);
    } else {
        parse_side(p, s, 0, arrow, true);
        parse_side(p, s, arrow + 2, s.size(), false);
    }
    return p;
}

template <fixed_string S, std::size_t Begin, std::size_t Len>
constexpr fixed_string<Len + 1> substring() {
    fixed_string<Len + 1> r;
    for (std::size_t i = 0; i < Len; ++i) {
        r.data[i] = S.data[Begin + i];
    }
    return r;
}

enum class kind { rearrange, reduce, repeat };

constexpr const char* kind_name(kind k) {
    return k == kind::rearrange ? "rearrange" : k == kind::reduce ? "reduce" : "repeat";
}

template <class>
struct is_axis_size : std::false_type {};
template <fixed_string Name>
struct is_axis_size<axis_size<Name>> : std::true_type {};

template <class S>
constexpr auto size_name() {
    if constexpr (is_axis_size<S>::value) {
        return S::name;
    } else {
        return fixed_string<1>{};
    }
}

// Everything known about one use of a pattern at compile time; `ok` is false (after a readable
// static_assert) when the use is ill-formed.
template <fixed_string S, kind K, std::size_t InRank, fixed_string... Given>
struct plan {
    static constexpr pattern_desc p = parse(S.view());
    static constexpr std::size_t n_given = sizeof...(Given);
    static constexpr std::array<int, n_given> given_ids{
        find_named(p, S.view(), Given.view(), 0, Given.size())...};

    static constexpr bool is_given(std::size_t id) {
        for (int g : given_ids) {
            if (g == static_cast<int>(id)) {
                return true;
            }
        }
        return false;
    }
    static constexpr int unknown_given() {
        for (std::size_t g = 0; g < n_given; ++g) {
            if (given_ids[g] < 0) {
                return static_cast<int>(g);
            }
        }
        return -1;
    }
    static constexpr int repeated_given() {
        for (std::size_t g = 0; g < n_given; ++g) {
            for (std::size_t h = 0; h < g; ++h) {
                if (given_ids[g] == given_ids[h]) {
                    return static_cast<int>(g);
                }
            }
        }
        return -1;
    }
    // The first axis matching `pred`, or -1.
    template <class Pred>
    static constexpr int first_axis(Pred pred) {
        for (std::size_t a = 0; a < p.n_axes; ++a) {
            if (pred(p.axes[a], a)) {
                return static_cast<int>(a);
            }
        }
        return -1;
    }
    static constexpr int right_only() {
        return first_axis([](const axis_desc& a, std::size_t) {
            return K != kind::repeat && a.literal == 0 && a.left < 0;
        });
    }
    static constexpr int needs_size() { // a new repeat axis without a size
        return first_axis([](const axis_desc& a, std::size_t id) {
            return K == kind::repeat && a.literal == 0 && a.left < 0 && !is_given(id);
        });
    }
    static constexpr int left_only() {
        return first_axis([](const axis_desc& a, std::size_t) {
            return K != kind::reduce && a.literal == 0 && a.right < 0;
        });
    }
    static constexpr int bad_literal() {
        return first_axis([](const axis_desc& a, std::size_t) {
            if (a.literal <= 1) {
                return false;
            }
            return K == kind::rearrange || (K == kind::reduce && a.right >= 0) ||
                   (K == kind::repeat && a.left >= 0);
        });
    }
    static constexpr int underdetermined_group() {
        for (std::size_t d = 0; d < p.left.n_dims; ++d) {
            int unknown = 0;
            for (std::size_t k = p.left.dim_begin[d]; k < p.left.dim_begin[d + 1]; ++k) {
                const std::size_t id = p.left.atoms[k];
                unknown += (p.axes[id].literal == 0 && !is_given(id)) ? 1 : 0;
            }
            if (unknown > 1) {
                return static_cast<int>(d);
            }
        }
        return -1;
    }

    template <int Id>
    static constexpr auto axis_text() {
        return substring<S, p.axes[Id].text, p.axes[Id].text_len>();
    }

    static constexpr bool check() {
        using enum parse_error;
        constexpr auto at = substring<S, p.error_pos, p.error_len>();
        if constexpr (p.error == no_arrow) {
            return sizeof(error::pattern_has_no_arrow<S>) == 0;
        } else if constexpr (p.error == several_arrows) {
            return sizeof(error::pattern_has_several_arrows<S>) == 0;
        } else if constexpr (p.error == unbalanced) {
            return sizeof(error::unbalanced_parentheses<S, at>) == 0;
        } else if constexpr (p.error == nested) {
            return sizeof(error::nested_parentheses<S, at>) == 0;
        } else if constexpr (p.error == bad_character) {
            return sizeof(error::unexpected_character<S, at>) == 0;
        } else if constexpr (p.error == ellipsis) {
            return sizeof(error::ellipsis_not_supported<S, at>) == 0;
        } else if constexpr (p.error == too_many_axes) {
            return sizeof(error::too_many_axes<S, at>) == 0;
        } else if constexpr (p.error == bad_number) {
            return sizeof(error::bad_number<S, at>) == 0;
        } else if constexpr (p.error == duplicate_axis) {
            return sizeof(error::axis_appears_twice<S, at>) == 0;
        } else if constexpr (p.left.n_dims != InRank) {
            return sizeof(error::input_rank_does_not_match_pattern<S, InRank, p.left.n_dims>) == 0;
        } else if constexpr (unknown_given() >= 0) {
            return sizeof(error::size_given_for_unknown_axis<S, std::get<unknown_given()>(
                                                                    std::tuple{Given...})>) == 0;
        } else if constexpr (repeated_given() >= 0) {
            return sizeof(error::size_given_twice<S, std::get<repeated_given()>(std::tuple{Given...})>) == 0;
        } else if constexpr (right_only() >= 0) {
            return sizeof(error::axis_on_right_but_not_on_left<S, axis_text<right_only()>()>) == 0;
        } else if constexpr (needs_size() >= 0) {
            return sizeof(error::new_axis_needs_size<S, axis_text<needs_size()>()>) == 0;
        } else if constexpr (left_only() >= 0) {
            return sizeof(error::axis_on_left_but_not_on_right<S, axis_text<left_only()>()>) == 0;
        } else if constexpr (bad_literal() >= 0 && K == kind::rearrange) {
            return sizeof(error::number_in_rearrange<S, axis_text<bad_literal()>()>) == 0;
        } else if constexpr (bad_literal() >= 0 && K == kind::reduce) {
            return sizeof(error::reduce_cannot_create_axis<S, axis_text<bad_literal()>()>) == 0;
        } else if constexpr (bad_literal() >= 0) {
            return sizeof(error::repeat_cannot_drop_axis<S, axis_text<bad_literal()>()>) == 0;
        } else if constexpr (underdetermined_group() >= 0) {
            constexpr auto d = static_cast<std::size_t>(underdetermined_group());
            return sizeof(error::group_needs_sizes<
                          S, substring<S, p.left.dim_text[d], p.left.dim_text_len[d]>()>) == 0;
        } else {
            return true;
        }
    }
    static constexpr bool ok = check();

    // Shapes of the steps.
    static constexpr std::size_t n_left = p.left.n_atoms;
    static constexpr std::size_t n_right = p.right.n_atoms;
    static constexpr std::size_t out_rank = p.right.n_dims;

    static std::string where() { return std::string("einops ") + kind_name(K) + " \"" + S.c_str() + "\": "; }
    static std::string name_of(std::size_t id) {
        return std::string(S.view().substr(p.axes[id].text, p.axes[id].text_len));
    }

    // Sizes known before looking at the input: numbers in the pattern and the given sizes.
    template <class... Sizes>
    static std::array<index_t, max_axes> initial_sizes(const Sizes&... sizes) {
        std::array<index_t, max_axes> size{};
        size.fill(-1);
        for (std::size_t a = 0; a < p.n_axes; ++a) {
            if (p.axes[a].literal > 0) {
                size[a] = p.axes[a].literal;
            }
        }
        const std::array<index_t, sizeof...(Sizes)> values{sizes.value...};
        for (std::size_t g = 0; g < values.size(); ++g) {
            const auto id = static_cast<std::size_t>(given_ids[g]);
            if (values[g] < 0) {
                throw shape_error(where() + "axis '" + name_of(id) + "' is given the negative size " +
                                  std::to_string(values[g]));
            }
            size[id] = values[g];
        }
        return size;
    }

    // Splits every input dimension into its atoms (always possible without a copy), inferring the
    // one unknown size of each group from the extent.
    template <class T>
    static TensorView<T, n_left> decompose(const TensorView<T, InRank>& x,
                                           std::array<index_t, max_axes>& size) {
        shape_t<n_left> shape{}, strides{};
        for (std::size_t d = 0; d < InRank; ++d) {
            const std::size_t b = p.left.dim_begin[d], e = p.left.dim_begin[d + 1];
            const index_t extent = x.shape(d);
            index_t known = 1;
            std::size_t unknown = max_atoms;
            std::string known_text;
            for (std::size_t k = b; k < e; ++k) {
                const std::size_t id = p.left.atoms[k];
                if (size[id] < 0) {
                    unknown = k;
                } else {
                    known *= size[id];
                    known_text += (known_text.empty() ? "" : ", ") +
                                  (p.axes[id].literal == 0 ? name_of(id) + " = " + std::to_string(size[id])
                                                           : name_of(id));
                }
            }
            const std::string dim = "input axis " + std::to_string(d) + " ('" +
                                    std::string(S.view().substr(p.left.dim_text[d], p.left.dim_text_len[d])) +
                                    "') has extent " + std::to_string(extent);
            if (unknown < max_atoms) {
                if (known == 0 || extent % known != 0) {
                    throw shape_error(where() + dim + ", which the known sizes (" + known_text +
                                      ") do not divide");
                }
                size[p.left.atoms[unknown]] = extent / known;
            } else if (known != extent) {
                throw shape_error(where() + dim +
                                  (known_text.empty() ? std::string(", but must have extent 1")
                                                      : ", but the sizes (" + known_text + ") give " +
                                                            std::to_string(known)));
            }
            index_t stride = x.strides()[d];
            for (std::size_t k = e; k-- > b;) {
                shape[k] = size[p.left.atoms[k]];
                strides[k] = stride;
                stride *= shape[k];
            }
        }
        return {x.data(), shape, strides, x.owner()};
    }
};

// Merges the atoms of each right-side group into one dimension when the strides allow it (each
// atom laid out exactly inside the one before it, extent-1 atoms ignored).
template <std::size_t Out, class T, std::size_t N>
bool merge_groups(const TensorView<T, N>& v, const side_desc& side, shape_t<Out>& shape,
                  shape_t<Out>& strides) {
    const bool empty = v.size() == 0;
    for (std::size_t g = 0; g < Out; ++g) {
        index_t extent = 1;
        index_t stride = 1;
        index_t expected = 0;
        bool inner_found = false;
        for (std::size_t k = side.dim_begin[g + 1]; k-- > side.dim_begin[g];) {
            extent *= v.shape(k);
            if (v.shape(k) == 1) {
                continue;
            }
            if (!inner_found) {
                stride = v.strides()[k];
                inner_found = true;
            } else if (v.strides()[k] != expected && !empty) {
                return false;
            }
            expected = v.strides()[k] * v.shape(k);
        }
        shape[g] = extent;
        strides[g] = stride;
    }
    return true;
}

template <std::size_t Out, class T, std::size_t N>
TensorView<T, Out> merge_or_copy(const TensorView<T, N>& v, const side_desc& side) {
    shape_t<Out> shape{}, strides{};
    if (merge_groups(v, side, shape, strides)) {
        return {v.data(), shape, strides, v.owner()};
    }
    auto copy = v.contiguous();
    const auto c = std::move(copy).view();
    merge_groups(c, side, shape, strides); // contiguous: always succeeds
    return TensorView<std::remove_const_t<T>, Out>(c.data(), shape, strides, c.owner());
}

template <class T>
struct is_view : std::false_type {};
template <class T, std::size_t R>
struct is_view<TensorView<T, R>> : std::true_type {};
template <class T>
struct is_tensor : std::false_type {};
template <class T, std::size_t R>
struct is_tensor<Tensor<T, R>> : std::true_type {};

// The input as a view: of a Tensor's memory (kept alive when the Tensor is a temporary), or of an
// expression evaluated once.
template <class X>
auto input_view(X&& x) {
    using D = std::remove_cvref_t<X>;
    if constexpr (is_view<D>::value) {
        return D(x);
    } else if constexpr (is_tensor<D>::value) {
        return std::forward<X>(x).view();
    } else if constexpr (std::is_same_v<D, leaf<typename D::value_type, D::rank>>) {
        return x.view();
    } else {
        auto t = eval(x);
        return std::move(t).view();
    }
}

// rearrange and repeat: split, pick the right side's atoms (new ones broadcast), merge.
template <class Plan, class T, std::size_t R, class... Sizes>
auto arrange(const TensorView<T, R>& x, const Sizes&... sizes) {
    constexpr const pattern_desc& p = Plan::p;
    auto size = Plan::initial_sizes(sizes...);
    const auto dec = Plan::decompose(x, size);
    shape_t<Plan::n_right> shape{}, strides{};
    for (std::size_t j = 0; j < Plan::n_right; ++j) {
        const std::size_t id = p.right.atoms[j];
        const int pos = p.axes[id].left;
        if (pos >= 0) {
            shape[j] = dec.shape(static_cast<std::size_t>(pos));
            strides[j] = dec.strides()[static_cast<std::size_t>(pos)];
        } else {
            shape[j] = size[id];
            strides[j] = 0;
        }
    }
    const TensorView<T, Plan::n_right> atoms(x.data(), shape, strides, x.owner());
    return merge_or_copy<Plan::out_rank>(atoms, p.right);
}

template <class Plan, class Op, class T, std::size_t R, class... Sizes>
auto reduce_impl(const TensorView<T, R>& x, const Sizes&... sizes) {
    constexpr const pattern_desc& p = Plan::p;
    constexpr std::size_t n_left = Plan::n_left;
    auto size = Plan::initial_sizes(sizes...);
    const auto dec = Plan::decompose(x, size);
    // Kept atoms in the right side's order, then the reduced ones in the left side's order.
    shape_t<n_left> shape{}, strides{};
    std::size_t n_kept = 0;
    for (std::size_t j = 0; j < Plan::n_right; ++j) {
        const int pos = p.axes[p.right.atoms[j]].left;
        if (pos >= 0) {
            shape[n_kept] = dec.shape(static_cast<std::size_t>(pos));
            strides[n_kept++] = dec.strides()[static_cast<std::size_t>(pos)];
        }
    }
    std::size_t n = n_kept;
    for (std::size_t k = 0; k < n_left; ++k) {
        if (p.axes[p.left.atoms[k]].right < 0) {
            shape[n] = dec.shape(k);
            strides[n++] = dec.strides()[k];
        }
    }
    const TensorView<T, n_left> ordered(x.data(), shape, strides, x.owner());
    constexpr std::size_t kept = [] {
        std::size_t c = 0;
        for (std::size_t j = 0; j < Plan::n_right; ++j) {
            c += Plan::p.axes[Plan::p.right.atoms[j]].left >= 0 ? 1 : 0;
        }
        return c;
    }();
    auto reduced = [&] {
        if constexpr (kept == n_left) { // nothing to reduce: reduce over an added extent-1 axis
            const index_t axes[1] = {static_cast<index_t>(n_left)};
            return Op::apply(ordered.unsqueeze(static_cast<index_t>(n_left)), axes);
        } else {
            index_t axes[n_left - kept] = {};
            for (std::size_t k = kept; k < n_left; ++k) {
                axes[k - kept] = static_cast<index_t>(k);
            }
            return Op::apply(ordered, axes);
        }
    }();
    constexpr bool plain = [] {
        for (std::size_t d = 0; d < Plan::p.right.n_dims; ++d) {
            if (Plan::p.right.dim_atoms(d) != 1 ||
                Plan::p.axes[Plan::p.right.atoms[Plan::p.right.dim_begin[d]]].left < 0) {
                return false;
            }
        }
        return true;
    }();
    if constexpr (plain) {
        return reduced;
    } else { // groups or extent-1 axes on the right: reshape the (contiguous) result
        shape_t<Plan::out_rank> out_shape{};
        for (std::size_t d = 0; d < Plan::out_rank; ++d) {
            out_shape[d] = 1;
            for (std::size_t k = p.right.dim_begin[d]; k < p.right.dim_begin[d + 1]; ++k) {
                const int pos = p.axes[p.right.atoms[k]].left;
                out_shape[d] *= pos >= 0 ? dec.shape(static_cast<std::size_t>(pos)) : 1;
            }
        }
        using Out = typename decltype(reduced)::value_type;
        return Tensor<Out, Plan::out_rank>(reduced.view().reshape(out_shape));
    }
}

template <class... Sizes>
constexpr bool all_axis_sizes = (is_axis_size<Sizes>::value && ...);

} // namespace detail
} // namespace einops

// Reorders, splits and merges axes: rearrange<"b c f h w -> (b f) c h w">(x). Returns a
// TensorView; a copy is made only when a merge on the right needs one (see the top of this file).
template <fixed_string Pattern, class X, class... Sizes>
requires expression<X>
auto rearrange(X&& x, const Sizes&... sizes) {
    if constexpr (!einops::detail::all_axis_sizes<Sizes...>) {
        static_assert(einops::detail::all_axis_sizes<Sizes...>,
                      "einops: give sizes after the tensor as cinediff::axis<\"name\">(n)");
    } else {
        const auto v = einops::detail::input_view(std::forward<X>(x));
        using Plan = einops::detail::plan<Pattern, einops::detail::kind::rearrange, decltype(v)::rank,
                                          einops::detail::size_name<Sizes>()...>;
        if constexpr (Plan::ok) {
            return einops::detail::arrange<Plan>(v, sizes...);
        }
    }
}

// Reduces the axes that appear only on the left with Op (einops::sum, mean, max, min,
// logsumexp): reduce<"b c f h w -> b c", einops::mean>(x). Returns a new Tensor.
template <fixed_string Pattern, class Op, class X, class... Sizes>
requires expression<X>
auto reduce(X&& x, const Sizes&... sizes) {
    if constexpr (!einops::detail::all_axis_sizes<Sizes...>) {
        static_assert(einops::detail::all_axis_sizes<Sizes...>,
                      "einops: give sizes after the tensor as cinediff::axis<\"name\">(n)");
    } else {
        const auto v = einops::detail::input_view(std::forward<X>(x));
        using Plan = einops::detail::plan<Pattern, einops::detail::kind::reduce, decltype(v)::rank,
                                          einops::detail::size_name<Sizes>()...>;
        if constexpr (Plan::ok) {
            return einops::detail::reduce_impl<Plan, Op>(v, sizes...);
        }
    }
}

// Adds axes (broadcast, stride 0) and repeats: repeat<"b c h w -> b c f h w">(x, axis<"f">(8)).
// Returns a TensorView; merging a new axis with another one copies.
template <fixed_string Pattern, class X, class... Sizes>
requires expression<X>
auto repeat(X&& x, const Sizes&... sizes) {
    if constexpr (!einops::detail::all_axis_sizes<Sizes...>) {
        static_assert(einops::detail::all_axis_sizes<Sizes...>,
                      "einops: give sizes after the tensor as cinediff::axis<\"name\">(n)");
    } else {
        const auto v = einops::detail::input_view(std::forward<X>(x));
        using Plan = einops::detail::plan<Pattern, einops::detail::kind::repeat, decltype(v)::rank,
                                          einops::detail::size_name<Sizes>()...>;
        if constexpr (Plan::ok) {
            return einops::detail::arrange<Plan>(v, sizes...);
        }
    }
}

} // namespace cinediff
