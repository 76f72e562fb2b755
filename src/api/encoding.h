// Byte encodings used by the API's credentials: hex for MACs and base64
// (standard and URL-safe) for salts, hashes and tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vcube::api {

// Lower-case hex, two digits per byte.
std::string hex_encode(std::string_view bytes);

// RFC 4648 base64 with padding.
std::string base64_encode_std(std::string_view bytes);
// nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode_std(std::string_view text);

// RFC 4648 section 5 (URL and filename safe), without padding.
std::string base64_encode_url(std::string_view bytes);
std::optional<std::string> base64_decode_url(std::string_view text);

}  // namespace vcube::api
