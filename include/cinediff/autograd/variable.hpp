#pragma once

#include <algorithm>
#include <optional>
#include <utility>

#include <cinediff/autograd/grad_mode.hpp>
#include <cinediff/autograd/graph.hpp>
#include <cinediff/tensor/reduce.hpp>

namespace cinediff::autograd {

// Element-typed, rank-erased access to a variable: what optimisers, state_dict loading and
// checkpoints need (one virtual call per parameter, never per element).
template <class T>
class typed_variable : public variable_base {
  public:
    virtual std::span<T> value_span() = 0;
    virtual std::vector<index_t> shape_vector() const = 0;
    // The gradient's elements, or an empty span when no gradient has flowed in.
    virtual std::span<T> grad_span() = 0;
};

template <class T, std::size_t Rank>
class variable_data final : public typed_variable<T> {
  public:
    explicit variable_data(Tensor<T, Rank> v) : value(std::move(v)) {}

    std::span<T> value_span() override { return value.span(); }
    std::vector<index_t> shape_vector() const override {
        return {value.shape().begin(), value.shape().end()};
    }
    std::span<T> grad_span() override { return grad ? grad->span() : std::span<T>(); }

    Tensor<T, Rank> value;
    std::optional<Tensor<T, Rank>> grad; // absent until something flows into it

    // Adds an expression (of the value's shape, or broadcastable to it) to the gradient.
    template <class E>
    void accumulate(const E& e) {
        if (!grad) {
            grad.emplace(value.shape());
            assign(grad->view(), e);
        } else {
            assign(grad->view(), *grad + e);
        }
    }
    void release_grad() override { grad.reset(); }
};

// A differentiable tensor: a value, an optional gradient, and the operation that produced it.
// Copies share the same value and gradient (it is a handle, like torch.Tensor); detach() gives a
// handle to the same value without history.
template <class T, std::size_t Rank>
class Variable {
  public:
    using value_type = T;
    static constexpr std::size_t rank = Rank;

    Variable() : m_data(std::make_shared<variable_data<T, Rank>>(Tensor<T, Rank>())) {}
    explicit Variable(Tensor<T, Rank> value, bool requires_grad = false)
        : m_data(std::make_shared<variable_data<T, Rank>>(std::move(value))) {
        m_data->requires_grad = requires_grad;
    }

    // Evaluates a differentiable expression (autograd/expression.hpp) into a new Variable.
    template <class E>
    requires requires(const E& e) {
        { e.as_variable() } -> std::same_as<Variable>;
    }
    Variable(const E& e) // NOLINT(google-explicit-constructor): `Variable<float, 2> y = a * b;`
        : Variable(e.as_variable()) {}

    const Tensor<T, Rank>& value() const { return m_data->value; }
    // Mutable access for in-place updates of parameters (optimisers, loading weights). Changing a
    // value that a recorded graph saved makes that graph's gradients wrong, as in PyTorch.
    Tensor<T, Rank>& mutable_value() { return m_data->value; }
    const shape_t<Rank>& shape() const { return m_data->value.shape(); }
    index_t shape(std::size_t axis) const { return m_data->value.shape(axis); }
    index_t size() const { return m_data->value.size(); }

    bool requires_grad() const { return m_data->requires_grad; }
    Variable& set_requires_grad(bool r) {
        if (!is_leaf()) {
            throw std::logic_error("set_requires_grad: only leaf variables can change requires_grad");
        }
        m_data->requires_grad = r;
        return *this;
    }
    bool is_leaf() const { return m_data->is_leaf(); }
    bool has_grad() const { return m_data->grad.has_value(); }
    // The accumulated gradient; zeros of the value's shape if nothing has flowed in yet.
    const Tensor<T, Rank>& grad() const {
        if (!m_data->grad) {
            m_data->grad.emplace(shape());
        }
        return *m_data->grad;
    }
    void zero_grad() { m_data->grad.reset(); }
    const char* grad_fn_name() const { return m_data->grad_fn ? m_data->grad_fn->name() : ""; }

    // A handle to the same value, cut from the graph and not requiring gradients.
    Variable detach() const {
        Variable v;
        v.m_data = std::make_shared<variable_data<T, Rank>>(Tensor<T, Rank>());
        v.m_data->value = Tensor<T, Rank>(m_data->value); // own copy: later in-place updates stay separate
        return v;
    }

    // Reverse-mode differentiation from this value with output gradient `grad_output`.
    void backward(const Tensor<T, Rank>& grad_output, bool retain_graph = false) const {
        if (!requires_grad()) {
            throw std::logic_error("backward: the variable does not require grad and has no grad_fn");
        }
        if (grad_output.shape() != shape()) {
            throw shape_error("backward: grad_output of shape " + shape_to_string(grad_output.shape()) +
                              " for a value of shape " + shape_to_string(shape()));
        }
        m_data->accumulate(grad_output);
        run_backward(*m_data, retain_graph);
    }
    // From a single-element value (a loss): seeds the gradient with 1.
    void backward(bool retain_graph = false) const {
        if (size() != 1) {
            throw shape_error(
                "backward: grad can be implicitly created only for one-element outputs; this one has shape " +
                shape_to_string(shape()));
        }
        backward(Tensor<T, Rank>(shape(), T(1)), retain_graph);
    }

