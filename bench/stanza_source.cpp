// stanza_source: the server side for the benchmarks — XEP-0114 floods, sinks or iq answers, and
// an XMPP client-to-server sink with stream management.
//
// One connection per process, on plain POSIX sockets so that it costs next to nothing:
//   1. accept, read the component's stream header, answer with our header and a stream id;
//   2. verify <handshake/> = hex(SHA-1(id + secret)) (XEP-0114 §3), answer <handshake/>;
//   3. by mode:
//      recv  write N pre-generated stanzas in large writes, an end marker and </stream:stream>,
//            then wait for the client's close;
//      sink  read and discard, counting <message, until the client's </stream:stream> or close;
//      rts   read N iq requests, answer them all in a random order, wait for the client's close.
// Mode c2s replaces 1–3 with a client login without TLS and a sink (source_c2s.cpp).
// The clock runs from our <handshake/> to the client's close (rts: from the first reply byte;
// c2s: from the bind result to the client's </stream:stream>);
// the result is one line on stdout: "mode=… stanzas=… messages=… seconds=… rate=…".
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <poll.h>

#include "source_c2s.hpp"
#include "source_io.hpp"
#include "stanzas.hpp"

namespace {

using bench::die;
using bench::now;
using bench::Output;
using bench::Peer;
using bench::Result;
using bench::run_io;
using bench::Scanner;

enum class Mode { recv, sink, rts, c2s };

struct Options {
    Mode mode = Mode::recv;
    std::size_t count = 200'000;
    std::string secret = "secret";
    std::string domain = "bench.localhost";
    std::uint16_t port = 0;
    std::string port_file;
    bool mix = false;
    bool sm = false;          // c2s: offer stream management (XEP-0198)
    bool half_close = false;  // shut our write side after </stream:stream> (for gloox, which
                              // ignores the server's stream end and only reacts to the TCP close)
    std::size_t block = 4096; // distinct stanzas; the stream repeats them
    double timeout = 300;     // seconds; a hung client must not hang the benchmark
};

void usage() {
    std::fprintf(stderr,
                 "usage: stanza_source [--mode recv|sink|rts|c2s] [--count N] [--secret S]\n"
                 "         [--domain D] [--port P] [--port-file FILE] [--mix] [--half-close]\n"
                 "         [--sm]\n"
                 "         [--timeout S]\n");
    std::exit(2);
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (arg == "--mix" || arg == "--half-close" || arg == "--sm") {
            (arg == "--mix" ? o.mix : arg == "--sm" ? o.sm : o.half_close) = true;
            continue;
        }
        if (value == nullptr) {
            usage();
        }
        ++i;
        if (arg == "--mode") {
            const std::string m = value;
            o.mode = m == "sink"  ? Mode::sink
                     : m == "rts" ? Mode::rts
                     : m == "c2s" ? Mode::c2s
                                  : Mode::recv;
            if (m != "sink" && m != "rts" && m != "recv" && m != "c2s") {
                usage();
            }
        } else if (arg == "--count") {
            o.count = std::strtoull(value, nullptr, 10);
        } else if (arg == "--secret") {
            o.secret = value;
        } else if (arg == "--domain") {
            o.domain = value;
        } else if (arg == "--port") {
            o.port = static_cast<std::uint16_t>(std::atoi(value));
        } else if (arg == "--port-file") {
            o.port_file = value;
        } else if (arg == "--timeout") {
            o.timeout = std::atof(value);
        } else {
            usage();
        }
    }
    return o;
}

std::string sha1_hex(const std::string& data) {
    unsigned char digest[20];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data.data(), data.size(), digest) != 0) {
        die("gnutls_hash_fast failed");
    }
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : digest) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

