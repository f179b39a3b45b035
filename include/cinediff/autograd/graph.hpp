#pragma once

#include <memory>
#include <stdexcept>
#include <unordered_set>
#include <vector>

// The recorded graph and the reverse-mode engine, independent of element types and ranks.
//
// Each differentiable value (variable_base) may point to the node that produced it (grad_fn).
// A node knows the values it read that need gradients (inputs) and, given the gradient of its
// output, adds the gradients of those inputs. backward() runs the nodes reachable from the root
// in reverse topological order, so a node runs only after every consumer of its output has added
// its contribution. One virtual call per node, never per element.
namespace cinediff::autograd {

class node;

class variable_base {
  public:
    variable_base() = default;
    variable_base(const variable_base&) = delete;
    variable_base& operator=(const variable_base&) = delete;
    virtual ~variable_base() = default;

    bool requires_grad = false;
    std::shared_ptr<node> grad_fn; // null for leaves
    bool is_leaf() const { return grad_fn == nullptr; }
    // Frees the gradient of an intermediate value once its producer has consumed it.
    virtual void release_grad() = 0;
};

class node {
  public:
    node() = default;
    node(const node&) = delete;
    node& operator=(const node&) = delete;
    virtual ~node() = default;

    // Reads the output's gradient and accumulates into the inputs' gradients.
    virtual void backward() = 0;
    // Drops saved tensors (after a backward pass that does not retain the graph).
    virtual void release() = 0;
    // Whether the saved tensors are still there.
    virtual bool released() const = 0;
    virtual const char* name() const = 0;

    std::vector<std::shared_ptr<variable_base>> inputs;
    variable_base* output = nullptr; // owns this node through grad_fn, so it outlives every call
};

// Runs backward from `root`, whose gradient the caller has already set.
inline void run_backward(variable_base& root, bool retain_graph) {
    if (!root.grad_fn) {
        return;
    }
    // Iterative depth-first post-order: every node after all nodes that consume its output.
    std::vector<node*> order;
    std::unordered_set<node*> visited;
    std::vector<std::pair<node*, std::size_t>> stack{{root.grad_fn.get(), 0}};
    visited.insert(root.grad_fn.get());
    while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next < n->inputs.size()) {
            node* child = n->inputs[next++]->grad_fn.get();
            if (child != nullptr && visited.insert(child).second) {
                stack.emplace_back(child, 0);
            }
        } else {
            order.push_back(n);
            stack.pop_back();
        }
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        node* n = *it;
        if (n->released()) {
            throw std::logic_error(std::string("backward: the graph through '") + n->name() +
                                   "' was already freed by an earlier backward(); pass retain_graph = true "
                                   "to the first call to run backward twice");
        }
        n->backward();
        if (!retain_graph) {
            n->release();
        }
        if (n->output != &root && !n->output->is_leaf()) {
            n->output->release_grad();
        }
    }
    // Like PyTorch, an intermediate result keeps no gradient after backward (a leaf's accumulates).
    root.release_grad();
}

} // namespace cinediff::autograd
