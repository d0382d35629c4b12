// Rows grouped by message id through a partitioned hash table, then a counting sort.
//
// The table is first_row_table.hpp's, as for duplicates.cpp: every thread keeps only the
// ids of its hash partition, writing for each of its rows the first row holding the same id. Groups are then numbered in one pass
// in row order (a row that is its id's first opens the next group), which is exactly the
// order of first appearance whatever the partitioning, and the rows are scattered into
// their groups by a counting sort, keeping row order within each group.
#include "waconv/message_groups.hpp"

#include "first_row_table.hpp"
#include "parallel.hpp"
#include "string_hash.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace waconv {
namespace {

template <class Rows>
class FirstRows {
 public:
  FirstRows(const StringColumn& ids, const Rows& rows) : ids_(ids), rows_(rows) {}

  // Per row, the first row holding the same id.
  RowBuffer<std::uint32_t> run(int threads) const {
    const std::size_t n = ids_.size;
    RowBuffer<std::uint32_t> first(n);
    const std::size_t parts = detail::thread_count(threads, n);
    detail::parallel_chunks(parts, parts, [&](std::size_t, std::size_t, std::size_t part) {
      fill_partition(part, parts, first.data());
    });
    return first;
  }

 private:
  std::string_view value(std::size_t row) const { return rows_.value(row); }

  void fill_partition(std::size_t part, std::size_t parts, std::uint32_t* first) const {
    // A message has a few statuses: room for about a third of this partition's rows.
    detail::first_rows_of_partition(
        ids_.size, part, parts, ids_.size / parts / 3,
        [&](std::size_t row, std::uint64_t& hash) {
          detail::Key key;
          hash = detail::make_key(value(row), rows_.end(row), key);
          return true;
        },
        [&](std::uint32_t a, std::uint32_t b) { return value(a) == value(b); },
        [&](std::uint32_t row, std::uint32_t first_row) { first[row] = first_row; });
  }

  const StringColumn& ids_;
  Rows rows_;  // OffsetStrings or ViewStrings
};

RowGroups groups_from_first_rows(RowBuffer<std::uint32_t>&& first) {
  const std::size_t n = first.size();
  // Reused in place: a row's first row becomes its group (first[row] <= row, already numbered).
  RowBuffer<std::uint32_t>& group = first;
  std::vector<std::int64_t> sizes;
  for (std::size_t row = 0; row < n; ++row) {
    if (first[row] == row) {
      group[row] = static_cast<std::uint32_t>(sizes.size());
      sizes.push_back(0);
    } else {
      group[row] = group[first[row]];
    }
    ++sizes[group[row]];
  }
  RowGroups out;
  out.starts.resize(sizes.size() + 1);
  out.starts[0] = 0;
  for (std::size_t g = 0; g < sizes.size(); ++g) out.starts[g + 1] = out.starts[g] + sizes[g];
  // sizes becomes each group's next free place.
  std::copy(out.starts.begin(), out.starts.end() - 1, sizes.begin());
  out.rows.resize(n);
  for (std::size_t row = 0; row < n; ++row) out.rows[sizes[group[row]]++] = static_cast<std::int64_t>(row);
  return out;
}

}  // namespace

RowGroups group_rows_by_id(const StringColumn& ids, int threads) {
  // A slot keeps row + 1 in 32 bits.
  if (ids.size >= std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("group_rows_by_id: 2^32 - 1 rows or more");
  }
  if (ids.validity != nullptr) {
    for (std::size_t row = 0; row < ids.size; ++row) {
      if (!ids.is_valid(row)) throw std::invalid_argument("group_rows_by_id: null id at row " + std::to_string(row));
    }
  }
  return ids.with_rows([&](const auto& rows) {
    using Rows = std::remove_cvref_t<decltype(rows)>;
    return groups_from_first_rows(FirstRows<Rows>(ids, rows).run(threads));
  });
}

}  // namespace waconv
