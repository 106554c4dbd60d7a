// Exceptions pcj throws synchronously: a bad configuration, a bad XPath, unparsable XML.
#pragma once

#include <stdexcept>
#include <string>

namespace pcj {

// Base of every exception pcj throws. Nothing is ever thrown across a callback from libuv,
// GnuTLS, libxml2 or gsasl; failures there become events.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The configuration handed to a Component is unusable; the message names the field and why.
class ConfigError : public Error {
public:
    using Error::Error;
};

// An XPath expression did not compile; the message carries libxml2's reason.
class XPathError : public Error {
public:
    using Error::Error;
};

// Node::parse was given something that is not one well-formed element.
class ParseError : public Error {
public:
    using Error::Error;
};

// An operation was called in a state where it cannot run (for example run() re-entered).
class StateError : public Error {
public:
    using Error::Error;
};

} // namespace pcj
