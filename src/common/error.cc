#include "common/error.h"

namespace vcube {

int http_status(errc code) {
  switch (code) {
    case errc::invalid_input:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::forbidden:
      return 403;
    case errc::not_found:
      return 404;
    case errc::conflict:
      return 409;
    case errc::too_large:
      return 413;
    case errc::no_quorum:
    case errc::unavailable:
      return 503;
    case errc::timeout:
      return 504;
    case errc::internal:
      return 500;
  }
  return 500;
}

const char* errc_name(errc code) {
  switch (code) {
    case errc::invalid_input:
      return "invalid_input";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::too_large:
      return "too_large";
    case errc::no_quorum:
      return "no_quorum";
    case errc::unavailable:
      return "unavailable";
    case errc::timeout:
      return "timeout";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace vcube
