// Base64 through gnutls_base64_encode2 / gnutls_base64_decode2, hex through gnutls_hex_encode2.
#include "encoding.hpp"

#include <gnutls/gnutls.h>

#include <new>

namespace pcj::detail {

namespace {
struct Datum {
    gnutls_datum_t d{nullptr, 0};
    ~Datum() { gnutls_free(d.data); }
    std::string str() const { return std::string(reinterpret_cast<const char*>(d.data), d.size); }
};
gnutls_datum_t view(std::string_view s) {
    // GnuTLS takes a non-const pointer but does not write through it here.
    return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
            static_cast<unsigned>(s.size())};
}

// GnuTLS's decoder skips whitespace and line breaks (it also reads PEM); RFC 6120 §6.4.2 allows
// neither in SASL data, so they are refused before it sees the text. GnuTLS checks the padding
// and the length itself.
constexpr std::string_view kBase64Chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
} // namespace

std::string base64_encode(std::string_view data) {
    if (data.empty()) {
        return {};
    }
    const gnutls_datum_t in = view(data);
    Datum out;
    if (gnutls_base64_encode2(&in, &out.d) != 0) {
        return {};
    }
    return out.str();
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty()) {
        return std::string();
    }
    if (text.find_first_not_of(kBase64Chars) != std::string_view::npos) {
        return std::nullopt;
    }
    const gnutls_datum_t in = view(text);
    Datum out;
    if (gnutls_base64_decode2(&in, &out.d) != 0) {
        return std::nullopt;
    }
    return out.str();
}

std::string hex_encode(std::string_view data) {
    if (data.empty()) {
        return {};
    }
    const gnutls_datum_t in = view(data);
    Datum out;
    if (gnutls_hex_encode2(&in, &out.d) != 0) {
        throw std::bad_alloc(); // its only failure is a failed allocation
    }
    return out.str();
}

std::string hex_encode(const unsigned char* data, std::size_t size) {
    return hex_encode(std::string_view(reinterpret_cast<const char*>(data), size));
}

} // namespace pcj::detail
