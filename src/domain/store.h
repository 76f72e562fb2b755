// store: this node's copy of the replicated configuration ("domain"): the
// objects, the pending (staged) change set and the domain version, kept in
// memory and durably in one SQLite file (WAL, synchronous=FULL).
//
// Every successful apply() produces exactly one new version (version()+1).
// apply() is deterministic: stores that applied the same requests starting
// from the same snapshot have the same checksum(). It validates the whole
// request against the state it would produce and then writes it in one SQLite
// transaction; on any error nothing changes.
//
// Not thread-safe: one owner (the io_context thread in vcubed).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "domain/sqlite.h"
#include "domain/types.h"

namespace vcube::domain {

class store {
 public:
  // Opens or creates the database at `path` (":memory:" for tests). A file
  // that is not a vcube domain database, has an unsupported format version or
  // fails SQLite's quick_check is an error naming the file and what to do.
  static result<std::unique_ptr<store>> open(const std::string& path);
  ~store();

  uint64_t version() const { return version_; }
  std::optional<object> get(std::string_view kind, std::string_view name) const;
  std::vector<object> list(std::string_view kind) const;  // sorted by name
  std::vector<change> staged() const { return staged_; }

  // See write_request. Returns the new version, or the first error
  // (invalid_input / conflict / not_found / too_large; internal on I/O error).
  result<uint64_t> apply(const write_request& request);

  // Hex SHA-256 of a canonical serialisation of version, objects and staged.
  std::string checksum() const;

  // {"format": "vcube-domain-snapshot", "format_version": 1, "version": N,
  //  "objects": [{"kind", "name", "version", "value"}...], "staged": [change...]}
  json snapshot() const;
  // Replaces everything (version included) atomically after validating it.
  status load_snapshot(const json& snapshot);

  // The backup document of docs/api.md (defined in backup.cc).
  json export_backup(std::string cluster_name) const;

  using kind_map = std::map<std::string, std::map<std::string, object, std::less<>>, std::less<>>;

 private:
  struct statements;
  struct state {
    kind_map objects;
    std::vector<change> staged;
    uint64_t version = 0;
    std::set<std::pair<std::string, std::string>> touched;  // (kind, name) rows to write
    bool is_staged_changed = false;
    bool is_full_rewrite = false;
  };
  store(sqlite::database db, std::unique_ptr<statements> stmts);

  status load();
  result<state> next_state(const write_request& request) const;
  // Writes `next` in one transaction and adopts it in memory.
  status persist(state next);

  sqlite::database db_;
  std::unique_ptr<statements> stmts_;
  kind_map objects_;
  std::vector<change> staged_;
  uint64_t version_ = 0;
  mutable std::optional<std::string> checksum_cache_;
};

}  // namespace vcube::domain
