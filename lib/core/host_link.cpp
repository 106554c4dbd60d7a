// HostLink: a protocol module's calls, forwarded to the owner of each while its connection lasts.
#include "host_link.hpp"

#include <memory>

#include <uv.h>

#include "lifecycle.hpp"
#include "outbox.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "stream_stack.hpp"

namespace pcj::detail {

void HostLink::send_stream_header() {
    if (active_) {
        lifecycle_.send_stream_header();
    }
}

void HostLink::send(const Node& node) {
    if (active_) {
        parts_.outbox.write(node);
    }
}

std::string HostLink::request(Node node, Handler on_reply) {
    return active_ ? parts_.outbox.request(std::move(node), std::move(on_reply)) : std::string();
}

void HostLink::emit(std::string_view event, const Reason* reason, const Node* node) {
    if (active_) {
        if (event == ev::AUTHSUCCESS) {
            parts_.session.on_authenticated();
        }
        emitter_.emit(event, reason, node);
    }
}

void HostLink::emit(std::string_view event, const Payload& payload, const Node* node,
                    const Reason* reason) {
    if (active_) {
        emitter_.emit(event, payload, node, reason);
    }
}

bool HostLink::wanted(std::string_view event) const {
    return active_ && emitter_.wanted(event);
}

void HostLink::set_jid(std::string jid) {
    if (active_) {
        lifecycle_.set_jid(std::move(jid));
        parts_.session.on_bound(lifecycle_.jid());
    }
}

void HostLink::start_tls() {
    if (active_) {
        parts_.stack.start_tls();
    }
}

bool HostLink::encrypted() const {
    return active_ && parts_.stack.encrypted();
}

std::pair<std::string, std::string> HostLink::channel_binding() const {
    return active_ ? parts_.stack.channel_binding() : std::pair<std::string, std::string>();
}

void HostLink::ready() {
    if (active_) {
        lifecycle_.become_ready();
    }
}

void HostLink::fail(std::string_view event, Reason reason) {
    if (active_) {
        lifecycle_.fail(event, std::move(reason));
    }
}

void HostLink::log(LogLevel level, std::string_view line) {
    emitter_.log(level, line);
}

namespace {

// One job on libuv's threadpool; owned by its request until the after-work callback.
struct OffLoopJob {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void()> done;
};

} // namespace

void HostLink::run_off_loop(std::function<void()> work, std::function<void()> done) {
    if (!active_) {
        return;
    }
    auto job = std::make_unique<OffLoopJob>();
    job->work = std::move(work);
    job->done = std::move(done);
    job->req.data = job.get();
    const int rc = uv_queue_work(
        parts_.stack.loop(), &job->req,
        [](uv_work_t* req) { static_cast<OffLoopJob*>(req->data)->work(); },
        [](uv_work_t* req, int) {
            const std::unique_ptr<OffLoopJob> owned(static_cast<OffLoopJob*>(req->data));
            try {
                owned->done(); // checks itself whether its connection still exists
            } catch (...) {
                // Nothing may unwind through libuv; the negotiation timeout still runs.
            }
        });
    if (rc != 0) {
        job->work(); // no threadpool: in place, as without a loop
        job->done();
        return;
    }
    static_cast<void>(job.release());
}

StreamManagementHost* HostLink::stream_management() {
    return active_ ? &parts_.sm : nullptr;
}

} // namespace pcj::detail
