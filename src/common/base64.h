// Standard base64 (RFC 4648, with padding) for binary payloads in JSON.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube {

std::string base64_encode(std::string_view bytes);
result<std::string> base64_decode(std::string_view text);

}  // namespace vcube
