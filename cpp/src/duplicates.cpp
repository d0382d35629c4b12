// Duplicate (message id, direction) rows through a partitioned hash set.
//
// Message ids are nearly all distinct, so the set ends up holding one entry per row: a
// table of Keys (32 bytes, as the factorizer of user ids keeps) would need over 0.6 GB at
// 10M rows. Here a slot is 8 bytes, the low 32 bits of the hash and the row that first held
// the id; a slot whose hash bits match is confirmed against that row's bytes, which only
// true repeats (and one in 2^32 others) ever need. Hashing is the factorizer's
// (string_hash.hpp), with the direction mixed in.
//
// On several threads every thread reads and hashes every row but keeps only the rows whose
// hash falls in its partition (the high 32 bits), so the table misses, the bulk of the
// work, are divided and no tables are merged. Rows are hashed a batch at a time and the
// probes prefetch the slots of rows a few places ahead, keeping many misses in flight.
#include "waconv/duplicates.hpp"

#include "waconv/buffers.hpp"
#include "parallel.hpp"
#include "string_hash.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace waconv {
namespace {

using detail::mix;

struct Slot {
  std::uint32_t hash = 0;      // low 32 bits of the id's hash; they also pick the slot
  std::uint32_t row_plus_one = 0;  // first row holding the id, plus one; 0 marks an empty slot
};

std::uint64_t with_direction(std::uint64_t hash, std::int8_t direction) {
  return mix(hash ^ detail::kSecret0, static_cast<std::uint8_t>(direction) ^ detail::kSecret2);
}

// Rows of an Arrow string column.
template <class Rows>
struct StringIds {
  const StringColumn& column;
  Rows rows;  // OffsetStrings or ViewStrings

  std::size_t size() const { return column.size; }
  bool valid(std::size_t row) const { return column.is_valid(row); }
  std::string_view value(std::size_t row) const { return rows.value(row); }
  std::uint64_t hash(std::size_t row) const {
    detail::Key key;
    return detail::make_key(value(row), rows.end(row), key);
  }
  bool same(std::size_t a, std::size_t b) const { return value(a) == value(b); }
};

struct IntegerIds {
  const std::int64_t* values;
  std::size_t count;

  std::size_t size() const { return count; }
  static bool valid(std::size_t) { return true; }
  std::uint64_t hash(std::size_t row) const {
    return mix(static_cast<std::uint64_t>(values[row]) ^ detail::kSecret1, detail::kSecret3);
  }
  bool same(std::size_t a, std::size_t b) const { return values[a] == values[b]; }
};

template <class Ids>
class DuplicateFinder {
 public:
  DuplicateFinder(const Ids& ids, const std::int8_t* direction, int threads)
      : ids_(ids), direction_(direction), threads_(threads) {}

  std::vector<std::uint8_t> run() {
    const std::size_t n = ids_.size();
    // A slot keeps row + 1 in 32 bits.
    if (n >= std::numeric_limits<std::uint32_t>::max()) throw std::length_error("duplicate_rows: 2^32 - 1 rows or more");
    std::vector<std::uint8_t> duplicate(n, 0);
    const std::size_t parts = detail::thread_count(threads_, n);
    detail::parallel_chunks(parts, parts, [&](std::size_t, std::size_t, std::size_t part) {
      find_in_partition(part, parts, duplicate.data());
    });
    return duplicate;
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

  static std::size_t partition_of(std::uint64_t hash, std::size_t parts) {
    return static_cast<std::size_t>(((hash >> 32) * parts) >> 32);
  }

  // Only 1 bytes are written, each row by the one thread owning its id's partition.
  void find_in_partition(std::size_t part, std::size_t parts, std::uint8_t* duplicate) const {
    const std::size_t n = ids_.size();
    Table table;
    // Nearly every id is distinct: room for this partition's share of the rows at a load
    // of at most 2/3, so the table rarely grows.
    resize(table, std::max(kMinSlots, std::bit_ceil(n / parts + n / parts / 2 + 1)));
    std::vector<std::uint64_t> hashes(kBatch);
    std::vector<std::uint32_t> rows(kBatch);
    for (std::size_t start = 0; start < n; start += kBatch) {
      const std::size_t count = std::min(kBatch, n - start);
      std::size_t mine = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = start + i;
        if (!ids_.valid(row)) continue;
        const std::uint64_t hash = with_direction(ids_.hash(row), direction_[row]);
        rows[mine] = static_cast<std::uint32_t>(row);
        hashes[mine] = hash;
        mine += parts == 1 || partition_of(hash, parts) == part;  // no branch: a coin toss
      }
      for (std::size_t k = 0; k < std::min(mine, kAhead); ++k) detail::prefetch(&table.slots[hashes[k] & table.mask]);
      for (std::size_t k = 0; k < mine; ++k) {
        if (k + kAhead < mine) detail::prefetch(&table.slots[hashes[k + kAhead] & table.mask]);
        duplicate[rows[k]] |= seen_before(table, static_cast<std::uint32_t>(hashes[k]), rows[k]);
      }
    }
  }

  // Whether an earlier row holds the row's (id, direction); if none does, the row is added.
  std::uint8_t seen_before(Table& table, std::uint32_t hash, std::uint32_t row) const {
    for (std::size_t s = hash & table.mask;; s = (s + 1) & table.mask) {
      Slot& slot = table.slots[s];
      if (slot.row_plus_one == 0) {
        slot = {hash, row + 1};
        if (++table.used * 3 > table.slots.size() * 2) grow(table);
        return 0;
      }
      if (slot.hash == hash) {
        const std::uint32_t first = slot.row_plus_one - 1;
        if (direction_[first] == direction_[row] && ids_.same(first, row)) return 1;
      }
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

  const Ids& ids_;
  const std::int8_t* direction_;
  int threads_;
};

}  // namespace

std::vector<std::uint8_t> duplicate_rows(const StringColumn& ids, const std::int8_t* direction, int threads) {
  return ids.with_rows([&](const auto& rows) {
    using Rows = std::remove_cvref_t<decltype(rows)>;
    const StringIds<Rows> string_rows{ids, rows};
    return DuplicateFinder<StringIds<Rows>>(string_rows, direction, threads).run();
  });
}

std::vector<std::uint8_t> duplicate_rows(const std::int64_t* ids, std::size_t size, const std::int8_t* direction,
                                         int threads) {
  const IntegerIds rows{ids, size};
  return DuplicateFinder<IntegerIds>(rows, direction, threads).run();
}

}  // namespace waconv
