/// @file
/// Exceptions pcj throws synchronously: a bad configuration, a bad XPath, unparsable XML.
#pragma once

#include <stdexcept>
#include <string>

#include "pcj/export.hpp"

namespace pcj {

/// Base of every exception pcj throws. Nothing is ever thrown across a callback from libuv,
/// GnuTLS, libxml2 or gsasl; failures there become events.
class PCJ_EXPORT Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The configuration handed to a Component is unusable; the message names the field and why.
class PCJ_EXPORT ConfigError : public Error {
public:
    using Error::Error;
};

/// An XPath expression did not compile; the message carries libxml2's reason.
class PCJ_EXPORT XPathError : public Error {
public:
    using Error::Error;
};

/// Node::parse was given something that is not one well-formed element.
class PCJ_EXPORT ParseError : public Error {
public:
    using Error::Error;
};

/// An operation was called in a state where it cannot run (for example run() re-entered).
class PCJ_EXPORT StateError : public Error {
public:
    using Error::Error;
};

} // namespace pcj
