// The CLI's commands over the API. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "cli/session.h"

namespace vcube::cli {

int cluster_status(session& s);
int node_list(session& s);
int node_show(session& s, const std::string& name);
int node_set_mode(session& s, const std::string& name, const std::string& mode);
int node_remove(session& s, const std::string& name, bool is_forced);

int object_get(session& s, const std::string& kind, const std::string& name);
struct set_options {
  std::vector<std::string> assignments;  // key=value (value parsed as JSON when it is JSON)
  std::string value_json;                // a whole value instead
  bool is_replace = false;               // do not merge with the existing value
  bool is_staged = false;
  std::optional<uint64_t> base_version;
};
int object_set(session& s, const std::string& kind, const std::string& name,
               const set_options& options);
int object_delete(session& s, const std::string& kind, const std::string& name, bool is_staged,
                  std::optional<uint64_t> base_version);

int staged_diff(session& s);
int staged_activate(session& s);
int staged_discard(session& s);
int backup_export(session& s, const std::string& file);
int backup_import(session& s, const std::string& file);
int login(session& s, const std::string& user, const std::string& password_file);

// key=value → (key, value); value is JSON when it parses as JSON, else a string.
result<std::pair<std::string, json>> parse_assignment(const std::string& text);

}  // namespace vcube::cli
