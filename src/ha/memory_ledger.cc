#include "ha/memory_ledger.h"

#include <utility>

#include "ha/check.h"

namespace vcube::ha {

void memory_ledger::charge(const std::string& vm, int64_t memory_mib, std::set<std::string> nodes) {
  HA_CHECK(memory_mib >= 0);
  entry& e = by_vm_[vm];
  for (const std::string& n : e.nodes) {
    used_mib_[n] -= e.memory_mib;
  }
  e.memory_mib = memory_mib;
  e.nodes = std::move(nodes);
  for (const std::string& n : e.nodes) {
    used_mib_[n] += e.memory_mib;
  }
}

int64_t memory_ledger::used_mib(const std::string& node, const std::string& except_vm) const {
  auto used = used_mib_.find(node);
  int64_t total = used == used_mib_.end() ? 0 : used->second;
  auto own = by_vm_.find(except_vm);
  if (own != by_vm_.end() && own->second.nodes.contains(node)) {
    total -= own->second.memory_mib;
  }
  return total;
}

}  // namespace vcube::ha
