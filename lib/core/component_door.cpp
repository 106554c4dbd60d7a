// Component's thread-safe submit() and post(), through the component's Door.
#include "component_impl.hpp"
#include "pcj/component.hpp"

namespace pcj {

void Component::submit(Node node) {
    // The node is moved into the task: nothing of the caller's is touched on the loop thread.
    impl_->door().push(
        [impl = impl_.get(), n = std::move(node)]() mutable { impl->output(std::move(n)); });
}

void Component::post(std::function<void(Component&)> task) {
    impl_->door().push([this, t = std::move(task)] { t(*this); });
}

} // namespace pcj
