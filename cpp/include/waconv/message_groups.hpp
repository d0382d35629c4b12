// Rows grouped by message id: the step every per-message aggregation of webhook rows
// (several statuses of one outbound message, repeated copies of one inbound message) starts
// from, done on the core's string hashing instead of a dictionary encode and a lexsort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "waconv/buffers.hpp"
#include "waconv/strings.hpp"

namespace waconv {

// Group g holds rows[starts[g] .. starts[g + 1]). Groups come in order of their id's first
// appearance (the order pyarrow's dictionary_encode numbers distinct values in), and each
// group's rows in row order until a caller ranks them.
struct RowGroups {
  std::vector<std::int64_t> starts{0};
  RowBuffer<std::int64_t> rows;

  std::size_t size() const { return starts.size() - 1; }
};

// The rows of an id column grouped by id (bytewise equal = same id). Null ids have no
// group to go to: std::invalid_argument. threads: 0 = one per core; each thread owns a hash
// partition of the ids.
RowGroups group_rows_by_id(const StringColumn& ids, int threads = 0);

}  // namespace waconv
