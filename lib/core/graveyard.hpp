// Graveyard: where objects retired in the middle of a call wait until the call is over.
//
// libuv's closing-handles model: a protocol module, its HostLink or a TLS session may be retired
// (a reconnect, the end of a connection) from inside one of its own callbacks. It is buried here
// and freed only when the outermost entry into the component (a libuv or libxml2 callback, or a
// public call) returns, so nothing is destroyed under its own feet.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "emitter.hpp"

namespace pcj::detail {

class Graveyard {
public:
    explicit Graveyard(const Emitter& log) : log_(log) {}
    Graveyard(const Graveyard&) = delete;
    Graveyard& operator=(const Graveyard&) = delete;
    ~Graveyard() { free_all(); }

    // One entry into the component; the outermost one frees what was buried meanwhile.
    class Scope {
    public:
        explicit Scope(Graveyard& graveyard) : graveyard_(graveyard) { ++graveyard_.depth_; }
        ~Scope() {
            if (--graveyard_.depth_ == 0) {
                graveyard_.free_all();
            }
        }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        Graveyard& graveyard_;
    };

    // Freed by collect() outside any entry, else when the outermost one returns; in reverse
    // order of burial (bury a module's HostLink before the module, so the module goes first).
    template <typename T> void bury(std::unique_ptr<T> object) {
        if (object) {
            buried_.push_back(std::shared_ptr<void>(std::move(object)));
        }
    }
    // After a burial: frees at once when no entry is running.
    void collect() {
        if (depth_ == 0) {
            free_all();
        }
    }

    // An entry from a libuv or libxml2 callback: one Scope, and nothing may propagate into C.
    template <typename F> void guarded(const char* where, F&& body) {
        try {
            Scope scope(*this);
            body();
        } catch (const std::exception& e) {
            log_.log(LogLevel::error,
                     std::string("exception escaped a handler in ") + where + ": " + e.what());
        } catch (...) {
            log_.log(LogLevel::error,
                     std::string("unknown exception escaped a handler in ") + where);
        }
    }

    void free_all() {
        while (!buried_.empty()) {
            std::shared_ptr<void> last = std::move(buried_.back());
            buried_.pop_back();
            last.reset();
        }
    }

private:
    const Emitter& log_;
    std::vector<std::shared_ptr<void>> buried_;
    int depth_ = 0;
};

} // namespace pcj::detail
