// pcj_recv: pcj's receive benchmark client — counts <message/> through PubSub's normal path.
//
//   pcj_recv HOST PORT DOMAIN SECRET [--filters N] [--rss-at N,N,...]
//
// Connects as an XEP-0114 component, counts every <message/> in a PCJ_NODERECEIVED subscriber,
// exits after the server's stream end and prints the count as its last line. Before it:
// "stats cpu_seconds=… peak_rss_kb=…" (CPU from PCJ_READY to the end), with --filters a
// "filters n=… fired=…" line, with --rss-at one "rss_at count=… rss_kb=…" line per threshold.
//
// --filters N adds N XPath filters, each under its own event with its own subscriber: half
// select by element name (a few common children, the rest extension payloads that rarely
// occur), half by predicates a service registers (a recipient, a room, a sender, a child's
// attribute or text), several of them pairing an unselective test (a type, a body, a payload)
// with a selective one, so that a realistic share of them match each stanza.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>

#include "bench_util.hpp"

namespace {

struct Filter {
    std::string event;
    std::string xpath;
};

// Namespaces the name filters look for; the stanza source uses all of them.
void bind_prefixes(pcj::Component& c) {
    c.ns_prefix("cs", "http://jabber.org/protocol/chatstates");
    c.ns_prefix("receipts", "urn:xmpp:receipts");
    c.ns_prefix("sid", "urn:xmpp:sid:0");
    c.ns_prefix("caps", "http://jabber.org/protocol/caps");
    c.ns_prefix("hints", "urn:xmpp:hints");
    c.ns_prefix("disco", "http://jabber.org/protocol/disco#info");
}

std::string name_filter(std::size_t i, pcj::Component& c) {
    static const char* common[] = {
        "/message/body",
        "/message/cs:composing",
        "/message/subject",
        "/message/receipts:request",
        "/message/sid:stanza-id",
        "/message/thread",
        "/message/receipts:received",
        "/presence/caps:c",
        "/message/hints:store",
        "/iq/disco:query",
    };
    if (i < std::size(common)) {
        return common[i];
    }
    // An extension the component handles but that this traffic rarely carries.
    const std::string prefix = "e" + std::to_string(i);
    c.ns_prefix(prefix, "urn:bench:ext:" + std::to_string(i));
    return "/message/" + prefix + ":payload";
}

// The subject every subject message of the stanza source carries (bench/stanzas.cpp), as an
// XPath literal sees it: the text, entities resolved.
constexpr const char* kSubject = "Weekly sync & release planning \u2014 \u00abv2.1\u00bb";

std::string predicate_filter(std::size_t i, const std::string& domain) {
    const std::size_t n = i / 9;
    const std::string j = std::to_string(n);
    switch (i % 9) {
    case 0: // a recipient
        return "/message[@to='svc" + j + "@" + domain + "']";
    case 1: // a child's text: the first one the traffic's subject, the others topics it lacks
        return n == 0 ? std::string("/message[subject='") + kSubject + "']"
                      : "/message[subject='Topic " + j + "']";
    case 2: // a type and a sender
        return "/message[@type='chat'][@from='user" + j + "@example.net/phone']";
    case 3: // a command at the start of the body
        return "/message[starts-with(body,'!cmd" + j + " ')]";
    case 4: // a body and a recipient
        return "/message[body][@to='svc" + j + "@" + domain + "']";
    case 5: // a type and a room
        return "/message[@type='groupchat'][starts-with(@from,'room" + j + "@')]";
    case 6: // a payload and an id
        return "/message[sid:stanza-id][@id='g" + j + "']";
    case 7: // a child's attribute
        return "/message[sid:stanza-id/@by='room" + j + "@conference.example.net']";
    default: // a body and a sender
        return "/message[body][@from='user" + j + "@example.net/phone']";
    }
}

std::vector<Filter> make_filters(std::size_t n, pcj::Component& c, const std::string& domain) {
    std::vector<Filter> filters;
    const std::size_t names = (n + 1) / 2;
    for (std::size_t i = 0; i < names; ++i) {
        filters.push_back({"name" + std::to_string(i), name_filter(i, c)});
    }
    for (std::size_t i = 0; i < n - names; ++i) {
        filters.push_back({"pred" + std::to_string(i), predicate_filter(i, domain)});
    }
    return filters;
}

std::vector<std::size_t> parse_list(const char* text) {
    std::vector<std::size_t> out;
    for (const char* p = text; *p != '\0';) {
        char* end = nullptr;
        out.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p != '\0') {
            break;
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET [--filters N] [--rss-at N,…]\n",
                     argv[0]);
        return 2;
    }
    std::size_t filter_count = 0;
    std::vector<std::size_t> rss_at;
    for (int i = 5; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        if (opt == "--filters") {
            filter_count = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (opt == "--rss-at") {
            rss_at = parse_list(argv[i + 1]);
        }
    }
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    config.hostname = argv[3];
    config.password = argv[4];
    try {
        pcj::Component component(config);
        std::size_t count = 0;
        std::size_t fired = 0;
        std::size_t next_rss = 0;
        double cpu_at_ready = bench::cpu_seconds();
        bool ready = false;

        std::vector<pcj::Subscription> subs;
        bind_prefixes(component);
        for (const Filter& f : make_filters(filter_count, component, config.hostname)) {
            component.add_filter(f.event, f.xpath);
            subs.push_back(component.subscribe(f.event, [&fired](const pcj::Event&) { ++fired; }));
        }
        subs.push_back(component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            cpu_at_ready = bench::cpu_seconds();
        }));
        subs.push_back(component.subscribe(pcj::ev::NODERECEIVED, [&](const pcj::Event& e) {
            if (e.node->name() != "message") {
                return;
            }
            ++count;
            if (next_rss < rss_at.size() && count == rss_at[next_rss]) {
                std::printf("rss_at count=%zu rss_kb=%ld\n", count, bench::current_rss_kb());
                ++next_rss;
            }
        }));
        subs.push_back(component.subscribe(pcj::ev::AUTHFAIL, [](const pcj::Event& e) {
            std::fprintf(stderr, "pcj_recv: %s\n", e.reason ? e.reason->to_string().c_str() : "");
        }));

        component.connect();
        component.run();
        const double cpu = bench::cpu_seconds() - cpu_at_ready;
        if (!ready) {
            std::fprintf(stderr, "pcj_recv: never reached PCJ_READY\n");
            return 1;
        }
        if (filter_count > 0) {
            std::printf("filters n=%zu fired=%zu\n", filter_count, fired);
        }
        bench::print_stats(cpu);
        std::printf("%zu\n", count);
        return 0;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_recv: %s\n", e.what());
        return 1;
    }
}
