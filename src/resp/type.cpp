#include "uredis/resp/type.hpp"

namespace uredis::resp {

std::string_view to_string(type t) noexcept {
  switch (t) {
    case type::simple_string:
      return "simple_string";
    case type::simple_error:
      return "simple_error";
    case type::integer:
      return "integer";
    case type::bulk_string:
      return "bulk_string";
    case type::array:
      return "array";
    case type::null:
      return "null";
    case type::boolean:
      return "boolean";
    case type::double_:
      return "double";
    case type::big_number:
      return "big_number";
    case type::bulk_error:
      return "bulk_error";
    case type::verbatim_string:
      return "verbatim_string";
    case type::map:
      return "map";
    case type::set:
      return "set";
    case type::attribute:
      return "attribute";
    case type::push:
      return "push";
  }
  return "unknown";
}

}  // namespace uredis::resp
