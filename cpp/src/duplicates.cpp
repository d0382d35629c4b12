// Duplicate (message id, direction) rows: a row is one when first_row_table.hpp finds an
// earlier row holding its (id, direction). Hashing is the factorizer's (string_hash.hpp),
// with the direction mixed in.
#include "waconv/duplicates.hpp"

#include "waconv/buffers.hpp"
#include "first_row_table.hpp"
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
  // Only 1 bytes are written, each row by the one thread owning its id's partition.
  void find_in_partition(std::size_t part, std::size_t parts, std::uint8_t* duplicate) const {
    const std::size_t n = ids_.size();
    detail::first_rows_of_partition(
        n, part, parts, n / parts,
        [&](std::size_t row, std::uint64_t& hash) {
          if (!ids_.valid(row)) return false;
          hash = with_direction(ids_.hash(row), direction_[row]);
          return true;
        },
        [&](std::uint32_t first, std::uint32_t row) {
          return direction_[first] == direction_[row] && ids_.same(first, row);
        },
        [&](std::uint32_t row, std::uint32_t first) { duplicate[row] |= first != row; });
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
