// Repeated deliveries: webhooks arrive at least once, so a log may hold the same message
// (same message id, same direction) more than once. The first row of each (id, direction)
// is the message; every later one is flagged and the scan skips it (docs/rules.md §Input columns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "waconv/strings.hpp"

namespace waconv {

// Per row 1 when an earlier row holds the same (message id, direction), else 0; null ids
// are never duplicates. Ids compare bytewise (equal UTF-8 = equal text). threads: 0 = one
// per core; each thread owns a hash partition of the ids and reads the rows in order, so
// the first occurrence in row order is always the one kept.
std::vector<std::uint8_t> duplicate_rows(const StringColumn& ids, const std::int8_t* direction, int threads = 0);

// The same for int64 ids (no nulls).
std::vector<std::uint8_t> duplicate_rows(const std::int64_t* ids, std::size_t size, const std::int8_t* direction,
                                         int threads = 0);

}  // namespace waconv
