// sax_limit: the parser's ceiling — libxml2's SAX2 push parser counting depth-1 end tags.
//
//   sax_limit HOST PORT DOMAIN SECRET [--read-only]
//
// Speaks just enough XEP-0114 (header, handshake) over a blocking socket, then feeds every
// byte read (64 KiB reads, as libuv does) to xmlParseChunk with start/end element callbacks
// only, counting the <message/> elements that end at depth 1. No tree, no strings kept: what
// no library built on this parser can beat. --read-only skips the parser (the socket's limit).
// Output as every client: "stats …" then the count (with --read-only: the bytes read).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libxml/parser.h>

#include "bench_util.hpp"

namespace {

struct Counter {
    int depth = 0;
    std::size_t messages = 0;
    bool ended = false;
};

void on_start(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*, int, const xmlChar**, int,
              int, const xmlChar**) {
    ++static_cast<Counter*>(ctx)->depth;
}

void on_end(void* ctx, const xmlChar* localname, const xmlChar*, const xmlChar*) {
    auto* c = static_cast<Counter*>(ctx);
    --c->depth;
    if (c->depth == 1 && std::strcmp(reinterpret_cast<const char*>(localname), "message") == 0) {
        ++c->messages;
    } else if (c->depth == 0) {
        c->ended = true;
    }
}

int connect_to(const char* host, int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (fd < 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("sax_limit: connect");
        std::exit(1);
    }
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = write(fd, data.data(), data.size());
        if (n <= 0) {
            std::perror("sax_limit: write");
            std::exit(1);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string handshake_digest(const std::string& id, const std::string& secret) {
    const std::string input = id + secret;
    unsigned char digest[20];
    gnutls_hash_fast(GNUTLS_DIG_SHA1, input.data(), input.size(), digest);
    std::string hex;
    char buf[3];
    for (unsigned char c : digest) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        hex += buf;
    }
    return hex;
}

// Sends our header, reads the server's up to its '>' and answers with the handshake. Returns
// the bytes read so far: the parser must see the server's header too.
std::string open_stream(int fd, const std::string& domain, const std::string& secret) {
    send_all(fd, "<stream:stream xmlns='jabber:component:accept' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='" +
                     domain + "'>");
    std::string in;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            std::fprintf(stderr, "sax_limit: the server closed during the header\n");
            std::exit(1);
        }
        in.append(buf, static_cast<std::size_t>(n));
        const std::size_t at = in.find("stream:stream");
        header_end = at == std::string::npos ? at : in.find('>', at);
    }
    const std::size_t id_at = in.find(" id=");
    const char quote = in[id_at + 4];
    const std::string id = in.substr(id_at + 5, in.find(quote, id_at + 5) - id_at - 5);
    send_all(fd, "<handshake>" + handshake_digest(id, secret) + "</handshake>");
    return in;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET [--read-only]\n", argv[0]);
        return 2;
    }
    const bool read_only = argc > 5 && std::string(argv[5]) == "--read-only";
    const int fd = connect_to(argv[1], std::atoi(argv[2]));
    const std::string first = open_stream(fd, argv[3], argv[4]);
    const double cpu0 = bench::cpu_seconds();

    xmlSAXHandler sax;
    std::memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    Counter counter;
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &counter, nullptr, 0, nullptr);
    if (!read_only) {
        xmlParseChunk(ctxt, first.data(), static_cast<int>(first.size()), 0);
    }
    static char buf[64 * 1024];
    std::size_t bytes = 0;
    std::string tail;
    while (!counter.ended) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        bytes += static_cast<std::size_t>(n);
        if (read_only) {
            // Only the last bytes matter: the stream ends with </stream:stream>.
            tail.append(buf, static_cast<std::size_t>(n));
            tail.erase(0, tail.size() > 16 ? tail.size() - 16 : 0);
            counter.ended = tail.find("</stream:stream>") != std::string::npos;
        } else if (xmlParseChunk(ctxt, buf, static_cast<int>(n), 0) != 0) {
            std::fprintf(stderr, "sax_limit: parse error\n");
            return 1;
        }
    }
    send_all(fd, "</stream:stream>");
    close(fd);
    const double cpu = bench::cpu_seconds() - cpu0;
    xmlFreeParserCtxt(ctxt);
    bench::print_stats(cpu);
    std::printf("%zu\n", read_only ? bytes : counter.messages);
    return 0;
}
