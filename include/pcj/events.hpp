// The status events (PCJ's 28 constants) and the payload every event carries.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace pcj {

class Node;

// PCJ's status events. The string value is the name to subscribe to; it equals the constant's
// name (PCJ spelled PCJ_STREAMSTART's value "PCJ_STEAMSTART"; pcj does not).
namespace ev {
inline constexpr std::string_view CONNECT = "PCJ_CONNECT";
inline constexpr std::string_view CONNECTING = "PCJ_CONNECTING";
inline constexpr std::string_view CONNECTED = "PCJ_CONNECTED";
inline constexpr std::string_view CONNECTFAIL = "PCJ_CONNECTFAIL";
inline constexpr std::string_view STREAMSTART = "PCJ_STREAMSTART";
inline constexpr std::string_view STREAMEND = "PCJ_STREAMEND";
inline constexpr std::string_view NODESENT = "PCJ_NODESENT";
inline constexpr std::string_view NODERECEIVED = "PCJ_NODERECEIVED";
inline constexpr std::string_view NODEQUEUED = "PCJ_NODEQUEUED";
inline constexpr std::string_view SSLNEGOTIATE = "PCJ_SSLNEGOTIATE";
inline constexpr std::string_view SSLSUCCESS = "PCJ_SSLSUCCESS";
inline constexpr std::string_view SSLFAIL = "PCJ_SSLFAIL";
inline constexpr std::string_view AUTHNEGOTIATE = "PCJ_AUTHNEGOTIATE";
inline constexpr std::string_view AUTHSUCCESS = "PCJ_AUTHSUCCESS";
inline constexpr std::string_view AUTHFAIL = "PCJ_AUTHFAIL";
inline constexpr std::string_view BINDNEGOTIATE = "PCJ_BINDNEGOTIATE";
inline constexpr std::string_view BINDSUCCESS = "PCJ_BINDSUCCESS";
inline constexpr std::string_view BINDFAIL = "PCJ_BINDFAIL";
inline constexpr std::string_view SESSIONNEGOTIATE = "PCJ_SESSIONNEGOTIATE";
inline constexpr std::string_view SESSIONSUCCESS = "PCJ_SESSIONSUCCESS";
inline constexpr std::string_view SESSIONFAIL = "PCJ_SESSIONFAIL";
inline constexpr std::string_view RTS_START = "PCJ_RTS_START";
inline constexpr std::string_view RTS_FINISH = "PCJ_RTS_FINISH";
inline constexpr std::string_view READY = "PCJ_READY";
inline constexpr std::string_view SHUTDOWN_START = "PCJ_SHUTDOWN_START";
inline constexpr std::string_view SHUTDOWN_FINISH = "PCJ_SHUTDOWN_FINISH";
inline constexpr std::string_view SOCKETFAIL = "PCJ_SOCKETFAIL";
inline constexpr std::string_view SOCKETDISCONNECT = "PCJ_SOCKETDISCONNECT";

inline constexpr std::array<std::string_view, 28> all = {
    CONNECT,          CONNECTING,      CONNECTED,   CONNECTFAIL,     STREAMSTART, STREAMEND,
    NODESENT,         NODERECEIVED,    NODEQUEUED,  SSLNEGOTIATE,    SSLSUCCESS,  SSLFAIL,
    AUTHNEGOTIATE,    AUTHSUCCESS,     AUTHFAIL,    BINDNEGOTIATE,   BINDSUCCESS, BINDFAIL,
    SESSIONNEGOTIATE, SESSIONSUCCESS,  SESSIONFAIL, RTS_START,       RTS_FINISH,  READY,
    SHUTDOWN_START,   SHUTDOWN_FINISH, SOCKETFAIL,  SOCKETDISCONNECT};
} // namespace ev

// Why something failed. Every failure event carries one.
struct Reason {
    std::string op; // what failed: "connect", "read", "write", "resolve", "handshake", "xml", …
    int code = 0;   // errno / libuv error / protocol code (0 when there is none)
    std::string condition; // the protocol's condition: "not-authorized", "conflict", "409", …
    std::string text;      // for a person to read

    std::string to_string() const;
};

// What a subscriber receives. Pointers and spans are valid for the duration of the call only;
// copy what must outlive it.
struct Event {
    std::string_view name;
    const Node* node = nullptr;     // the node concerned: stanza, stream header, RTS reply
    const Reason* reason = nullptr; // set on failure events
    std::string_view xpath;         // filter events: the expression that matched
    std::span<const Node> matches;  // filter events: the nodes the expression selected
};

} // namespace pcj