    // The gradient tensor itself, zero-filled when nothing has flowed in yet: for backward functions
    // that add into part of it (split, index_select, gather) instead of the whole.
    Tensor<T, Rank>& grad_accumulator() const {
        if (!m_data->grad) {
            m_data->grad.emplace(shape());
        }
        return *m_data->grad;
    }

    // Adds to the gradient (used by operations' backward functions).
    template <class E>
    void accumulate_grad(const E& e) const {
        m_data->accumulate(e);
    }
    const std::shared_ptr<variable_data<T, Rank>>& data() const { return m_data; }

  private:
    std::shared_ptr<variable_data<T, Rank>> m_data;
};

namespace detail {

template <class Backward>
class lambda_node final : public node {
  public:
    lambda_node(const char* n, Backward b) : m_name(n), m_backward(std::move(b)) {}
    void backward() override { (*m_backward)(); }
    void release() override { m_backward.reset(); }
    bool released() const override { return !m_backward.has_value(); }
    const char* name() const override { return m_name; }

  private:
    const char* m_name;
    std::optional<Backward> m_backward;
};

template <class V>
void collect_input(std::vector<std::shared_ptr<variable_base>>& inputs, const V& v) {
    if (v.requires_grad()) {
        inputs.push_back(v.data());
    }
}

} // namespace detail

namespace detail {

// Creates the graph node of an operation whose inputs were gathered by `collect`.
template <class T, std::size_t Rank, class Backward, class Collect>
Variable<T, Rank> attach(const char* name, Tensor<T, Rank> value, Backward&& backward,
                         bool any_input_requires_grad, Collect&& collect) {
    Variable<T, Rank> out(std::move(value));
    if (!is_grad_enabled() || !any_input_requires_grad) {
        return out;
    }
    variable_data<T, Rank>* out_data = out.data().get();
    auto call = [out_data, b = std::forward<Backward>(backward)]() {
        if (out_data->grad) { // no consumer contributed: the gradient is zero and there is nothing to add
            b(out_data->value, *out_data->grad);
        }
    };
    auto n = std::make_shared<lambda_node<decltype(call)>>(name, std::move(call));
    collect(n->inputs);
    n->output = out_data;
    out_data->requires_grad = true;
    out_data->grad_fn = std::move(n);
    return out;
}

} // namespace detail

// Records an operation. `backward(y, grad_output)` is called with the result's value and gradient
// and must call accumulate_grad on the inputs that require it. Nothing is recorded (and nothing
// the lambda captured is kept) when grad mode is off or no input requires a gradient.
//
//     auto y = record("exp", eval(exp(x.value())), [x](const auto& y, const auto& gy) {
//         x.accumulate_grad(gy * y);
//     }, x);
template <class T, std::size_t Rank, class Backward, class... Inputs>
Variable<T, Rank> record(const char* name, Tensor<T, Rank> value, Backward&& backward,
                         const Inputs&... inputs) {
    return detail::attach(name, std::move(value), std::forward<Backward>(backward),
                          (inputs.requires_grad() || ...),
                          [&](auto& list) { (detail::collect_input(list, inputs), ...); });
}

// The same for a runtime list of inputs (cat, stack).
template <class T, std::size_t Rank, class Backward, class V>
Variable<T, Rank> record(const char* name, Tensor<T, Rank> value, Backward&& backward,
                         const std::vector<V>& inputs) {
    const bool any = std::any_of(inputs.begin(), inputs.end(), [](const V& v) { return v.requires_grad(); });
    return detail::attach(name, std::move(value), std::forward<Backward>(backward), any, [&](auto& list) {
        for (const auto& v : inputs) {
            detail::collect_input(list, v);
        }
    });
}

// Sums a gradient over the axes that broadcasting expanded, giving the input's shape.
template <class T, std::size_t R, std::size_t InRank>
Tensor<T, InRank> sum_to_shape(const Tensor<T, R>& g, const shape_t<InRank>& shape) {
    static_assert(InRank <= R);
    if constexpr (InRank == R) {
        if (g.shape() == shape) {
            return g;
        }
    }
    Tensor<T, InRank> out(shape);
    // Accumulate in double for floats, deterministically, via a reduction over a broadcast view.
    const auto target = out.view().template broadcast_to<R>(g.shape());
    std::array<bool, R> reduced{};
    for (std::size_t d = 0; d < R; ++d) {
        reduced[d] = target.strides()[d] == 0 && g.shape(d) != 1;
    }
    // Output element o of `out` is the sum over the reduced axes of g.
    cinediff::detail::for_each_reduction(TensorView<const T, R>(g.view()), reduced,
                                         [&](index_t o, auto& visit, index_t) {
                                             double acc = 0;
                                             visit([&](T x) { acc += static_cast<double>(x); });
                                             out.data()[o] = static_cast<T>(acc);
                                         });
    return out;
}

} // namespace cinediff::autograd