// XEP-0114 §3: header in, header out with an id, handshake in, verified, <handshake/> out
// (the caller sends it with the first data). Dies when the handshake is wrong.
void handshake(Peer& peer, const Options& o, double deadline) {
    std::string in;
    peer.on_input = [&in](std::string_view chunk) {
        in.append(chunk);
    };
    Output none;
    const auto header_end = [&in]() -> std::size_t {
        const std::size_t at = in.find("stream:stream");
        return at == std::string::npos ? std::string::npos : in.find('>', at);
    };
    run_io(
        peer, none, [&] { return header_end() != std::string::npos; }, deadline);
    std::random_device rd;
    char id[17];
    std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
    const std::string header = "<?xml version='1.0'?><stream:stream "
                               "xmlns:stream='http://etherx.jabber.org/streams' "
                               "xmlns='jabber:component:accept' id='" +
                               std::string(id) + "' from='" + o.domain + "'>";
    Output out;
    out.segments.push_back(header);
    run_io(
        peer, out, [&] { return in.find("</handshake>") != std::string::npos; }, deadline);
    if (peer.eof) {
        die("the client closed before its handshake");
    }
    // Some clients repeat the namespace on the element: <handshake xmlns='…'>.
    const std::size_t open = in.find("<handshake");
    const std::size_t text = open == std::string::npos ? open : in.find('>', open);
    const std::size_t close = in.find("</handshake>");
    if (text == std::string::npos || text > close) {
        die("malformed handshake: " + in);
    }
    const std::string got = bench::trim(std::string_view(in).substr(text + 1, close - text - 1));
    if (got != sha1_hex(id + o.secret)) {
        const std::string err = "<stream:error><not-authorized "
                                "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                                "</stream:stream>";
        [[maybe_unused]] const ssize_t n = write(peer.fd, err.data(), err.size());
        die("wrong handshake digest: " + got);
    }
}

Result run_recv(Peer& peer, const Options& o, double deadline) {
    bench::StanzaOptions so;
    so.domain = o.domain;
    so.mix = o.mix;
    const bench::StanzaBlock block = bench::generate_stanzas(std::min(o.block, o.count), so);
    static const std::string hello = "<handshake/>";
    const std::string tail = bench::end_marker(o.domain) + "</stream:stream>";
    Result r;
    Output out;
    out.segments.push_back(hello);
    const std::size_t n = block.ends.size();
    for (std::size_t left = o.count; left > 0;) {
        const std::size_t take = std::min(left, n);
        out.segments.push_back(std::string_view(block.bytes).substr(0, block.ends[take - 1]));
        r.bytes += block.ends[take - 1];
        r.stanzas += take;
        r.messages += take == n ? block.messages : 0;
        for (std::size_t i = 0; take < n && i < take; ++i) {
            r.messages += bench::is_message_index(i, o.mix) ? 1 : 0;
        }
        left -= take;
    }
    out.segments.push_back(tail);
    Scanner end("</stream:stream>");
    peer.on_input = [&end](std::string_view chunk) {
        end.feed(chunk);
    };
    const double t0 = now();
    run_io(
        peer, out, [] { return true; }, deadline);
    if (!out.done()) {
        die("the client closed before the stream was written");
    }
    if (o.half_close) {
        shutdown(peer.fd, SHUT_WR);
    }
    Output none;
    run_io(
        peer, none, [&end] { return end.total() > 0; }, deadline);
    r.seconds = now() - t0;
    return r;
}

Result run_sink(Peer& peer, double deadline) {
    Scanner messages("<message");
    Scanner end("</stream:stream>");
    Result r;
    peer.on_input = [&](std::string_view chunk) {
        r.bytes += chunk.size();
        messages.feed(chunk);
        end.feed(chunk);
    };
    Output out;
    static const std::string hello = "<handshake/>";
    out.segments.push_back(hello);
    const double t0 = now();
    run_io(
        peer, out, [&end] { return end.total() > 0; }, deadline);
    r.seconds = now() - t0;
    r.messages = r.stanzas = messages.total();
    static const std::string bye = "</stream:stream>";
    [[maybe_unused]] const ssize_t n = write(peer.fd, bye.data(), bye.size());
    return r;
}

