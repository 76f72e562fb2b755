// decide_context: what the parts of one decide() share. It lives on decide()'s
// stack; every reference points into decide()'s arguments or locals.
#pragma once

#include <vector>

#include "ha/alerts.h"
#include "ha/core.h"
#include "ha/memory_ledger.h"
#include "ha/view.h"

namespace vcube::ha {

struct decide_context {
  const settings& config;
  const cluster_view& view;
  state& next;
  std::vector<action>& actions;
  memory_ledger& ledger;
  alert_book& alerts;

  int64_t now_ms() const { return view.in().now_ms; }
};

}  // namespace vcube::ha
