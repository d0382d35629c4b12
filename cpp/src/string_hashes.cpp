// Per-row hashes of an Arrow string column, for partitioning rows by id (the stream driver
// spills message ids by them): the hash the factorizer and the duplicate check use.
#include "waconv/strings.hpp"

#include "parallel.hpp"
#include "string_hash.hpp"


namespace waconv {

std::vector<std::uint64_t> string_hashes(const StringColumn& column, int threads) {
  std::vector<std::uint64_t> hashes(column.size);
  column.with_rows([&](const auto& rows) {
    detail::parallel_chunks(column.size, detail::thread_count(threads, column.size), [&](std::size_t first,
                                                                                          std::size_t last) {
      detail::Key key;
      for (std::size_t row = first; row < last; ++row) {
        hashes[row] = column.is_valid(row) ? detail::make_key(rows.value(row), rows.end(row), key) : 0;
      }
    });
    return 0;
  });
  return hashes;
}

}  // namespace waconv
