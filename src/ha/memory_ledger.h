// memory_ledger: how much memory each node has promised, VM by VM. A VM uses
// memory on every node where a report says it is running or paused, and on
// the node its record targets (or is moving it to). The ledger is rebuilt from
// the input at every decide() and updated as records change.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>

namespace vcube::ha {

class memory_ledger {
 public:
  // `vm` now uses memory_mib on exactly `nodes` (replacing what it used before).
  void charge(const std::string& vm, int64_t memory_mib, std::set<std::string> nodes);
  // Memory used on `node` by every VM but `except_vm`.
  int64_t used_mib(const std::string& node, const std::string& except_vm) const;

 private:
  struct entry {
    int64_t memory_mib = 0;
    std::set<std::string> nodes;
  };
  // Lookups and sums only: iteration order never matters.
  std::unordered_map<std::string, entry> by_vm_;
  std::unordered_map<std::string, int64_t> used_mib_;
};

}  // namespace vcube::ha
