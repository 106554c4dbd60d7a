/// @file
/// Node: one XML element (a stanza, a stream header or any child) with its namespace, attributes,
/// children and text, plus a builder, serialisation and parsing.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pcj/export.hpp"

namespace pcj {

namespace detail {
struct NodeAccess; ///< the stream parser's way of refilling a node in place
} // namespace detail

/// An element, or (when is_text()) a run of character data inside an element.
///
/// Names are qualified names as they appear on the wire ("message", "stream:features").
/// ns() is the namespace URI the element is in. On output a default-namespace declaration
/// (xmlns="…") is written only where an unprefixed element's namespace differs from the one it
/// inherits, so a stanza built with an empty namespace simply takes the stream's. Prefix
/// declarations (xmlns:foo="…") are kept as ordinary attributes so that they round-trip.
///
/// Children keep their document order, text included, so mixed content survives a round trip.
/// Nodes are values: copying a node copies its subtree.
class PCJ_EXPORT Node {
public:
    /// An attribute: its qualified name and its value (unescaped).
    using Attribute = std::pair<std::string, std::string>;

    /// An empty node (empty() is true): no name, no namespace.
    Node() = default;
    /// An element named `name` (qualified, "stream:features") in namespace `ns`; an empty `ns`
    /// takes the namespace of wherever the element is written.
    explicit Node(std::string name, std::string ns = {});
    /// A run of character data, to be added as a child.
    static Node text_node(std::string text);

    // -- identity ------------------------------------------------------------------------
    /// True for character data (text_node()), false for an element.
    bool is_text() const { return is_text_; }
    /// True for a default-constructed node.
    bool empty() const { return name_.empty() && !is_text_; }
    /// The qualified name, as on the wire ("message", "stream:features").
    const std::string& name() const { return name_; }
    std::string_view local_name() const; ///< name without prefix
    std::string_view prefix() const;     ///< "" when unprefixed
    /// The namespace URI the element is in ("" when it takes the surrounding one).
    const std::string& ns() const { return ns_ ? *ns_ : no_ns(); }
    /// Renames the element (a qualified name).
    void set_name(std::string name) { name_ = std::move(name); }
    /// Puts the element in namespace `ns`.
    void set_ns(std::string ns);

    // -- attributes (insertion order kept) -------------------------------------------------
    /// Every attribute, prefix declarations included, in the order they were set.
    const std::vector<Attribute>& attributes() const { return attrs_; }
    const std::string* find_attr(std::string_view name) const; ///< nullptr when absent
    std::string attr(std::string_view name) const;             ///< "" when absent
    /// True when the attribute is present (even with an empty value).
    bool has_attr(std::string_view name) const { return find_attr(name) != nullptr; }
    Node& set_attr(std::string_view name, std::string value); ///< replaces an existing one
    /// Removes the attribute; false when there was none.
    bool remove_attr(std::string_view name);

    // -- children --------------------------------------------------------------------------
    /// The children in document order, elements and text alike.
    ///@{
    const std::vector<Node>& children() const { return children_; }
    std::vector<Node>& children() { return children_; }
    ///@}
    /// Appends and returns the new child, so building can descend. The second form makes the
    /// child from a name and a namespace.
    ///@{
    Node& add_child(Node child);
    Node& add_child(std::string name, std::string ns = {});
    ///@}
    /// Appends character data (merged with a trailing text child).
    Node& add_text(std::string_view text);
    /// First element child with this qualified name (and namespace, when ns is not empty).
    /// Null when there is none.
    ///@{
    const Node* child(std::string_view name, std::string_view ns = {}) const;
    Node* child(std::string_view name, std::string_view ns = {});
    ///@}
    /// Element children only (text skipped).
    std::vector<const Node*> elements() const;

    /// Concatenated character data of the direct text children (for a text node: its text).
    std::string text() const;
    /// Replaces all children with one text child.
    Node& set_text(std::string text);

    // -- serialisation -------------------------------------------------------------------
    /// The element as XML. inherited_ns is the default namespace in force where the element is
    /// written (the stream's, for a stanza); a declaration is added only when it differs.
    std::string to_string(std::string_view inherited_ns = {}) const;
    /// The same, appended to `out` (no temporary string).
    void append_to(std::string& out, std::string_view inherited_ns = {}) const;
    /// Only the start tag, never closed: how a stream header goes on the wire.
    std::string start_tag(std::string_view inherited_ns = {}) const;

    /// Parses one complete element (no DTD, no entities beyond the predefined five). Throws
    /// pcj::ParseError carrying the parser's message.
    static Node parse(std::string_view xml);

    /// Same name, namespace, attributes (in order) and children.
    friend bool operator==(const Node& a, const Node& b);

private:
    friend struct detail::NodeAccess;
    static const std::string& no_ns();

    std::string name_;
    /// Shared and immutable: a stream repeats a handful of namespace URIs in every stanza, so
    /// parsed nodes (and copies) point at one string instead of each holding its own.
    std::shared_ptr<const std::string> ns_;
    std::vector<Attribute> attrs_;
    std::vector<Node> children_;
    std::string text_; ///< only for text nodes
    bool is_text_ = false;
};

/// Builder that reads like the XML it makes:
/// @code
/// Node m = build("message").attr("to", "a@b").attr("type", "chat")
///              .child(build("body").text("hi"));
/// @endcode
/// Each call returns the builder (by reference on an lvalue, moved on a temporary), so calls
/// chain; build() or the conversion to Node ends it.
class PCJ_EXPORT NodeBuilder {
public:
    /// Starts an element named `name` in namespace `ns`.
    explicit NodeBuilder(std::string name, std::string ns = {})
        : node_(std::move(name), std::move(ns)) {}
    /// Sets an attribute (Node::set_attr()).
    ///@{
    NodeBuilder& attr(std::string_view name, std::string value) & {
        node_.set_attr(name, std::move(value));
        return *this;
    }
    NodeBuilder&& attr(std::string_view name, std::string value) && {
        node_.set_attr(name, std::move(value));
        return std::move(*this);
    }
    ///@}
    /// Appends a child (Node::add_child()).
    ///@{
    NodeBuilder& child(Node c) & {
        node_.add_child(std::move(c));
        return *this;
    }
    NodeBuilder&& child(Node c) && {
        node_.add_child(std::move(c));
        return std::move(*this);
    }
    ///@}
    /// Appends character data (Node::add_text()).
    ///@{
    NodeBuilder& text(std::string_view t) & {
        node_.add_text(t);
        return *this;
    }
    NodeBuilder&& text(std::string_view t) && {
        node_.add_text(t);
        return std::move(*this);
    }
    ///@}
    /// The node built.
    ///@{
    Node build() && { return std::move(node_); }
    operator Node() && { return std::move(node_); } // NOLINT: implicit by design
    ///@}

private:
    Node node_;
};

/// A NodeBuilder for an element named `name` in namespace `ns`.
PCJ_EXPORT inline NodeBuilder build(std::string name, std::string ns = {}) {
    return NodeBuilder(std::move(name), std::move(ns));
}

/// Escapes &, <, >, " and ' (and a carriage return, as &#13;) for use in text or a
/// double-quoted attribute value.
PCJ_EXPORT void append_escaped(std::string& out, std::string_view text);
/// The same for an attribute value: tabs and line breaks as character references as well, so
/// that they survive a parser's attribute-value normalisation.
PCJ_EXPORT void append_attribute_escaped(std::string& out, std::string_view text);

} // namespace pcj
