// error and result<T>: how every layer reports an operating error (bad input,
// missing quorum, a dead peer) as a value. Programmer errors are assertions.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace vcube {

enum class errc {
  invalid_input,  // 400: the request is wrong; `field` names the culprit
  unauthorized,   // 401: no or bad credentials
  forbidden,      // 403: authenticated but not allowed
  not_found,      // 404
  conflict,       // 409: version mismatch, duplicate, state does not allow it
  too_large,      // 413
  no_quorum,      // 503: the cluster partition this node is in has no quorum
  unavailable,    // 503: temporarily unable (syncing, corosync down, shutting down)
  timeout,        // 504: a deadline passed
  internal,       // 500: a bug or an unexpected OS failure
};

struct error {
  errc code = errc::internal;
  std::string message;  // a sentence a person can act on
  std::string field;    // the offending input field, if any ("networks.lan.mtu")
};

// HTTP status that corresponds to an error code.
int http_status(errc code);
// Stable machine-readable name ("invalid_input", "no_quorum", ...).
const char* errc_name(errc code);

inline error make_error(errc code, std::string message, std::string field = {}) {
  return error{code, std::move(message), std::move(field)};
}

// A value or an error. Deliberately tiny; std::expected is C++23.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, error> v_;
};

struct ok_t {};
using status = result<ok_t>;
inline status ok_status() {
  return ok_t{};
}

}  // namespace vcube
