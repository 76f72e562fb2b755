// The options of the handshake: what each one answers and when negotiation ends.
#include "esan/nbd_handshake.h"

namespace vcube::esan::nbd {

const export_description* handshake::find(const std::string& name) const {
  for (const auto& e : exports_)
    if (e.name == name)
      return &e;
  // The empty name is the spec's "default export": the only one, if only one.
  if (name.empty() && exports_.size() == 1)
    return &exports_.front();
  return nullptr;
}

void handshake::on_export_name(const std::string& name) {
  const export_description* e = find(name);
  if (e == nullptr)
    return close("client asked for unknown export '" + name + "' (EXPORT_NAME cannot be refused)");
  session_ = session{*e, has_structured_replies_, false,
                     transmission_flags_for(*e, has_structured_replies_)};
  put_u64(output_, e->size_bytes);
  put_u16(output_, session_.transmission_flags);
  if (!has_no_zeroes_)
    output_.append(export_name_zeroes_bytes, '\0');
  state_ = handshake_state::transmission;
}

void handshake::on_list() {
  if (!buffer_.empty())
    return reply_error(option_reply::err_invalid, "NBD_OPT_LIST carries no data");
  for (const auto& e : exports_) {
    std::string data;
    put_u32(data, static_cast<uint32_t>(e.name.size()));
    data += e.name;
    reply(option_reply::server, data);
  }
  reply(option_reply::ack);
}

void handshake::on_info_or_go() {
  // Data: u32 name length, name, u16 count of info requests, u16 each.
  const size_t size = buffer_.size();
  if (size < 6)
    return reply_error(option_reply::err_invalid, "INFO/GO data shorter than 6 bytes");
  const uint32_t name_length = get_u32(buffer_, 0);
  if (name_length > size - 6)
    return reply_error(option_reply::err_invalid, "INFO/GO export name runs past the option data");
  const uint16_t count = get_u16(buffer_, 4 + name_length);
  if (size != 6 + name_length + 2 * size_t{count})
    return reply_error(option_reply::err_invalid,
                       "INFO/GO data length does not match its information request count");
  const std::string name(reinterpret_cast<const char*>(buffer_.data()) + 4, name_length);
  bool wants_block_size = false;
  for (size_t i = 0; i < count; ++i)
    if (get_u16(buffer_, 6 + name_length + 2 * i) == static_cast<uint16_t>(info_type::block_size))
      wants_block_size = true;
  const export_description* e = find(name);
  if (e == nullptr)
    return reply_error(option_reply::err_unknown, "no export named '" + name + "'");
  const uint16_t flags = transmission_flags_for(*e, has_structured_replies_);
  std::string info;
  put_u16(info, static_cast<uint16_t>(info_type::export_info));
  put_u64(info, e->size_bytes);
  put_u16(info, flags);
  reply(option_reply::info, info);
  if (wants_block_size)
    reply_info_block_size(*e);
  reply(option_reply::ack);
  if (option_ == static_cast<uint32_t>(option::go)) {
    session_ = session{*e, has_structured_replies_, wants_block_size, flags};
    state_ = handshake_state::transmission;
  }
}

void handshake::reply_info_block_size(const export_description& d) {
  std::string info;
  put_u16(info, static_cast<uint16_t>(info_type::block_size));
  put_u32(info, d.block_size_min_bytes);
  put_u32(info, d.block_size_preferred_bytes);
  put_u32(info, d.payload_bytes_max);
  reply(option_reply::info, info);
}

void handshake::on_structured_reply() {
  if (!buffer_.empty())
    return reply_error(option_reply::err_invalid, "NBD_OPT_STRUCTURED_REPLY carries no data");
  has_structured_replies_ = true;
  reply(option_reply::ack);
}

}  // namespace vcube::esan::nbd
