#pragma once
// Descriptors for the connection commands: PING, ECHO. (descriptor.hpp states the contract.)

#include <optional>
#include <string>
#include <string_view>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// PING [message] -> "PONG", or the message.
struct ping {
  std::optional<std::string_view> message{};

  using response = std::string;
  void encode(resp::encoder& e) const {
    if (message) {
      e.command("PING", *message);
    } else {
      e.command("PING");
    }
  }
  static constexpr bool keyless = true;
};

/// ECHO message -> the message.
struct echo {
  arg message{};

  using response = std::string;
  void encode(resp::encoder& e) const {
    e.begin(2);
    e.arg("ECHO");
    message.encode(e);
  }
  static constexpr bool keyless = true;
};

}  // namespace uredis::cmd
