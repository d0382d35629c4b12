// Rows grouped by message id through a partitioned hash table, then a counting sort.
//
// The table is duplicates.cpp's: 8-byte slots holding the low 32 bits of the id's hash and
// the first row that held it, a match confirmed against that row's bytes. Every thread
// reads and hashes every row but keeps only the ids of its hash partition, writing for
// each of its rows the first row holding the same id. Groups are then numbered in one pass
// in row order (a row that is its id's first opens the next group), which is exactly the
// order of first appearance whatever the partitioning, and the rows are scattered into
// their groups by a counting sort, keeping row order within each group.
#include "waconv/message_groups.hpp"

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

struct Slot {
  std::uint32_t hash = 0;          // low 32 bits of the id's hash; they also pick the slot
  std::uint32_t row_plus_one = 0;  // first row holding the id, plus one; 0 marks an empty slot
};

template <class Offset>
class FirstRows {
 public:
  FirstRows(const StringColumn& ids, const Offset* offsets)
      : ids_(ids), offsets_(offsets), end_(ids.data + offsets[ids.size]) {}

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
  static constexpr std::size_t kBatch = 1024;
  static constexpr std::size_t kAhead = 16;
  static constexpr std::size_t kMinSlots = 16;

  struct Table {
    RowBuffer<Slot> slots;
    std::size_t mask = 0;
    std::size_t used = 0;
  };

  std::string_view value(std::size_t row) const { return ids_.value(offsets_, row); }

  static std::size_t partition_of(std::uint64_t hash, std::size_t parts) {
    return static_cast<std::size_t>(((hash >> 32) * parts) >> 32);
  }

  void fill_partition(std::size_t part, std::size_t parts, std::uint32_t* first) const {
    const std::size_t n = ids_.size;
    Table table;
    // A message has a few statuses: room for this partition's share at a load of at most 2/3.
    resize(table, std::max(kMinSlots, std::bit_ceil(n / parts / 2 + 1)));
    std::vector<std::uint64_t> hashes(kBatch);
    std::vector<std::uint32_t> rows(kBatch);
    for (std::size_t start = 0; start < n; start += kBatch) {
      const std::size_t count = std::min(kBatch, n - start);
      std::size_t mine = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = start + i;
        detail::Key key;
        const std::uint64_t hash = detail::make_key(value(row), end_, key);
        rows[mine] = static_cast<std::uint32_t>(row);
        hashes[mine] = hash;
        mine += parts == 1 || partition_of(hash, parts) == part;  // no branch: a coin toss
      }
      for (std::size_t k = 0; k < std::min(mine, kAhead); ++k) detail::prefetch(&table.slots[hashes[k] & table.mask]);
      for (std::size_t k = 0; k < mine; ++k) {
        if (k + kAhead < mine) detail::prefetch(&table.slots[hashes[k + kAhead] & table.mask]);
        first[rows[k]] = first_holding(table, static_cast<std::uint32_t>(hashes[k]), rows[k]);
      }
    }
  }

  // The first row holding the row's id; the row itself (and added) if none did.
  std::uint32_t first_holding(Table& table, std::uint32_t hash, std::uint32_t row) const {
    for (std::size_t s = hash & table.mask;; s = (s + 1) & table.mask) {
      Slot& slot = table.slots[s];
      if (slot.row_plus_one == 0) {
        slot = {hash, row + 1};
        if (++table.used * 3 > table.slots.size() * 2) grow(table);
        return row;
      }
      if (slot.hash == hash && value(slot.row_plus_one - 1) == value(row)) return slot.row_plus_one - 1;
    }
  }

  static void resize(Table& table, std::size_t size) {
    table.slots.assign(size, Slot{});
    table.mask = size - 1;
  }

  // The stored hash bits pick the slot, so entries move without rereading any id.
  static void grow(Table& table) {
    RowBuffer<Slot> old = std::move(table.slots);
    resize(table, old.size() * 2);
    for (const Slot& entry : old) {
      if (entry.row_plus_one == 0) continue;
      std::size_t s = entry.hash & table.mask;
      while (table.slots[s].row_plus_one != 0) s = (s + 1) & table.mask;
      table.slots[s] = entry;
    }
  }

  const StringColumn& ids_;
  const Offset* offsets_;
  const char* end_;  // nothing at or past it is read
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
  return ids.with_offsets([&](const auto* offsets) {
    using Offset = std::remove_cv_t<std::remove_pointer_t<decltype(offsets)>>;
    return groups_from_first_rows(FirstRows<Offset>(ids, offsets).run(threads));
  });
}

}  // namespace waconv
