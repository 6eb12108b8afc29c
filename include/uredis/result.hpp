#pragma once
// result<T>: the outcome of one operation, holding exactly one of
//
//   a T                     the operation succeeded
//   a std::error_code       a transport, protocol, timeout or library failure (never success:
//                           a result is not built from an empty code)
//   a uredis::server_error  the server answered with an error reply
//
// The three are kept apart because callers act on them differently: a server error leaves the
// connection usable, a code usually does not (error.hpp). Holding a T or a code never allocates
// (the storage is a std::variant); a server_error owns its message. result<void> is the same
// without a value and default-constructs to success.
//
// Nothing here throws except value(), which raises the exception the blocking API would
// (exceptions.hpp) when there is no value. operator* and operator-> assert instead.

#include <cassert>
#include <concepts>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "uredis/error.hpp"

namespace uredis {

// Declared with the mapping in exceptions.hpp; repeated here so that result.hpp does not pull
// the exception tree into every reactor-path translation unit.
[[noreturn]] void throw_exception(const std::error_code& ec);
[[noreturn]] void throw_exception(const server_error& e);

template <class T>
class result;

namespace detail {

template <class U>
inline constexpr bool is_error_type_v = std::is_same_v<std::remove_cvref_t<U>, std::error_code> ||
                                        std::is_same_v<std::remove_cvref_t<U>, errc> ||
                                        std::is_same_v<std::remove_cvref_t<U>, server_error>;

// A value of another type that converts implicitly to T (a string literal for result<std::string>),
// so `return "x";` works as it would for a plain T. The error types keep their own constructors.
template <class U, class T>
concept converts_to_value = !std::is_same_v<std::remove_cvref_t<U>, T> &&
                            !std::is_same_v<std::remove_cvref_t<U>, result<T>> &&
                            !is_error_type_v<U> && std::convertible_to<U, T>;

// Shared by result<T> and result<void>: the storage is a variant whose first alternative is the
// success state.
template <class Success>
class result_base {
 public:
  result_base(std::error_code ec) noexcept : storage_(std::in_place_index<1>, ec) {
    assert(ec && "a result is never built from a success code");
  }
  result_base(errc e) noexcept : result_base(make_error_code(e)) {}
  result_base(uredis::server_error e) noexcept : storage_(std::in_place_index<2>, std::move(e)) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  bool has_error() const noexcept { return storage_.index() == 1; }
  bool has_server_error() const noexcept { return storage_.index() == 2; }

  /// Precondition: has_error().
  const std::error_code& error() const {
    assert(has_error());
    return *std::get_if<1>(&storage_);
  }
  /// Precondition: has_server_error().
  const uredis::server_error& server_error() const {
    assert(has_server_error());
    return *std::get_if<2>(&storage_);
  }

 protected:
  template <class... Args>
  explicit result_base(std::in_place_t, Args&&... args)
      : storage_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  Success& success() noexcept { return *std::get_if<0>(&storage_); }
  const Success& success() const noexcept { return *std::get_if<0>(&storage_); }

  [[noreturn]] void throw_error() const {
    if (has_error()) throw_exception(error());
    throw_exception(server_error());
  }

 private:
  std::variant<Success, std::error_code, uredis::server_error> storage_;
};

}  // namespace detail

template <class T>
class result : public detail::result_base<T> {
  static_assert(std::is_object_v<T> && !std::is_array_v<T>, "result holds an object by value");
  static_assert(!detail::is_error_type_v<T>, "an error type cannot also be the value type");

  using base = detail::result_base<T>;

 public:
  result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : base(std::in_place, std::move(value)) {}
  template <class U>
  requires detail::converts_to_value<U, T> result(U&& value)
      : base(std::in_place, std::forward<U>(value)) {}
  /// The value built in place from `args` (as T(args...)), without a move.
  template <class... Args>
  requires std::constructible_from<T, Args...>
  explicit result(std::in_place_t, Args&&... args)
      : base(std::in_place, std::forward<Args>(args)...) {}
  using base::base;

  /// The value; throws the mapped exception (exceptions.hpp) if there is none.
  T& value() & {
    if (!this->has_value()) this->throw_error();
    return this->success();
  }
  const T& value() const& {
    if (!this->has_value()) this->throw_error();
    return this->success();
  }
  T&& value() && {
    if (!this->has_value()) this->throw_error();
    return std::move(this->success());
  }

  /// Precondition: has_value().
  T& operator*() & {
    assert(this->has_value());
    return this->success();
  }
  const T& operator*() const& {
    assert(this->has_value());
    return this->success();
  }
  T* operator->() {
    assert(this->has_value());
    return &this->success();
  }
  const T* operator->() const {
    assert(this->has_value());
    return &this->success();
  }
};

template <>
class result<void> : public detail::result_base<std::monostate> {
  using base = detail::result_base<std::monostate>;

 public:
  /// Success.
  result() noexcept : base(std::in_place) {}
  using base::base;

  /// Does nothing on success; throws the mapped exception (exceptions.hpp) otherwise.
  void value() const {
    if (!has_value()) throw_error();
  }
};

/// The failure of `r` (an error code or a server error) as a result<T>. Precondition: !r.
template <class T, class U>
result<T> failure_of(const result<U>& r) {
  assert(!r.has_value());
  if (r.has_server_error()) return result<T>(r.server_error());
  return result<T>(r.error());
}

}  // namespace uredis
