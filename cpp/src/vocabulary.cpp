#include <stdexcept>
#include <string_view>

#include "parallel.hpp"
#include "waconv/strings.hpp"

namespace waconv {
namespace {

template <class Rows>
void encode_rows(const StringColumn& c, const Rows& rows, const std::vector<std::string>& vocabulary,
                 const std::vector<std::int8_t>& entry_codes, std::int8_t null_code, std::size_t first,
                 std::size_t last, std::int8_t* codes, std::int64_t& first_unknown, std::int64_t& first_null) {
  for (std::size_t row = first; row < last; ++row) {
    if (!c.is_valid(row)) {
      codes[row] = null_code;
      if (first_null < 0) first_null = static_cast<std::int64_t>(row);
      continue;
    }
    const std::string_view value = rows.value(row);
    std::size_t k = 0;
    while (k < vocabulary.size() && value != vocabulary[k]) ++k;
    if (k == vocabulary.size()) {
      first_unknown = static_cast<std::int64_t>(row);
      return;
    }
    codes[row] = entry_codes[k];
  }
}

}  // namespace

VocabularyCodes encode_vocabulary(const StringColumn& column, const std::vector<std::string>& vocabulary,
                                  const std::vector<std::int8_t>& codes, std::int8_t null_code, int threads) {
  if (codes.size() != vocabulary.size()) throw std::invalid_argument("encode_vocabulary: one code per entry");
  VocabularyCodes out;
  out.codes.resize(column.size);
  const std::size_t workers = detail::thread_count(threads, column.size);
  std::vector<std::int64_t> unknown(workers, -1), nulls(workers, -1);
  detail::parallel_chunks(column.size, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    column.with_rows([&](const auto& rows) {
      encode_rows(column, rows, vocabulary, codes, null_code, first, last, out.codes.data(), unknown[chunk],
                  nulls[chunk]);
    });
  });
  out.first_unknown = detail::first_found(unknown);
  out.first_null = detail::first_found(nulls);
  return out;
}

}  // namespace waconv
