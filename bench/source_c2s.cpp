// source_c2s: a client-to-server sink for the benchmarks of what acks cost (bench/acks.sh).
//
// The login, in the order RFC 6120 gives it but without TLS, since the benchmark measures the
// send path and TLS would only add the same cost to every row:
//   header in, header out with features offering SASL PLAIN; <auth/> in, the password checked,
//   <success/> out; the restarted header in, header out with features offering bind and — with
//   --sm — <sm xmlns='urn:xmpp:sm:3'/>; the bind <iq/> in, its result out (no session).
// Then the sink: every <message/>, <iq/> and <presence/> is counted; <enable/> is answered with
// <enabled/> (or <failed/> when stream management was not offered); each <r/> with
// <a h='N'/>, N the stanzas received since <enable/> and before that <r/> (XEP-0198 §4), in
// stream order, wherever the reads split the bytes. The client's </stream:stream> is answered
// with ours.
#include "source_c2s.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

#include <gnutls/gnutls.h>

namespace bench {

namespace {

constexpr std::string_view sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";

// The start tags the sink acts on, by the name after '<'.
enum class Tag { incomplete, other, message, iq, presence, enable, r, stream_end };

struct Name {
    std::string_view text;
    Tag tag;
};
constexpr std::array<Name, 6> names = {{{"message", Tag::message},
                                        {"iq", Tag::iq},
                                        {"presence", Tag::presence},
                                        {"enable", Tag::enable},
                                        {"r", Tag::r},
                                        {"/stream:stream", Tag::stream_end}}};

bool ends_name(char c) {
    return c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\r' || c == '\n';
}

// What the bytes after a '<' start; `incomplete` when more bytes could still make a match.
Tag classify(std::string_view rest) {
    bool could_be = false;
    for (const Name& n : names) {
        if (rest.size() > n.text.size()) {
            if (rest.substr(0, n.text.size()) == n.text && ends_name(rest[n.text.size()])) {
                return n.tag;
            }
        } else if (n.text.substr(0, rest.size()) == rest) {
            could_be = true;
        }
    }
    return could_be ? Tag::incomplete : Tag::other;
}

// The counting phase: tags in stream order, replies appended to the output queue.
class Sink {
public:
    Sink(Output& out, bool offer_sm) : out_(out), offer_sm_(offer_sm) {}

    void feed(std::string_view chunk) {
        bytes_ += chunk.size();
        pending_.append(chunk);
        std::size_t at = 0;
        for (;;) {
            const std::size_t lt = pending_.find('<', at);
            if (lt == std::string::npos) {
                at = pending_.size();
                break;
            }
            const Tag tag = classify(std::string_view(pending_).substr(lt + 1));
            if (tag == Tag::incomplete) {
                at = lt; // the rest of the name is in the next read
                break;
            }
            handle(tag);
            at = lt + 1;
        }
        pending_.erase(0, at);
    }

    bool ended() const { return ended_; }

    Result result() const {
        Result r;
        r.stanzas = stanzas_;
        r.messages = messages_;
        r.bytes = bytes_;
        r.extra = " sm=" + std::string(enabled_ ? "on" : "off") +
                  " requests=" + std::to_string(requests_) + " last_h=" + std::to_string(last_h_);
        return r;
    }

private:
    void handle(Tag tag) {
        switch (tag) {
        case Tag::message:
            ++messages_;
            [[fallthrough]];
        case Tag::iq:
        case Tag::presence:
            ++stanzas_;
            ++handled_;
            break;
        case Tag::enable:
            enable();
            break;
        case Tag::r:
            if (enabled_) {
                ++requests_;
                last_h_ = static_cast<std::uint32_t>(handled_); // h is modulo 2^32
                out_.queue += "<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(last_h_) + "'/>";
            }
            break;
        case Tag::stream_end:
            ended_ = true;
            break;
        default:
            break;
        }
    }

    void enable() {
        if (!offer_sm_ || enabled_) {
            out_.queue += "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
            return;
        }
        enabled_ = true;
        handled_ = 0; // XEP-0198 counts from <enable/>
        out_.queue += "<enabled xmlns='urn:xmpp:sm:3' id='bench-sm'/>";
    }

    Output& out_;
    bool offer_sm_;
    std::string pending_;
    std::size_t bytes_ = 0;
    std::size_t stanzas_ = 0;
    std::size_t messages_ = 0;
    std::size_t handled_ = 0;
    std::size_t requests_ = 0;
    std::uint32_t last_h_ = 0;
    bool enabled_ = false;
    bool ended_ = false;
};

// The login's input: everything read, and how far the login has looked at it.
struct Login {
    Peer& peer;
    double deadline;
    std::string in;
    std::size_t pos = 0;

    // Writes `text`, reads until `pattern` appears after pos; returns where it starts.
    std::size_t exchange(const std::string& text, std::string_view pattern) {
        Output out;
        out.queue = text;
        const auto seen = [&] {
            return in.find(pattern, pos) != std::string::npos;
        };
        run_io(peer, out, seen, deadline);
        if (!seen()) {
            die("the client closed during the login, waiting for " + std::string(pattern));
        }
        return in.find(pattern, pos);
    }

