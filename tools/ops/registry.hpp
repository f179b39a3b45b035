#pragma once

// The op table of cinediff-ops. Strings map to library types only here, in the tools layer: each
// op declares its inputs, attributes and outputs (for `list`) and a run function that calls the
// library's differentiable function with static types chosen from the inputs' dtype and rank.
#include <any>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cinediff/autograd/variable.hpp>
#include <cinediff/io/array_record.hpp>
#include <cinediff/io/tensor_conversion.hpp>

namespace cinediff::tools {

// Thrown for every user mistake; the tool prints the message as one line and exits with 2.
class usage_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct input_spec {
    std::string name;
    bool differentiable = true;
    bool optional = false;
};

// An attribute's default is the text it would be given with (e.g. "1", "1,1", "true", "mean");
// "none" stands for Python's None (the op treats the attribute as absent). A required attribute has
// no default: `list` shows "default": null.
struct attribute_spec {
    std::string name;
    std::string type; // int, float, bool, ints, floats, string
    std::string default_value;
    bool required = false;
};

class op_context;

// Outputs are listed in order; an op may produce only some of them (split's out0..out7, max_pool's
// indices with return_indices=true, batch_norm's running_mean and running_var when given).
struct op_spec {
    std::string name;
    std::vector<input_spec> inputs;
    std::vector<attribute_spec> attributes;
    std::vector<std::string> outputs;
    std::function<void(op_context&)> run;
};

// What an op sees: its inputs as Variables, its attributes parsed and checked, and where its
// outputs go. Outputs are collected in memory; the tool writes them only when the op succeeded.
class op_context {
  public:
    op_context(const op_spec& spec, std::map<std::string, io::array_record> inputs,
               std::map<std::string, std::string> attributes, bool gradients)
        : m_spec(spec), m_inputs(std::move(inputs)), m_attributes(std::move(attributes)),
          m_gradients(gradients) {
        for (const auto& [name, _] : m_inputs) {
            if (!find_input(name)) {
                throw usage_error(spec.name + ": unknown input '" + name + "'");
            }
        }
        for (const auto& in : spec.inputs) {
            if (!in.optional && !m_inputs.count(in.name)) {
                throw usage_error(spec.name + ": missing input '" + in.name + "'");
            }
        }
        for (const auto& [name, _] : m_attributes) {
            if (!find_attribute(name)) {
                throw usage_error(spec.name + ": unknown attribute '" + name + "'");
            }
        }
    }

    const op_spec& spec() const { return m_spec; }
    bool has(const std::string& name) const { return m_inputs.count(name) != 0; }
    dtype input_dtype(const std::string& name) const { return record(name).type; }
    std::size_t input_rank(const std::string& name) const { return record(name).shape.size(); }

    // The input as a Variable of static rank R (checked), requiring grad when gradients were asked
    // for and the input is differentiable. Repeated calls return the same Variable.
    template <class T, std::size_t R>
    autograd::Variable<T, R> input(const std::string& name) {
        const auto& r = record(name);
        if (r.shape.size() != R) {
            throw usage_error(m_spec.name + ": input '" + name + "' has shape " + shape_to_string(r.shape) +
                              " of rank " + std::to_string(r.shape.size()) + ", expected rank " +
                              std::to_string(R));
        }
        check_dtype<T>(name, r);
        return variable<T, R>(name, r, r.shape);
    }
    // The input reshaped to `shape` (same number of elements, any rank given), for ops that compute
    // the same on a flattened view (elementwise ops on rank 1, layer_norm on (outer, normalized)).
    // Its gradient is written in the input's own shape. Repeated calls return the same Variable.
    template <class T, std::size_t R>
    autograd::Variable<T, R> input_as(const std::string& name, const shape_t<R>& shape) {
        const auto& r = record(name);
        check_dtype<T>(name, r);
        index_t n = 1;
        for (auto e : shape) {
            n *= e;
        }
        if (n != element_count(r.shape)) {
            throw usage_error(m_spec.name + ": input '" + name + "' of shape " + shape_to_string(r.shape) +
                              " cannot be viewed as " + shape_to_string(shape));
        }
        io::array_record view = r;
        view.shape.assign(shape.begin(), shape.end());
        return variable<T, R>(name, view, r.shape);
    }
    // The input flattened to rank 1.
    template <class T>
    autograd::Variable<T, 1> input_flat(const std::string& name) {
        return input_as<T, 1>(name, shape_t<1>{element_count(record(name).shape)});
    }
    // An optional input: std::nullopt when not given.
    template <class T, std::size_t R>
    std::optional<autograd::Variable<T, R>> optional(const std::string& name) {
        if (!has(name)) {
            return std::nullopt;
        }
        return input<T, R>(name);
    }
    const std::vector<index_t>& input_shape(const std::string& name) const { return record(name).shape; }
    // A non-differentiable input (class indices, running statistics) as a Tensor of rank R.
    template <class T, std::size_t R>
    Tensor<T, R> constant(const std::string& name) {
        const auto& r = record(name);
        if (r.shape.size() != R || r.type != dtype_of_v<T>) {
            throw usage_error(m_spec.name + ": input '" + name + "' must be " +
                              std::string(dtype_name(dtype_of_v<T>)) + " of rank " + std::to_string(R) +
                              ", got " + std::string(dtype_name(r.type)) + " " + shape_to_string(r.shape));
        }
        return io::to_tensor<T, R>(r);
    }