// Pulls the id of every <iq …> start tag out of the bytes read so far.
void collect_iq_ids(std::string& in, std::vector<std::string>& ids) {
    std::size_t at = 0;
    for (;;) {
        const std::size_t open = in.find("<iq", at);
        if (open == std::string::npos) {
            at = in.size() > 2 ? in.size() - 2 : 0;
            break;
        }
        const std::size_t close = in.find('>', open);
        if (close == std::string::npos) {
            at = open;
            break;
        }
        const std::string_view tag(in.data() + open, close - open);
        const std::size_t attr = tag.find(" id=");
        if (attr != std::string_view::npos && attr + 5 < tag.size()) {
            const char quote = tag[attr + 4];
            const std::size_t end = tag.find(quote, attr + 5);
            if (end != std::string_view::npos) {
                ids.emplace_back(tag.substr(attr + 5, end - attr - 5));
            }
        }
        at = close + 1;
    }
    in.erase(0, at);
}

Result run_rts(Peer& peer, const Options& o, double deadline) {
    std::string in;
    std::vector<std::string> ids;
    ids.reserve(o.count);
    Scanner end("</stream:stream>");
    peer.on_input = [&](std::string_view chunk) {
        end.feed(chunk);
        in.append(chunk);
        collect_iq_ids(in, ids);
    };
    Output first;
    static const std::string hello = "<handshake/>";
    first.segments.push_back(hello);
    const double t0 = now();
    run_io(
        peer, first, [&] { return ids.size() >= o.count; }, deadline);
    const double t1 = now();
    if (ids.size() < o.count) {
        die("the client closed after " + std::to_string(ids.size()) + " requests");
    }
    std::mt19937 rng(12345);
    std::shuffle(ids.begin(), ids.end(), rng);
    std::string replies;
    replies.reserve(ids.size() * 90);
    for (const std::string& id : ids) {
        replies += "<iq type='result' from='example.net' to='" + o.domain + "' id='" + id + "'/>";
    }
    replies += "</stream:stream>";
    Output out;
    out.segments.push_back(replies);
    peer.on_input = [&end](std::string_view chunk) {
        end.feed(chunk);
    };
    run_io(
        peer, out, [&end] { return end.total() > 0; }, deadline);
    Result r;
    r.seconds = now() - t1;
    r.stanzas = ids.size();
    r.bytes = replies.size();
    char extra[64];
    std::snprintf(extra, sizeof extra, " request_seconds=%.6f", t1 - t0);
    r.extra = extra;
    return r;
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    const int listener = bench::listen_on(o.port, o.port_file);
    Peer peer;
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(o.timeout * 1000)) != 1) {
        die("no client connected in time");
    }
    peer.fd = accept(listener, nullptr, nullptr);
    if (peer.fd < 0) {
        die(std::string("accept: ") + std::strerror(errno));
    }
    close(listener);
    fcntl(peer.fd, F_SETFL, fcntl(peer.fd, F_GETFL) | O_NONBLOCK);
    const double deadline = now() + o.timeout;
    if (o.mode != Mode::c2s) {
        handshake(peer, o, deadline);
    }
    const double cpu0 = bench::cpu_seconds(); // c2s: the login included
    Result r = o.mode == Mode::sink  ? run_sink(peer, deadline)
               : o.mode == Mode::rts ? run_rts(peer, o, deadline)
               : o.mode == Mode::c2s ? bench::run_c2s(peer, {o.domain, o.secret, o.sm}, deadline)
                                     : run_recv(peer, o, deadline);
    const double cpu = bench::cpu_seconds() - cpu0;
    close(peer.fd);
    const char* mode = o.mode == Mode::sink  ? "sink"
                       : o.mode == Mode::rts ? "rts"
                       : o.mode == Mode::c2s ? "c2s"
                                             : "recv";
    std::printf("mode=%s stanzas=%zu messages=%zu bytes=%zu seconds=%.6f rate=%.0f "
                "source_cpu=%.6f%s\n",
                mode, r.stanzas, r.messages, r.bytes, r.seconds,
                r.seconds > 0 ? static_cast<double>(r.stanzas) / r.seconds : 0.0, cpu,
                r.extra.c_str());
    return 0;
}
