#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include <cinediff/autograd/variable.hpp>

// The module protocol.
//
// A module is a class (usually a class template over its element type and a configuration
// aggregate) that owns named parameters, buffers and child modules, and exposes them through one
// member template:
//
//     template <class Visitor>
//     void visit(Visitor& v) {
//         v.parameter("weight", weight);       // autograd::Variable<T, R> with requires_grad
//         v.parameter("bias", bias);
//         v.buffer("running_mean", running_mean);  // Tensor<T, R>: saved state, not trained
//         v.child("conv1", conv1);             // another module
//         v.training_flag(training);           // the module's train/eval switch
//     }
//
// Names are exactly the keys of the equivalent PyTorch/diffusers state_dict (children join with
// '.', list elements are children named "0", "1", ...), so a safetensors file saved by PyTorch
// loads with no renaming layer. Everything that walks a model — parameter lists for optimisers,
// state_dict save/load, train()/eval(), counting — is a visitor over this one method.
namespace cinediff::nn {

template <class T, std::size_t Rank>
using Parameter = autograd::Variable<T, Rank>;

// A trainable parameter of the given shape (zero-filled; initialise with nn/init.hpp).
template <class T, std::size_t Rank>
Parameter<T, Rank> make_parameter(const shape_t<Rank>& shape) {
    return Parameter<T, Rank>(Tensor<T, Rank>(shape), true);
}

namespace detail {

// The minimal visitor: what every module's visit() must accept.
struct archetype_visitor {
    template <class T, std::size_t R>
    void parameter(std::string_view, autograd::Variable<T, R>&) {}
    template <class T, std::size_t R>
    void buffer(std::string_view, Tensor<T, R>&) {}
    template <class M>
    void child(std::string_view, M&) {}
    void training_flag(bool&) {}
};

inline std::string join_name(const std::string& prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

// Recursively visits a module tree, giving full dotted names to a leaf-level callback object:
// fn.parameter(full_name, var), fn.buffer(full_name, tensor), fn.training_flag(flag).
template <class Fn>
class recursive_visitor {
  public:
    recursive_visitor(Fn& fn, std::string prefix) : m_fn(fn), m_prefix(std::move(prefix)) {}
    template <class T, std::size_t R>
    void parameter(std::string_view name, autograd::Variable<T, R>& p) {
        m_fn.parameter(join_name(m_prefix, name), p);
    }
    template <class T, std::size_t R>
    void buffer(std::string_view name, Tensor<T, R>& b) {
        m_fn.buffer(join_name(m_prefix, name), b);
    }
    template <class M>
    void child(std::string_view name, M& m) {
        recursive_visitor inner(m_fn, join_name(m_prefix, name));
        m.visit(inner);
    }
    void training_flag(bool& flag) { m_fn.training_flag(flag); }

  private:
    Fn& m_fn;
    std::string m_prefix;
};

} // namespace detail

template <class M>
concept module = requires(M& m, detail::archetype_visitor& v) {
    m.visit(v);
};

// Calls fn.parameter(name, var), fn.buffer(name, tensor) and fn.training_flag(flag) over the
// whole tree, with dotted names.
template <module M, class Fn>
void walk(M& m, Fn& fn, const std::string& prefix = "") {
    detail::recursive_visitor<Fn> v(fn, prefix);
    m.visit(v);
}

namespace detail {

// Adapts three callables (parameters, buffers, training flags) to the walk() protocol.
template <class OnParameter, class OnBuffer, class OnFlag>
struct callbacks {
    OnParameter on_parameter;
    OnBuffer on_buffer;
    OnFlag on_flag;
    template <class U, std::size_t R>
    void parameter(const std::string& name, autograd::Variable<U, R>& p) {
        on_parameter(name, p);
    }
    template <class U, std::size_t R>
    void buffer(const std::string& name, Tensor<U, R>& b) {
        on_buffer(name, b);
    }
    void training_flag(bool& f) { on_flag(f); }
};

struct ignore {
    template <class... A>
    void operator()(A&&...) const {}
};

} // namespace detail

// fn(full_name, variable) for every parameter of the tree.
template <module M, class Fn>
void for_each_parameter(M& m, Fn&& fn) {
    detail::callbacks<Fn&, detail::ignore, detail::ignore> c{fn, {}, {}};
    walk(m, c);
}
// fn(full_name, tensor) for every buffer of the tree.
template <module M, class Fn>
void for_each_buffer(M& m, Fn&& fn) {
    detail::callbacks<detail::ignore, Fn&, detail::ignore> c{{}, fn, {}};
    walk(m, c);
}
// fn(full_name, tensor) for every parameter value and buffer, in visiting order (state_dict order).
template <module M, class Fn>
void for_each_state(M& m, Fn&& fn) {
    auto on_parameter = [&](const std::string& name, auto& p) { fn(name, p.mutable_value()); };
    detail::callbacks<decltype(on_parameter)&, Fn&, detail::ignore> c{on_parameter, fn, {}};
    walk(m, c);
}

// A parameter as optimisers see it: its full name and rank-erased access to value and gradient.
template <class T>
struct named_parameter {
    std::string name;
    std::shared_ptr<autograd::typed_variable<T>> variable;
};

// Every parameter with element type T, in visiting order (the order of PyTorch's
// model.parameters() when modules visit in registration order).
template <class T, module M>
std::vector<named_parameter<T>> named_parameters(M& m) {
    std::vector<named_parameter<T>> out;
    for_each_parameter(m, [&]<class U, std::size_t R>(const std::string& name, autograd::Variable<U, R>& p) {
        if constexpr (std::is_same_v<U, T>) {
            out.push_back({name, p.data()});
        }
    });
    return out;
}

template <module M>
index_t parameter_count(M& m) {
    index_t n = 0;
    for_each_parameter(m, [&](const std::string&, const auto& p) { n += p.size(); });
    return n;
}

// train(m) / eval(m): switches dropout and batch norm behaviour everywhere in the tree.
template <module M>
void set_training(M& m, bool training) {
    auto on_flag = [training](bool& f) { f = training; };
    detail::callbacks<detail::ignore, detail::ignore, decltype(on_flag)> c{{}, {}, on_flag};
    walk(m, c);
}
template <module M>
void train(M& m) {
    set_training(m, true);
}
template <module M>
void eval(M& m) {
    set_training(m, false);
}

// Clears every parameter's gradient.
template <module M>
void zero_grad(M& m) {
    for_each_parameter(m, [](const std::string&, auto& p) { p.zero_grad(); });
}

// Freezes (or unfreezes) every parameter whose full name starts with `prefix` — how fine-tuning
// trains only selected modules (e.g. only the temporal layers of an inflated UNet). Returns how
// many parameters changed.
template <module M>
index_t set_requires_grad(M& m, bool requires_grad, std::string_view prefix = "") {
    index_t changed = 0;
    for_each_parameter(m, [&](const std::string& name, auto& p) {
        if (name.starts_with(prefix)) {
            p.set_requires_grad(requires_grad);
            ++changed;
        }
    });
    return changed;
}

} // namespace cinediff::nn
