#include "fence/agent_runner.h"

#include "env/files.h"
#include "env/process.h"

namespace vcube::fence {
namespace {

void append_options(std::string& out, const std::map<std::string, std::string>& options) {
  for (const auto& [key, value] : options)
    out += key + "=" + value + "\n";
}

std::string trim(std::string text) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.back()))
    text.pop_back();
  std::size_t first = 0;
  while (first < text.size() && is_space(text[first]))
    ++first;
  return text.substr(first);
}

// fencing.py ends every failure with this line; it says nothing about the failure.
std::string without_usage_hint(std::string text) {
  constexpr std::string_view hint = "Please use '-h' for usage";
  text = trim(std::move(text));
  if (!text.ends_with(hint))
    return text;
  auto line_start = text.rfind('\n');
  return line_start == std::string::npos ? text : text.substr(0, line_start);
}

}  // namespace

const char* action_name(fence_action action) {
  switch (action) {
    case fence_action::off:
      return "off";
    case fence_action::on:
      return "on";
    case fence_action::reboot:
      return "reboot";
    case fence_action::status:
      return "status";
    case fence_action::monitor:
      return "monitor";
    case fence_action::list:
      return "list";
  }
  return "?";
}

std::chrono::milliseconds fence_timeouts::for_action(fence_action action) const {
  switch (action) {
    case fence_action::off:
      return off;
    case fence_action::on:
      return on;
    case fence_action::reboot:
      return reboot;
    default:
      return query;
  }
}

std::string render_agent_input(const fence_device& device, const std::string& node,
                               fence_action action) {
  std::string out;
  append_options(out, device.options);
  auto it = device.node_options.find(node);
  if (it != device.node_options.end())
    append_options(out, it->second);
  out += std::string("action=") + action_name(action) + "\n";
  return out;
}

result<agent_output> run_agent_process(const std::string& path, const std::string& input,
                                       std::chrono::milliseconds timeout) {
  if (!env::file_exists(path))
    return make_error(errc::not_found, "fence agent " + path + " is not installed");
  auto r = env::run({path}, input,
                    env::run_limits{.timeout = timeout,
                                    .output_bytes_max = agent_output_bytes_max,
                                    .is_process_group = true});
  if (!r)
    return r.err();
  return agent_output{r->exit_code, std::move(r->out), std::move(r->err)};
}

std::string output_tail(const agent_output& output, std::size_t chars_max) {
  std::string text = without_usage_hint(output.err);
  if (text.empty())
    text = trim(output.out);
  if (text.size() > chars_max)
    text = trim(text.substr(text.size() - chars_max));
  return text;
}

}  // namespace vcube::fence
