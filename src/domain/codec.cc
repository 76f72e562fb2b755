#include "domain/codec.h"

#include <algorithm>

namespace vcube::domain {
namespace {

constexpr std::string_view magic = "VCD1";

error bad(const std::string& message) {
  return make_error(errc::invalid_input, "malformed domain message: " + message);
}

json members_json(const std::vector<uint32_t>& members) {
  return json(members);
}

struct to_json_visitor {
  json operator()(const write_message& m) const {
    return {{"type", "write"},
            {"origin", m.origin_node},
            {"nonce", m.session_nonce},
            {"request_id", m.request_id},
            {"request", request_to_json(m.request)}};
  }
  json operator()(const summary_message& m) const {
    return {{"type", "summary"},      {"members", members_json(m.members)},
            {"round", m.round},       {"version", m.version},
            {"checksum", m.checksum}, {"synced", m.has_synced}};
  }
  json operator()(const state_message& m) const {
    return {{"type", "state"},  {"source", m.source_node}, {"members", members_json(m.members)},
            {"round", m.round}, {"part", m.part},          {"parts", m.parts},
            {"chunk", m.chunk}};
  }
  json operator()(const check_message& m) const {
    return {{"type", "check"}, {"initiator", m.initiator}, {"seq", m.seq}};
  }
  json operator()(const check_reply_message& m) const {
    return {{"type", "check_reply"},
            {"initiator", m.initiator},
            {"seq", m.seq},
            {"version", m.version},
            {"checksum", m.checksum}};
  }
};

// nlohmann's parser is iterative, but our own walks are not: refuse deep
// nesting before parsing.
bool is_too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > json_depth_max)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// Reads typed fields of one message object and remembers the first problem.
class reader {
 public:
  explicit reader(const json& j) : j_(j) {}
  uint64_t u64(const char* key, uint64_t max = UINT64_MAX) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max)
      return fail(std::string("'") + key + "' must be an integer up to " + std::to_string(max)), 0;
    return it->get<uint64_t>();
  }
  uint32_t u32(const char* key) { return uint32_t(u64(key, UINT32_MAX)); }
  bool boolean(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_boolean())
      return fail(std::string("'") + key + "' must be true or false"), false;
    return it->get<bool>();
  }
  std::string text(const char* key, size_t max_bytes) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_string() || it->get_ref<const std::string&>().size() > max_bytes)
      return fail(std::string("'") + key + "' must be a string of at most " +
                  std::to_string(max_bytes) + " bytes"),
             "";
    return it->get<std::string>();
  }
  std::vector<uint32_t> members() {
    auto it = j_.find("members");
    std::vector<uint32_t> out;
    if (it == j_.end() || !it->is_array() || it->empty() || it->size() > members_max)
      return fail("'members' must be a non-empty array"), out;
    for (const auto& m : *it) {
      if (!m.is_number_unsigned() || m.get<uint64_t>() == 0 || m.get<uint64_t>() > UINT32_MAX)
        return fail("'members' holds an invalid node id"), out;
      out.push_back(m.get<uint32_t>());
    }
    if (!std::is_sorted(out.begin(), out.end()) ||
        std::adjacent_find(out.begin(), out.end()) != out.end())
      fail("'members' must be sorted and unique");
    return out;
  }
  void fail(std::string why) {
    if (!error_)
      error_ = std::move(why);
  }
  const std::optional<std::string>& problem() const { return error_; }

 private:
  const json& j_;
  std::optional<std::string> error_;
};

result<message> decode_write(const json& j, reader& r) {
  write_message m{r.u32("origin"), r.u64("nonce"), r.u64("request_id"), {}};
  if (!j.contains("request"))
    return bad("a write needs 'request'");
  auto request = request_from_json(j["request"]);
  if (!request)
    return bad("request: " + request.err().message);
  m.request = std::move(*request);
  return message(std::move(m));
}

result<message> decode_state(reader& r) {
  state_message m{r.u32("source"), r.members(),    r.u64("round"),
                  r.u32("part"),   r.u32("parts"), r.text("chunk", state_chunk_bytes_max)};
  if (!r.problem() && (m.parts == 0 || m.parts > state_parts_max || m.part >= m.parts))
    return bad("part " + std::to_string(m.part) + " of " + std::to_string(m.parts) +
               " is out of range");
  return message(std::move(m));
}

result<message> decode_object(const json& j) {
  auto type = j.find("type");
  if (type == j.end() || !type->is_string())
    return bad("missing 'type'");
  const auto& name = type->get_ref<const std::string&>();
  reader r(j);
  result<message> m = bad("unknown type '" + name + "'");
  status known = ok_status();
  if (name == "write") {
    known = reject_unknown_fields(j, {"type", "origin", "nonce", "request_id", "request"}, "");
    m = decode_write(j, r);
  } else if (name == "summary") {
    known =
        reject_unknown_fields(j, {"type", "members", "round", "version", "checksum", "synced"}, "");
    m = message(summary_message{r.members(), r.u64("round"), r.u64("version"),
                                r.text("checksum", 128), r.boolean("synced")});
  } else if (name == "state") {
    known = reject_unknown_fields(
        j, {"type", "source", "members", "round", "part", "parts", "chunk"}, "");
    m = decode_state(r);
  } else if (name == "check") {
    known = reject_unknown_fields(j, {"type", "initiator", "seq"}, "");
    m = message(check_message{r.u32("initiator"), r.u64("seq")});
  } else if (name == "check_reply") {
    known = reject_unknown_fields(j, {"type", "initiator", "seq", "version", "checksum"}, "");
    m = message(check_reply_message{r.u32("initiator"), r.u64("seq"), r.u64("version"),
                                    r.text("checksum", 128)});
  }
  if (!known)
    return bad(known.err().message);
  if (r.problem())
    return bad(name + ": " + *r.problem());
  return m;
}

}  // namespace

std::string encode(const message& m) {
  return std::string(magic) + dump_compact(std::visit(to_json_visitor{}, m));
}

result<message> decode(std::string_view payload) {
  if (payload.size() > message_bytes_max)
    return bad("larger than " + std::to_string(message_bytes_max) + " bytes");
  if (payload.substr(0, magic.size()) != magic)
    return bad("bad magic (expected \"VCD1\")");
  std::string_view text = payload.substr(magic.size());
  // nlohmann's lexer stops at a NUL byte; refuse it so nothing trails unseen.
  if (text.find('\0') != std::string_view::npos)
    return bad("contains a NUL byte");
  if (is_too_deep(text))
    return bad("nested deeper than " + std::to_string(json_depth_max));
  auto j = parse_json(text);
  if (!j)
    return bad(j.err().message);
  if (!j->is_object())
    return bad("not a JSON object");
  return decode_object(*j);
}

}  // namespace vcube::domain
