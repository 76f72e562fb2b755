// Helpers shared by the OpenSSL-based files of this directory; not public.
#pragma once

#include <openssl/bio.h>

#include <memory>
#include <string>

#include "common/error.h"

namespace vcube::api::detail {

struct bio_free {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

// `what` followed by the first reason in OpenSSL's error queue, which it clears.
error openssl_error(errc code, const std::string& what);

// Everything written to a memory BIO.
std::string bio_contents(BIO* bio);

}  // namespace vcube::api::detail
