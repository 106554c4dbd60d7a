// Names of the socket records' sources and codes.
#include "pcj/events.hpp"

namespace pcj {

std::string_view to_string(Source source) {
    switch (source) {
    case Source::socket:
        return "SOURCE_SOCKET";
    case Source::tls:
        return "SOURCE_TLS";
    case Source::file:
        return "SOURCE_FILE";
    }
    return "SOURCE_UNKNOWN";
}

std::string_view to_string(Code code) {
    switch (code) {
    case Code::hostname_lookup:
        return sock::HOSTNAME_LOOKUP;
    case Code::hostname_resolved:
        return sock::HOSTNAME_RESOLVED;
    case Code::connecting:
        return sock::CONNECTING;
    case Code::connected:
        return sock::CONNECTED;
    case Code::start_ssl:
        return sock::START_SSL;
    case Code::ssl_established:
        return sock::SSL_ESTABLISHED;
    case Code::packet_read:
        return sock::PACKET_READ;
    case Code::packet_sent:
        return sock::PACKET_SENT;
    case Code::channel_closed:
        return sock::CHANNEL_CLOSED;
    case Code::deleted:
        return sock::DELETED;
    case Code::open_file:
        return sock::OPEN_FILE;
    case Code::file_opened:
        return sock::FILE_OPENED;
    case Code::data_read:
        return sock::DATA_READ;
    }
    return "EVENT_UNKNOWN";
}

} // namespace pcj
