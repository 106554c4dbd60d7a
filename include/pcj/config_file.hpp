/// @file
/// Config from a TOML file with named profiles, so a deployment picks its connection per file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pcj/config.hpp"
#include "pcj/export.hpp"

namespace pcj {

/// Reads a Config from the TOML file at `path` (format: doc/tool.md, "Config file"). The keys at
/// the top level are the default profile; `profile`, when not empty, names a [profile.NAME]
/// table whose keys are applied on top of them. Keys are Config's field names (`tls.policy`,
/// `dns.servers`, `connect_timeout`, ...); durations are integer milliseconds; relative paths
/// (tls.ca_file, tls.ca_dir, tls.client_cert_file, tls.client_key_file) are relative to the
/// file's directory. The password may be in the file or left empty for the caller to fill.
///
/// Every problem — the file cannot be read, bad TOML, an unknown key, a value of the wrong type
/// or out of range, a profile that does not exist — throws ConfigError with a message of the form
/// "FILE:LINE: KEY: what is wrong". The result is not validated as a whole: the caller completes
/// it (a password, options of its own) and Component's constructor validates it.
PCJ_EXPORT Config load_config(const std::string& path, std::string_view profile = {});

/// The same from TOML text; `source` names it in messages (relative paths stay as written).
PCJ_EXPORT Config parse_config(std::string_view toml, std::string_view source,
                               std::string_view profile = {});

/// The profile names a file defines, in the file's order.
PCJ_EXPORT std::vector<std::string> config_profiles(const std::string& path);

} // namespace pcj
