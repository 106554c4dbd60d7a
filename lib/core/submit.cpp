// Component's thread-safe submit() and post(): tasks handed to the component's Door, run on the
// loop thread as one entry each.
#include "component_impl.hpp"
#include "pcj/component.hpp"

namespace pcj {

namespace detail {

void ComponentImpl::submit(Node node) {
    // The node is moved into the task: nothing of the caller's is touched on the loop thread.
    door_->push([this, n = std::move(node)]() mutable { output(std::move(n)); });
}

void ComponentImpl::post(Door::Task task) {
    door_->push(std::move(task));
}

} // namespace detail

void Component::submit(Node node) {
    impl_->submit(std::move(node));
}

void Component::post(std::function<void(Component&)> task) {
    impl_->post([this, t = std::move(task)] { t(*this); });
}

} // namespace pcj
