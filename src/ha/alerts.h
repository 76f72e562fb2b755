// alert_book: the problems that hold during one decide(), keyed ("vm:web",
// "fence:n2"). Alerts are level-based: a problem that still holds is raised
// again after alert_repeat_ms; a key that no longer holds is forgotten, so the
// same problem coming back later is raised at once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ha/core.h"

namespace vcube::ha {

class alert_book {
 public:
  // Records that the problem `key` holds now. The first note of a key wins.
  void note(const std::string& key, std::string severity, std::string subject, std::string text);
  // Emits raise_alert for keys not raised within repeat_ms and rewrites
  // `alerted_ms` to exactly the keys that hold now. A last-raised time in the
  // future (the clock went back) counts as now.
  void flush(int64_t now_ms, int64_t repeat_ms, std::map<std::string, int64_t>& alerted_ms,
             std::vector<action>& actions) const;

 private:
  std::map<std::string, raise_alert> holding_;
};

}  // namespace vcube::ha
