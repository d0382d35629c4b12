// Internal: gzip files (one member or several in a row, as Python's gzip module reads them)
// inflated with zlib, either whole or block by block while other threads read the lines.
#pragma once

#include <string_view>

#include "waconv/webhooks.hpp"
#include "webhook_lines.hpp"

namespace waconv::detail {

// The whole stream inflated into `out`. false: corrupt, truncated, or followed by anything
// but another member (the exact reader then names the file).
bool inflate_all(std::string_view packed, PaddedBuffer& out);

// The JSON lines of a gzip stream, read in the same pass that inflates them: this thread
// inflates blocks of whole lines, `threads` others (0: one per core) read each block as it
// is ready, one share per block, so neither waits for the whole file. false as inflate_all.
bool read_gzip_lines(std::string_view packed, int threads, WebhookRead& out);

}  // namespace waconv::detail
