// LazyDeque: a std::deque that holds no memory until something is put in it, and gives its
// memory back on release_if_empty().
//
// libstdc++'s std::deque allocates its map and a first 512-byte block as soon as it is
// constructed, and keeps them when emptied. A connection has five queues (the transport's dial
// candidates, the output queue and its slots, stream management's unacknowledged stanzas, the
// duplicate window) that an idle connection leaves empty: ≈ 2.9 KB per connection held for
// nothing. Only the operations they use are forwarded; view() and get() give the deque itself
// for the rest.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace pcj::detail {

template <class T> class LazyDeque {
public:
    bool empty() const { return !d_ || d_->empty(); }
    // Whether the deque is allocated (a default-constructed std::deque holds ≈ 576 bytes).
    bool holds_memory() const { return d_ != nullptr; }
    std::size_t size() const { return d_ ? d_->size() : 0; }

    // Only when not empty, as with std::deque.
    T& front() { return d_->front(); }
    const T& front() const { return d_->front(); }
    T& operator[](std::size_t i) { return (*d_)[i]; }
    void pop_front() { d_->pop_front(); }

    void push_back(T value) { get().push_back(std::move(value)); }
    void push_front(T value) { get().push_front(std::move(value)); }
    void clear() { d_.reset(); }
    // Frees the deque's memory when it holds nothing (the quiet timer of an idle connection).
    void release_if_empty() {
        if (d_ && d_->empty()) {
            d_.reset();
        }
    }
    // Everything, leaving this empty (and holding no memory).
    std::deque<T> take() {
        std::deque<T> out;
        if (d_) {
            out.swap(*d_);
            d_.reset();
        }
        return out;
    }

    // The deque, made if need be.
    std::deque<T>& get() {
        if (!d_) {
            d_ = std::make_unique<std::deque<T>>();
        }
        return *d_;
    }
    // The deque to read; an empty one shared by all when nothing was ever put in.
    const std::deque<T>& view() const {
        static const std::deque<T> none;
        return d_ ? *d_ : none;
    }

private:
    std::unique_ptr<std::deque<T>> d_;
};

} // namespace pcj::detail
