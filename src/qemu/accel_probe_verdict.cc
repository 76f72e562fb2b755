// What a run of the probe guest says about KVM (accel_probe_failure).
#include <string.h>

#include <array>
#include <string_view>

#include "qemu/accel_probe_payload.h"
#include "qemu/accel_probe_run.h"

namespace vcube::qemu {
namespace {

constexpr std::size_t quote_bytes_max = 300;

struct probe_step {
  char letter;
  std::string_view name;
};

// accel_probe_payload.S prints each letter when its step is done.
constexpr std::array<probe_step, 5> steps = {{
    {'p', "switch to protected mode"},
    {'l', "switch to long mode"},
    {'m', "write 32 MiB of fresh memory"},
    {'c', "lock cmpxchg16b on RAM"},
    {'x', "deliver an exception (int3)"},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  return s.substr(0, quote_bytes_max);
}

std::string_view line_containing(std::string_view text, std::string_view needle) {
  auto at = text.find(needle);
  if (at == std::string_view::npos)
    return {};
  auto begin = text.rfind('\n', at);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  return trim(text.substr(begin, text.find('\n', at) - begin));
}

// QEMU's most telling line: an error if there is one, else the first that is
// not a warning (QEMU warns about CPU features it drops, which is harmless).
std::string_view qemu_words(std::string_view text) {
  if (auto error = line_containing(text, "error"); !error.empty())
    return error;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    if (!line.empty() && line.find("warning:") == std::string_view::npos)
      return line;
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return {};
}

// The letters the guest printed, as a count of steps done (the CX16 step may be skipped).
std::size_t steps_done(std::string_view serial) {
  std::size_t done = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (serial.find(steps[i].letter) != std::string_view::npos)
      done = i + 1;
  }
  return done;
}

std::string during(std::string_view serial) {
  std::size_t done = steps_done(serial);
  if (done == steps.size())
    return " after its last step";
  return " during step '" + std::string(steps[done].name) + "'";
}

bool finished(const accel_probe_run& run) {
  return run.exit_code == accel_probe_exit_success && run.serial.find('x') != std::string::npos &&
         run.serial.find('\n') != std::string::npos;
}

std::string internal_error_reason(const accel_probe_run& run) {
  std::string words =
      "'" + std::string(line_containing(run.stderr_text, "KVM internal error")) + "'";
  if (run.stderr_text.find("emulation failure") != std::string::npos)
    words += " (emulation failure)";
  return "the probe guest stopped with " + words + during(run.serial);
}

std::string exit_reason(const accel_probe_run& run) {
  std::string words(qemu_words(run.stderr_text));
  std::string how = run.term_signal != 0
                        ? "QEMU died of signal " + std::to_string(run.term_signal) + " (" +
                              strsignal(run.term_signal) + ")"
                        : "QEMU exited with status " + std::to_string(run.exit_code);
  return words.empty() ? how : how + ": " + words;
}

}  // namespace

std::string accel_probe_failure(const accel_probe_run& run, std::chrono::milliseconds deadline) {
  if (finished(run))
    return {};
  if (run.internal_error)
    return internal_error_reason(run);
  if (run.timed_out) {
    return "the probe guest did not finish within " + std::to_string(deadline.count()) + " ms" +
           during(run.serial);
  }
  if (run.exit_code == accel_probe_exit_no_exception)
    return "the probe guest's exception handler did not run (int3)";
  if (run.exit_code == 0 && run.term_signal == 0)
    return "the probe guest reset (a triple fault)" + during(run.serial);
  if (run.exit_code == accel_probe_exit_success)
    return "the probe guest exited without printing all its steps (serial: '" +
           std::string(trim(run.serial)) + "')";
  return exit_reason(run);
}

}  // namespace vcube::qemu
