// The backup document of docs/api.md (GET/POST /backup):
//   {"format": "vcube-domain-backup", "format_version": 1, "cluster": "lab",
//    "version": 12, "objects": {"network": {"lan": {...}}, ...}}
// store::export_backup writes it; import_request turns one into the import
// write_request that restores it (node objects are skipped: the cluster's
// membership stays as it is).
#pragma once

#include "common/error.h"
#include "common/json.h"
#include "domain/types.h"

namespace vcube::domain {

// invalid_input on a wrong format, unknown kinds or malformed objects.
result<write_request> import_request(const json& backup);

}  // namespace vcube::domain
