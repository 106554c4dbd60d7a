// pcj::version(): the library's version, the headers' macros and the project's version agree.
#include <string>

#include <catch2/catch.hpp>

#include "pcj/version.hpp"

TEST_CASE("version: the library reports the project's version from meson.build", "[version]") {
    // PCJ_TEST_PROJECT_VERSION is meson.project_version(), passed by test/meson.build.
    CHECK(pcj::version() == PCJ_TEST_PROJECT_VERSION);
    CHECK(pcj::version() == PCJ_VERSION_STRING);
}

TEST_CASE("version: the parts make up the version string", "[version]") {
    const std::string joined = std::to_string(pcj::version_major()) + "." +
                               std::to_string(pcj::version_minor()) + "." +
                               std::to_string(pcj::version_patch());
    CHECK(joined == pcj::version());
    CHECK(pcj::version_major() == PCJ_VERSION_MAJOR);
    CHECK(pcj::version_minor() == PCJ_VERSION_MINOR);
    CHECK(pcj::version_patch() == PCJ_VERSION_PATCH);
}