    // A non-differentiable input reshaped to `shape` (same number of elements).
    template <class T, std::size_t R>
    Tensor<T, R> constant_as(const std::string& name, const shape_t<R>& shape) {
        const auto& r = record(name);
        check_dtype<T>(name, r);
        index_t n = 1;
        for (auto e : shape) {
            n *= e;
        }
        if (n != element_count(r.shape)) {
            throw usage_error(m_spec.name + ": input '" + name + "' of shape " + shape_to_string(r.shape) +
                              " cannot be viewed as " + shape_to_string(shape));
        }
        io::array_record view = r;
        view.shape.assign(shape.begin(), shape.end());
        return io::to_tensor<T, R>(view);
    }

    // Attribute values (the default from the spec when not given).
    std::string string_attr(const std::string& name) const {
        const auto it = m_attributes.find(name);
        if (it != m_attributes.end()) {
            return it->second;
        }
        const attribute_spec* a = find_attribute(name);
        if (a->required) {
            throw usage_error(m_spec.name + ": missing attribute '" + name + "' (--attr " + name + "=...)");
        }
        return a->default_value;
    }
    bool given(const std::string& name) const { return m_attributes.count(name) != 0; }
    // True when the attribute's value (given or default) is "none" (Python's None).
    bool is_none(const std::string& name) const;
    std::int64_t int_attr(const std::string& name) const;
    double float_attr(const std::string& name) const;
    bool bool_attr(const std::string& name) const;
    std::optional<std::int64_t> optional_int_attr(const std::string& name) const;
    std::optional<bool> optional_bool_attr(const std::string& name) const;
    // A tuple attribute "1,2,2"; a single value is repeated n times (as PyTorch's _ntuple does).
    std::vector<std::int64_t> ints_attr(const std::string& name, std::size_t n) const;
    // A list attribute of any length ("1,1,2,2" for pad): every value as written.
    std::vector<std::int64_t> int_list_attr(const std::string& name) const;
    std::vector<double> float_list_attr(const std::string& name) const;
    // A string attribute that must be one of `choices`.
    std::string choice_attr(const std::string& name, const std::vector<std::string>& choices) const;
    template <std::size_t N>
    std::array<index_t, N> ints_array(const std::string& name) const {
        const auto v = ints_attr(name, N);
        std::array<index_t, N> a{};
        std::copy(v.begin(), v.end(), a.begin());
        return a;
    }

    // Records an output; with gradients requested, the upstream gradient is applied later.
    template <class T, std::size_t R>
    void output(const std::string& name, const autograd::Variable<T, R>& v) {
        m_outputs.push_back({name, io::from_tensor(name, v.value()),
                             [v](const io::array_record& g) {
                                 if (!v.requires_grad()) {
                                     return;
                                 }
                                 v.backward(io::to_tensor<T, R>(g), true);
                             },
                             std::vector<index_t>(v.shape().begin(), v.shape().end())});
    }
    // Records an output computed on a reshaped view (see input_as), written with `shape`.
    template <class T, std::size_t R>
    void output_as(const std::string& name, const autograd::Variable<T, R>& v, std::vector<index_t> shape) {
        auto value = io::from_tensor(name, v.value());
        if (element_count(shape) != v.size()) {
            throw std::logic_error(m_spec.name + ": output '" + name + "' cannot be viewed as " +
                                   shape_to_string(shape));
        }
        value.shape = shape;
        m_outputs.push_back({name, std::move(value),
                             [v](const io::array_record& g) {
                                 if (!v.requires_grad()) {
                                     return;
                                 }
                                 io::array_record view = g;
                                 view.shape.assign(v.shape().begin(), v.shape().end());
                                 v.backward(io::to_tensor<T, R>(view), true);
                             },
                             std::move(shape)});
    }
    // A non-differentiable output (indices, updated running statistics, forward-only ops).
    template <class T, std::size_t R>
    void output(const std::string& name, const Tensor<T, R>& t) {
        m_outputs.push_back({name, io::from_tensor(name, t), nullptr, {t.shape().begin(), t.shape().end()}});
    }

