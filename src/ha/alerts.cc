#include "ha/alerts.h"

#include <algorithm>
#include <utility>

namespace vcube::ha {

void alert_book::note(const std::string& key, std::string severity, std::string subject,
                      std::string text) {
  holding_.emplace(key, raise_alert{std::move(severity), std::move(subject), std::move(text)});
}

void alert_book::flush(int64_t now_ms, int64_t repeat_ms,
                       std::map<std::string, int64_t>& alerted_ms,
                       std::vector<action>& actions) const {
  std::map<std::string, int64_t> next;
  for (const auto& [key, alert] : holding_) {
    auto it = alerted_ms.find(key);
    if (it == alerted_ms.end() || now_ms - std::min(it->second, now_ms) >= repeat_ms) {
      actions.emplace_back(alert);
      next[key] = now_ms;
    } else {
      next[key] = std::min(it->second, now_ms);
    }
  }
  alerted_ms = std::move(next);
}

}  // namespace vcube::ha
