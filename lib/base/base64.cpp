// Base64 through gnutls_base64_encode2 / gnutls_base64_decode2.
#include "base64.hpp"

#include <gnutls/gnutls.h>

namespace pcj::detail {

namespace {
struct Datum {
    gnutls_datum_t d{nullptr, 0};
    ~Datum() { gnutls_free(d.data); }
};
gnutls_datum_t view(std::string_view s) {
    // GnuTLS takes a non-const pointer but does not write through it here.
    return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
            static_cast<unsigned>(s.size())};
}
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
    return std::string(reinterpret_cast<const char*>(out.d.data), out.d.size);
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty()) {
        return std::string();
    }
    const gnutls_datum_t in = view(text);
    Datum out;
    if (gnutls_base64_decode2(&in, &out.d) != 0) {
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(out.d.data), out.d.size);
}

} // namespace pcj::detail
