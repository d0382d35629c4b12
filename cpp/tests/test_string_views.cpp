// Arrow string_view columns must read exactly like the same values with offsets: every
// string function of the core over both layouts, inline and out-of-line values, several
// data buffers, nulls and slices.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

#include "arrow_strings.hpp"
#include "waconv/duplicates.hpp"
#include "waconv/strings.hpp"

using namespace waconv;
using waconv::testing::ArrowStrings;
using waconv::testing::ArrowViews;

namespace {

// Repeating values of 0-40 bytes (around the 12 inline bytes and the 24-byte head), sharing
// prefixes, some null.
std::vector<std::optional<std::string>> random_values(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> pool;
  for (std::size_t length : {0, 1, 11, 12, 13, 16, 23, 24, 25, 40}) {
    const std::string prefix = std::string("+5511987654321DE.1349120865530274191").substr(0, length / 2);
    for (char c : {'a', 'b', '\0'}) pool.push_back(prefix + std::string(length - prefix.size(), c));
    pool.push_back(std::string(length, 'x'));
    if (length > 0) pool.back().back() = 'y';
  }
  std::uniform_int_distribution<std::size_t> pick(0, pool.size());  // pool.size(): null
  std::vector<std::optional<std::string>> values(count);
  for (auto& v : values) {
    const std::size_t k = pick(rng);
    if (k < pool.size()) v = pool[k];
  }
  return values;
}

}  // namespace

TEST_CASE("string_view columns factorize, encode and find duplicates as offsets columns do", "[strings][views]") {
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto values = random_values(3001, seed);
    const ArrowStrings<std::int64_t> offsets(values);
    for (std::size_t buffer_bytes : {16, 100, 1 << 20}) {
      const ArrowViews views(values, buffer_bytes);
      if (buffer_bytes == 16) REQUIRE(views.buffers.size() > 10);
      for (const auto [first, count] : {std::pair<std::size_t, std::size_t>{0, 3001}, {7, 2000}, {2999, 2}, {5, 0}}) {
        const StringColumn plain = offsets.view(first, count), viewed = views.view(first, count);
        for (int threads : {1, 2}) {
          const auto want = factorize_sorted(plain, threads), got = factorize_sorted(viewed, threads);
          CHECK(got.codes == want.codes);
          CHECK(got.first_row == want.first_row);
        }
        const std::vector<std::string> vocabulary{"", "+5511987654321DE.13491", "xxxxxxxxxxxy"};
        const std::vector<std::int8_t> codes{0, 1, 2};
        const auto want = encode_vocabulary(plain, vocabulary, codes, -1, 2);
        const auto got = encode_vocabulary(viewed, vocabulary, codes, -1, 2);
        REQUIRE(got.first_unknown == want.first_unknown);
        CHECK(got.first_null == want.first_null);
        std::vector<std::int8_t> direction(count);
        for (std::size_t i = 0; i < count; ++i) direction[i] = static_cast<std::int8_t>(i % 3 == 0);
        CHECK(duplicate_rows(viewed, direction.data(), 2) == duplicate_rows(plain, direction.data(), 2));
      }
    }
  }
}

TEST_CASE("a StringColumn with two layouts set is refused", "[strings][views]") {
  const std::vector<std::optional<std::string>> values{std::string("a")};
  const ArrowStrings<std::int32_t> offsets(values);
  const ArrowViews views(values, 16);
  StringColumn both = offsets.view();
  both.views = views.views.data();
  CHECK_THROWS_AS(factorize_sorted(both), std::invalid_argument);
}
