#pragma once
// reply_output: a command's reply as redis-cli prints it with --no-raw.
//
// Most replies print in redis-cli's human-readable form (resp::format). A few commands whose
// reply is text meant to be read as is print raw even with --no-raw, because redis-cli special-
// cases them: INFO, LOLWUT, CLIENT LIST/INFO, CLUSTER NODES/INFO, MEMORY DOCTOR/MALLOC-STATS,
// LATENCY DOCTOR/GRAPH, DEBUG HTSTATS/HTSTATS-KEY/CLIENT-EVICTION, PROXY INFO. Raw means: strings
// as their bytes, with nothing added (INFO's text already ends in CRLF), integers as digits, nil
// as nothing, errors as their text and a newline, aggregates one element per line.
//
// An error reply prints as "(error) TEXT" (raw: "TEXT"), whether the server sent it as a simple
// or a bulk error.

#include <span>
#include <string>

#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"

namespace uredis::cli {

/// True when redis-cli prints the reply of `args` raw.
bool prints_raw(std::span<const std::string> args) noexcept;

/// Appends `r` in redis-cli's raw form.
void format_raw(const resp::reply& r, std::string& out);

/// Appends the reply a command got: its value or its server error (not a transport error:
/// precondition !r.has_error()), raw or not.
void format_result(const result<resp::reply>& r, bool raw, std::string& out);

}  // namespace uredis::cli