    // Reads a stream header (after pos); pos moves past it.
    void header(const std::string& before) {
        pos = exchange(before, "stream:stream");
        pos = exchange("", ">") + 1;
    }
};

std::string stream_header(const std::string& domain) {
    std::random_device rd;
    char id[17];
    std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
    return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' id='" +
           std::string(id) + "' from='" + domain + "' version='1.0' xml:lang='en'>";
}

// The text between the start tag that begins at `open` and `close`.
std::string element_text(const std::string& in, std::size_t open, std::size_t close) {
    const std::size_t gt = in.find('>', open);
    return gt == std::string::npos || gt > close
               ? std::string()
               : trim(std::string_view(in).substr(gt + 1, close - gt - 1));
}

// SASL PLAIN (RFC 4616): authzid NUL authcid NUL password; returns authcid when the password
// is right, dies otherwise.
std::string check_plain(Login& login, const std::string& b64, const std::string& password) {
    gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(b64.data())),
                      static_cast<unsigned>(b64.size())};
    gnutls_datum_t out{};
    if (gnutls_base64_decode2(&in, &out) != 0) {
        die("SASL PLAIN: not base64: " + b64);
    }
    const std::string plain(reinterpret_cast<char*>(out.data), out.size);
    gnutls_free(out.data);
    const std::size_t first = plain.find('\0');
    const std::size_t second = first == std::string::npos ? first : plain.find('\0', first + 1);
    if (second == std::string::npos || plain.substr(second + 1) != password) {
        Output refuse;
        refuse.queue = "<failure xmlns='" + std::string(sasl_ns) +
                       "'><not-authorized/></failure></stream:stream>";
        run_io(
            login.peer, refuse, [] { return true; }, login.deadline);
        die("SASL PLAIN: wrong password");
    }
    return plain.substr(first + 1, second - first - 1);
}

// The value of attribute `name` in the start tag beginning at `open`, or "".
std::string attribute(const std::string& in, std::size_t open, std::string_view name) {
    const std::size_t gt = in.find('>', open);
    const std::string_view tag = std::string_view(in).substr(open, gt - open);
    const std::size_t at = tag.find(" " + std::string(name) + "=");
    if (at == std::string_view::npos || at + name.size() + 3 > tag.size()) {
        return {};
    }
    const char quote = tag[at + name.size() + 2];
    const std::size_t end = tag.find(quote, at + name.size() + 3);
    return end == std::string_view::npos
               ? std::string()
               : std::string(tag.substr(at + name.size() + 3, end - at - name.size() - 3));
}

// The login; returns the bytes read after the bind request (the client may already be sending).
std::string log_in(Peer& peer, const C2sOptions& o, double deadline) {
    Login login{peer, deadline, {}, 0};
    peer.on_input = [&login](std::string_view chunk) {
        login.in.append(chunk);
    };
    login.header("");
    const std::size_t auth_end = login.exchange(
        stream_header(o.domain) + "<stream:features><mechanisms xmlns='" + std::string(sasl_ns) +
            "'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        "</auth>");
    const std::size_t auth = login.in.find("<auth", login.pos);
    const std::string user = check_plain(login, element_text(login.in, auth, auth_end), o.password);
    login.pos = auth_end;
    login.header("<success xmlns='" + std::string(sasl_ns) + "'/>");
    const std::string sm = o.offer_sm ? "<sm xmlns='urn:xmpp:sm:3'/>" : "";
    const std::size_t iq_end =
        login.exchange(stream_header(o.domain) +
                           "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>" +
                           sm + "</stream:features>",
                       "</iq>");
    const std::size_t iq = login.in.rfind("<iq", iq_end);
    const std::size_t res = login.in.find("<resource>", iq);
    const std::size_t res_end = login.in.find("</resource>", iq);
    const std::string resource = res < iq_end && res_end < iq_end
                                     ? element_text(login.in, res, res_end)
                                     : std::string("bench");
    Output bound;
    bound.queue = "<iq type='result' id='" + attribute(login.in, iq, "id") +
                  "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + user + "@" + o.domain +
                  "/" + resource + "</jid></bind></iq>";
    run_io(
        peer, bound, [] { return true; }, deadline);
    return login.in.substr(iq_end + std::string_view("</iq>").size());
}

} // namespace

Result run_c2s(Peer& peer, const C2sOptions& o, double deadline) {
    const std::string early = log_in(peer, o, deadline);
    Output out;
    Sink sink(out, o.offer_sm);
    const double t0 = now();
    sink.feed(early);
    peer.on_input = [&sink](std::string_view chunk) {
        sink.feed(chunk);
    };
    run_io(
        peer, out, [&sink] { return sink.ended(); }, deadline);
    const double t1 = now();
    out.queue += "</stream:stream>";
    run_io(
        peer, out, [] { return true; }, deadline);
    Result r = sink.result();
    r.seconds = t1 - t0;
    return r;
}

} // namespace bench
