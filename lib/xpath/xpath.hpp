// FilterSet: compiled XPath filters evaluated against each inbound stanza (libxml2 XPath 1.0).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pcj/node.hpp"

namespace pcj::detail {

// The stanza is the document root, so "/message[@type='chat']" selects a chat message.
// Elements in a stream content namespace (jabber:client, jabber:server,
// jabber:component:accept) are seen by XPath as in no namespace, so plain names match stanzas
// and their jabber:client children; every other namespace is tested through a prefix bound with
// ns_prefix(), e.g. "//disco:query" after ns_prefix("disco",
// "http://jabber.org/protocol/disco#info"). A node-set result fires when not empty (with the
// selected nodes); a boolean result fires when true (with the stanza as the one match); numbers and
// strings never fire.
class FilterSet {
public:
    using Fire = std::function<void(std::string_view event, std::string_view xpath,
                                    std::span<const Node> matches)>;

    FilterSet();
    ~FilterSet();
    FilterSet(const FilterSet&) = delete;
    FilterSet& operator=(const FilterSet&) = delete;

    // Compiles now; throws pcj::XPathError with libxml2's message on a bad expression or an
    // unbound prefix. The same event may carry several expressions.
    void add(std::string event, std::string xpath);
    // Removes every filter of this event; returns how many were removed.
    std::size_t remove(std::string_view event);
    // Removes every filter; the prefixes and settings stay.
    void clear();
    void ns_prefix(std::string prefix, std::string uri);
    bool empty() const;
    std::size_t size() const;

    // Evaluates every filter against the stanza in insertion order and calls fire for each
    // one that matched. fire may add or remove filters; the evaluation in progress uses the
    // set as it was when evaluate() started.
    // `parsed`: the stanza is as XmlStream delivered it (the inbound path), which spares a
    // check that only a stanza built otherwise can fail (plain_parsed_stanza()).
    void evaluate(const Node& stanza, const Fire& fire, bool parsed = false) const;

    // With indexing off (tests, diagnosis) every filter goes through libxml2 on every stanza;
    // with it on (the default) only those the pre-filter cannot rule out (xpath_index.hpp).
    // libxml2 decides every match either way, so the results are the same.
    void set_indexing(bool on);
    // The index's look-up is used only above this many filters (4 by default): below, trying
    // each filter costs less than the index's keys and hashes. The differential tests and the
    // fuzz targets set 0, so that the index decides for every set they build.
    void set_index_above(std::size_t filters);
    // With the fast path off every candidate goes to libxml2; with it on (the default) the
    // expressions of its subset (xpath_fast.hpp) are evaluated on the Node itself, with the
    // same result. Both off is libxml2 alone, the reference the tests compare against.
    void set_fast_path(bool on);
    // How many of the filters the fast path covers.
    std::size_t fast_count() const;

private:
    struct Impl;
    // Made at the first add(), ns_prefix() or setting: most components never add a filter, and
    // an empty set's table and index would cost each of them about 400 bytes.
    Impl& impl();
    std::unique_ptr<Impl> impl_;
};

} // namespace pcj::detail
