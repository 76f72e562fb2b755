#include "qemu/nbd_uri.h"

#include <charconv>

namespace vcube::qemu {
namespace {

constexpr std::string_view tcp_scheme = "nbd://";
constexpr std::string_view unix_scheme = "nbd+unix://";
constexpr size_t host_bytes_max = 253;
constexpr size_t export_bytes_max = 4096;  // the NBD protocol's limit

error bad_uri(std::string_view uri, std::string_view why) {
  return make_error(errc::invalid_input,
                    "bad NBD URI '" + std::string(uri) + "': " + std::string(why));
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':';
}

bool is_clean(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '#' || c == '%')
      return false;
  }
  return true;
}

status parse_port(std::string_view uri, std::string_view port, nbd_address& address) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    return bad_uri(uri, "the port must be a number 1..65535");
  address.port = static_cast<uint16_t>(value);
  return ok_status();
}

// "host", "host:port", "[v6]" or "[v6]:port" into address.host/port.
status parse_authority(std::string_view uri, std::string_view authority, nbd_address& address) {
  std::string_view host = authority;
  std::string_view after_host;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return bad_uri(uri, "unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    after_host = authority.substr(close + 1);
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    after_host = authority.substr(colon);
  }
  if (host.empty() || host.size() > host_bytes_max)
    return bad_uri(uri, "missing or long host");
  for (char c : host) {
    if (!is_host_char(c))
      return bad_uri(uri, "the host has a character that is not allowed");
  }
  address.host = std::string(host);
  if (after_host.empty())
    return ok_status();
  if (!after_host.starts_with(':'))
    return bad_uri(uri, "junk after the host");
  return parse_port(uri, after_host.substr(1), address);
}

result<nbd_address> parse_tcp(std::string_view uri) {
  std::string_view rest = uri.substr(tcp_scheme.size());
  size_t slash = rest.find('/');
  if (rest.find('?') != std::string_view::npos)
    return bad_uri(uri, "nbd:// URIs take no query");
  nbd_address address;
  auto parsed = parse_authority(uri, rest.substr(0, slash), address);
  if (!parsed)
    return parsed.err();
  if (slash != std::string_view::npos)
    address.export_name = std::string(rest.substr(slash + 1));
  return address;
}

result<nbd_address> parse_unix(std::string_view uri) {
  std::string_view rest = uri.substr(unix_scheme.size());
  if (!rest.starts_with('/'))
    return bad_uri(uri, "nbd+unix URIs have no host (nbd+unix:///...)");
  size_t query = rest.find('?');
  if (query == std::string_view::npos)
    return bad_uri(uri, "missing ?socket=/path");
  std::string_view parameter = rest.substr(query + 1);
  constexpr std::string_view socket_key = "socket=";
  if (!parameter.starts_with(socket_key))
    return bad_uri(uri, "the only parameter is socket=");
  nbd_address address;
  address.is_unix = true;
  address.export_name = std::string(rest.substr(1, query - 1));
  address.socket_path = std::string(parameter.substr(socket_key.size()));
  if (!address.socket_path.starts_with('/'))
    return bad_uri(uri, "the socket path is not absolute");
  if (address.socket_path.find_first_of("?&") != std::string::npos)
    return bad_uri(uri, "the only parameter is socket=");
  return address;
}

}  // namespace

bool is_nbd_uri(std::string_view source) {
  return source.starts_with("nbd:") || source.starts_with("nbd+");
}

result<nbd_address> parse_nbd_uri(std::string_view uri) {
  if (!is_clean(uri))
    return bad_uri(uri, "control characters, '?', '#' or '%' in the wrong place");
  result<nbd_address> parsed = bad_uri(uri,
                                       "use nbd://host[:port]/export or "
                                       "nbd+unix:///export?socket=/path");
  if (uri.starts_with(tcp_scheme))
    parsed = parse_tcp(uri);
  if (uri.starts_with(unix_scheme))
    parsed = parse_unix(uri);
  if (parsed && parsed->export_name.size() > export_bytes_max)
    return bad_uri(uri, "the export name is longer than 4096 bytes");
  return parsed;
}

}  // namespace vcube::qemu
