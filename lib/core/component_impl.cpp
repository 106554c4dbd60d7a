// ComponentImpl: the owners made and wired, the loop owned or borrowed, the entries that are
// more than a forward.
#include "component_impl.hpp"

#include <algorithm>
#include <csignal>
#include <uv.h>

#include "ids.hpp"
#include "pcj/error.hpp"
#include "sasl.hpp"

namespace pcj::detail {

namespace {

// A write to a socket the peer has reset raises SIGPIPE, whose default action ends the process;
// libuv cannot ask the kernel not to (it writes with writev). A daemon whose server dies must
// get EPIPE instead: a component being made sets SIGPIPE to be ignored while it has its
// default action; a handler the application installed is left alone (doc/guide.md).
void ignore_default_sigpipe() {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGPIPE, &ignore, nullptr);
    }
}

// Config names only mechanisms pcj knows; whether this system's GNU SASL implements them is
// known here. A list none of whose mechanisms is available could never log in.
void check_sasl_available(const Config& config) {
    const auto type = *config.connection_type;
    if (config.sasl.mechanisms.empty() || type == ConnectionType::LEGACY ||
        type == ConnectionType::JABBERD14_COMPONENT) {
        return; // no SASL
    }
    const auto available = SaslClient::preference();
    for (const auto& mech : config.sasl.mechanisms) {
        if (std::find(available.begin(), available.end(), mech) != available.end()) {
            return;
        }
    }
    std::string list;
    for (const auto& mech : available) {
        list += (list.empty() ? "" : ", ") + mech;
    }
    throw ConfigError("sasl.mechanisms: this system's GNU SASL implements none of those listed "
                      "(it has " +
                      list + ")");
}

Config validated(Config config) {
    ignore_default_sigpipe();
    config.validate_and_complete();
    check_sasl_available(config);
    return config;
}

// A connection type whose module is missing is rejected now (ConfigError), not at connect().
Envelope envelope_of(const Config& config) {
    return Envelope(protocol_entry(*config.connection_type).unwrap);
}

} // namespace

// The component's own loop when the application lends none.
ComponentImpl::OwnLoop::OwnLoop(bool wanted) {
    if (!wanted) {
        return;
    }
    loop = new uv_loop_t;
    if (int rc = uv_loop_init(loop); rc != 0) {
        delete loop;
        loop = nullptr;
        throw Error(std::string("uv_loop_init: ") + uv_strerror(rc));
    }
}

ComponentImpl::OwnLoop::~OwnLoop() {
    if (loop != nullptr) {
        uv_run(loop, UV_RUN_DEFAULT); // the close callbacks of the owners' handles
        if (uv_loop_close(loop) == 0) {
            delete loop;
        }
    }
}

ComponentImpl::ComponentImpl(Config config, uv_loop_t* loop)
    : config_(validated(std::move(config))), id_(next_component_id()), owns_loop_(loop == nullptr),
      own_loop_(owns_loop_), loop_(owns_loop_ ? own_loop_.loop : loop),
      emitter_(events_, config_.alias), graveyard_(emitter_), records_(emitter_),
      tracker_(loop_, emitter_, graveyard_, config_.rts_timeout), session_(*this, *this),
      stack_(loop_, config_, emitter_, graveyard_, records_), sm_(loop_, config_, emitter_, stack_),
      outbox_(loop_, config_, emitter_, graveyard_, envelope_of(config_), stack_, tracker_,
              session_, lifecycle_),
      router_(
          config_, emitter_, envelope_of(config_),
          InboundRouter::Steps{records_, tracker_, session_, extensions_, filters_, lifecycle_}),
      lifecycle_(loop_, config_, emitter_, graveyard_,
                 ConnectionParts{stack_, records_, tracker_, outbox_, session_, sm_}) {
    stack_.set_listeners(lifecycle_, router_);
    // An idle connection keeps no memory for empty queues (lib/core/lazy_deque.hpp).
    stack_.set_quiet_hook([this] {
        outbox_.trim();
        sm_.trim();
    });
    wire_stream_management();
    door_ = std::make_unique<Door>(loop_, [this](std::vector<Door::Task>& tasks) {
        // One guard per task: a task that throws is logged, and the next ones still run.
        for (auto& task : tasks) {
            graveyard_.guarded("submitted task", [&task] { task(); });
        }
    });
}

ComponentImpl::~ComponentImpl() {
    // Close every handle first; with our own loop, let their close callbacks run and then
    // close the loop itself, which must have nothing left.
    stack_.release();
    sm_.release();
    graveyard_.free_all();
    lifecycle_.release();
    tracker_.release();
    outbox_.release();
    door_.reset();
    if (owns_loop_) {
        uv_run(loop_, UV_RUN_DEFAULT);
        if (uv_loop_close(loop_) != 0) {
            emitter_.log(LogLevel::error,
                         "the component's own loop still had open handles at destruction");
        } else {
            delete loop_;
        }
        own_loop_.loop = nullptr; // closed (or, with handles left, left alone) here
    }
}

// XEP-0198: the Outbox shows it every stanza written, the router every element received; it
// re-sends through the Outbox and gives back what a lost session left unacknowledged.
void ComponentImpl::wire_stream_management() {
    outbox_.set_stream_management(&sm_);
    router_.set_stream_management(&sm_);
    sm_.wire([this](const Node& node) { outbox_.write(node); },
             [this](std::vector<std::pair<Node, OutcomeHandler>> stanzas) {
                 outbox_.requeue_front(std::move(stanzas));
             });
}

void ComponentImpl::set_owner(Component* owner) {
    router_.set_owner(owner);
}

void ComponentImpl::output(Node node) {
    Graveyard::Scope scope(graveyard_);
    outbox_.output(std::move(node));
}

void ComponentImpl::output(Node node, OutcomeHandler on_outcome) {
    Graveyard::Scope scope(graveyard_);
    outbox_.output(std::move(node), std::move(on_outcome));
}

void ComponentImpl::purge_queue() {
    Graveyard::Scope scope(graveyard_);
    outbox_.purge();
}

std::string ComponentImpl::return_to_sender(Node node, PendingRequest request,
                                            std::chrono::milliseconds timeout) {
    Graveyard::Scope scope(graveyard_);
    return outbox_.return_to_sender(std::move(node), std::move(request), timeout);
}

void ComponentImpl::request(Node node, PendingRequest request) {
    return_to_sender(std::move(node), std::move(request), std::chrono::milliseconds(0));
}

} // namespace pcj::detail
