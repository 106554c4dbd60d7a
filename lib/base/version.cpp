// pcj::version(): the version this library was built as (pcj/version.hpp, made by meson).
#include "pcj/version.hpp"

namespace pcj {

std::string_view version() noexcept {
    return PCJ_VERSION_STRING;
}

int version_major() noexcept {
    return PCJ_VERSION_MAJOR;
}

int version_minor() noexcept {
    return PCJ_VERSION_MINOR;
}

int version_patch() noexcept {
    return PCJ_VERSION_PATCH;
}

} // namespace pcj
