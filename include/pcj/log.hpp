/// @file
/// Logging: a replaceable sink for pcj's debug and warning lines.
#pragma once

#include <functional>
#include <string_view>

#include "pcj/export.hpp"

namespace pcj {

/// How much a log line matters.
enum class LogLevel {
    debug,   ///< the wire and the steps of a negotiation (Config::debug)
    info,    ///< what an operator may want to know
    warning, ///< something is wrong but the connection goes on
    error,   ///< a failure
};

/// The level's name ("warning").
PCJ_EXPORT std::string_view to_string(LogLevel level);

/// Receives one complete line (no trailing newline). The default writes
/// "2026-11-21T05:18:27.123Z ALIAS LEVEL: line" to stderr.
using Logger = std::function<void(LogLevel, std::string_view alias, std::string_view line)>;

/// The logger used by the default; exposed so applications can chain to it.
PCJ_EXPORT void stderr_logger(LogLevel level, std::string_view alias, std::string_view line);

/// The least severe level passed to any component's logger, process-wide; lines below it are
/// dropped before a logger sees them. Default: LogLevel::warning (warnings and errors, among them
/// every connection failure). Debug lines (the wire) exist only while Config::debug is on and
/// pass whatever the threshold. Safe to call from any thread.
PCJ_EXPORT void set_log_level(LogLevel level);
/// The threshold set_log_level() set (LogLevel::warning until then).
PCJ_EXPORT LogLevel log_level();

} // namespace pcj
