#include "qemu/qmp_messages.h"

namespace vcube::qemu {

const char* qmp_error_kind_name(qmp_error_kind kind) {
  switch (kind) {
    case qmp_error_kind::invalid_json:
      return "invalid_json";
    case qmp_error_kind::not_an_object:
      return "not_an_object";
    case qmp_error_kind::unrecognised:
      return "unrecognised";
    case qmp_error_kind::oversize_line:
      return "oversize_line";
    case qmp_error_kind::unknown_id:
      return "unknown_id";
    case qmp_error_kind::reply_without_id:
      return "reply_without_id";
    case qmp_error_kind::unexpected_message:
      return "unexpected_message";
    case qmp_error_kind::negotiation_failed:
      return "negotiation_failed";
  }
  return "unknown";
}

}  // namespace vcube::qemu
