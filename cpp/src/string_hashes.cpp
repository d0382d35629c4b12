// Per-row hashes of an Arrow string column, for partitioning rows by id (the stream driver
// spills message ids by them): the hash the factorizer and the duplicate check use.
#include "waconv/strings.hpp"

#include "parallel.hpp"
#include "string_hash.hpp"

#include <type_traits>

namespace waconv {

std::vector<std::uint64_t> string_hashes(const StringColumn& column, int threads) {
  std::vector<std::uint64_t> hashes(column.size);
  column.with_offsets([&](const auto* offsets) {
    using Offset = std::remove_cv_t<std::remove_pointer_t<decltype(offsets)>>;
    const char* end = column.data + (column.size ? offsets[column.size] : Offset{0});
    detail::parallel_chunks(column.size, detail::thread_count(threads, column.size), [&](std::size_t first,
                                                                                          std::size_t last) {
      detail::Key key;
      for (std::size_t row = first; row < last; ++row) {
        hashes[row] = column.is_valid(row) ? detail::make_key(column.value(offsets, row), end, key) : 0;
      }
    });
    return 0;
  });
  return hashes;
}

}  // namespace waconv