    struct produced {
        std::string name;
        io::array_record value;
        std::function<void(const io::array_record&)> backward;
        std::vector<index_t> shape;
    };
    struct grad_source {
        std::string input;
        std::function<io::array_record()> grad;
        bool requires_grad;
    };
    std::vector<produced>& outputs() { return m_outputs; }
    std::vector<grad_source>& grad_sources() { return m_grad_sources; }

  private:
    static index_t element_count(const std::vector<index_t>& shape) {
        index_t n = 1;
        for (auto e : shape) {
            n *= e;
        }
        return n;
    }
    template <class T>
    void check_dtype(const std::string& name, const io::array_record& r) const {
        if (r.type != dtype_of_v<T>) {
            throw usage_error(m_spec.name + ": input '" + name + "' has dtype " +
                              std::string(dtype_name(r.type)) + ", expected " +
                              std::string(dtype_name(dtype_of_v<T>)));
        }
    }
    // The Variable of input `name` made from `r` (the input's record, possibly reshaped); its
    // gradient is reported with `shape`.
    template <class T, std::size_t R>
    autograd::Variable<T, R> variable(const std::string& name, const io::array_record& r,
                                      const std::vector<index_t>& shape) {
        auto it = m_variables.find(name);
        if (it == m_variables.end()) {
            const bool grad = m_gradients && find_input(name)->differentiable && std::is_floating_point_v<T>;
            autograd::Variable<T, R> v(io::to_tensor<T, R>(r), grad);
            m_grad_sources.push_back({name,
                                      [v, shape]() {
                                          auto g = io::from_tensor("", v.grad());
                                          g.shape = shape;
                                          return g;
                                      },
                                      grad});
            it = m_variables.emplace(name, std::make_shared<std::any>(v)).first;
        }
        const auto* v = std::any_cast<autograd::Variable<T, R>>(it->second.get());
        if (v == nullptr) {
            throw std::logic_error(m_spec.name + ": input '" + name + "' read with two different types");
        }
        return *v;
    }

    const io::array_record& record(const std::string& name) const {
        const auto it = m_inputs.find(name);
        if (it == m_inputs.end()) {
            throw usage_error(m_spec.name + ": missing input '" + name + "'");
        }
        return it->second;
    }
    const input_spec* find_input(const std::string& name) const {
        for (const auto& i : m_spec.inputs) {
            if (i.name == name) {
                return &i;
            }
        }
        return nullptr;
    }
    const attribute_spec* find_attribute(const std::string& name) const {
        for (const auto& a : m_spec.attributes) {
            if (a.name == name) {
                return &a;
            }
        }
        throw usage_error(m_spec.name + ": unknown attribute '" + name + "'");
    }

    const op_spec& m_spec;
    std::map<std::string, io::array_record> m_inputs;
    std::map<std::string, std::string> m_attributes;
    bool m_gradients;
    std::map<std::string, std::shared_ptr<std::any>> m_variables;
    std::vector<produced> m_outputs;
    std::vector<grad_source> m_grad_sources;
};

// Calls fn.template operator()<T>() with T = float or double, from the dtype of `input`.
template <class Fn>
void dispatch_float(op_context& c, const std::string& input, Fn&& fn) {
    switch (c.input_dtype(input)) {
    case dtype::f32:
        fn.template operator()<float>();
        return;
    case dtype::f64:
        fn.template operator()<double>();
        return;
    default:
        throw usage_error(c.spec().name + ": input '" + input + "' must be float32 or float64, got " +
                          std::string(dtype_name(c.input_dtype(input))));
    }
}

// Calls fn.template operator()<R>() with the input's rank, for ranks First..Last.
template <std::size_t First, std::size_t Last, class Fn>
void dispatch_rank(op_context& c, const std::string& input, Fn&& fn) {
    const std::size_t r = c.input_rank(input);
    bool done = false;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((r == First + I ? (fn.template operator()<First + I>(), done = true) : false), ...);
    }
    (std::make_index_sequence<Last - First + 1>{});
    if (!done) {
        throw usage_error(c.spec().name + ": input '" + input + "' has rank " + std::to_string(r) +
                          ", supported ranks are " + std::to_string(First) + " to " + std::to_string(Last));
    }
}

// The table: every family's translation unit appends its ops.
std::vector<op_spec>& op_table();

struct op_registration {
    explicit op_registration(std::vector<op_spec> specs) {
        for (auto& s : specs) {
            op_table().push_back(std::move(s));
        }
    }
};

} // namespace cinediff::tools
