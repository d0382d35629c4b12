#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "arrow_strings.hpp"
#include "waconv/strings.hpp"

using namespace waconv;
using waconv::testing::ArrowStrings;

namespace {

// The obvious implementation: std::map orders std::string bytewise (char_traits compares as
// unsigned char).
FactorizedStrings naive(const std::vector<std::optional<std::string>>& values) {
  std::map<std::string, std::int64_t> first;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) first.emplace(*values[i], static_cast<std::int64_t>(i));
  }
  std::map<std::string, std::int32_t> position;
  FactorizedStrings out;
  for (const auto& [s, row] : first) {
    position.emplace(s, static_cast<std::int32_t>(out.first_row.size()));
    out.first_row.push_back(row);
  }
  for (const auto& value : values) out.codes.push_back(value ? position.at(*value) : -1);
  return out;
}

// Every thread count: several threads sort the buckets of the first splitting byte and
// renumber the rows, and must agree with one; so must any number of hash partitions
// (0: one per thread), whatever the thread count.
void check_against_naive(const std::vector<std::optional<std::string>>& values) {
  const auto expected = naive(values);
  const ArrowStrings<std::int32_t> narrow(values);
  const ArrowStrings<std::int64_t> wide(values);
  for (const auto [threads, partitions] : {std::pair{1, 0}, std::pair{2, 0}, std::pair{3, 0}, std::pair{3, 1},
                                           std::pair{1, 2}}) {
    INFO("threads " << threads << ", partitions " << partitions);
    const auto got32 = factorize_sorted(narrow.view(), threads, partitions);
    const auto got64 = factorize_sorted(wide.view(), threads, partitions);
    CHECK(got32.codes == expected.codes);
    CHECK(got32.first_row == expected.first_row);
    CHECK(got64.codes == expected.codes);
    CHECK(got64.first_row == expected.first_row);
  }
}

std::string random_string(std::mt19937_64& rng, std::size_t max_length, const std::vector<std::string>& alphabet) {
  std::uniform_int_distribution<std::size_t> length(0, max_length);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (std::size_t n = length(rng); n > 0; --n) s += alphabet[pick(rng)];
  return s;
}

}  // namespace

TEST_CASE("factorize_sorted numbers distinct strings in sorted order", "[strings]") {
  const std::vector<std::optional<std::string>> values{"b", "a", "b", "c", "a"};
  const ArrowStrings<std::int32_t> column(values);
  const auto result = factorize_sorted(column.view());
  CHECK(result.codes == std::vector<std::int32_t>{1, 0, 1, 2, 0});
  CHECK(result.first_row == std::vector<std::int64_t>{1, 0, 3});
}

TEST_CASE("factorize_sorted gives nulls -1 and no unique", "[strings]") {
  const std::vector<std::optional<std::string>> values{std::nullopt, "x", std::nullopt, "x", std::nullopt};
  const ArrowStrings<std::int32_t> column(values);
  const auto result = factorize_sorted(column.view());
  CHECK(result.codes == std::vector<std::int32_t>{-1, 0, -1, 0, -1});
  CHECK(result.first_row == std::vector<std::int64_t>{1});

  const ArrowStrings<std::int32_t> all_null(std::vector<std::optional<std::string>>(20));
  const auto none = factorize_sorted(all_null.view());
  CHECK(none.codes == std::vector<std::int32_t>(20, -1));
  CHECK(none.first_row.empty());
}

TEST_CASE("factorize_sorted keeps the empty string apart from nulls and sorts it first", "[strings]") {
  const std::vector<std::optional<std::string>> values{"a", "", std::nullopt, "", std::string(1, '\0'), "a"};
  check_against_naive(values);
  const ArrowStrings<std::int64_t> column(values);
  const auto result = factorize_sorted(column.view());
  CHECK(result.codes == std::vector<std::int32_t>{2, 0, -1, 0, 1, 2});
}

TEST_CASE("factorize_sorted handles an empty column and a column without a bitmap", "[strings]") {
  const ArrowStrings<std::int32_t> empty(std::vector<std::optional<std::string>>{});
  const auto nothing = factorize_sorted(empty.view());
  CHECK(nothing.codes.empty());
  CHECK(nothing.first_row.empty());

  const ArrowStrings<std::int32_t> column(std::vector<std::optional<std::string>>{"z", "y", "z"});
  const auto result = factorize_sorted(column.view(0, 3, /*with_validity=*/false));
  CHECK(result.codes == std::vector<std::int32_t>{1, 0, 1});
}

TEST_CASE("factorize_sorted reads int32 and int64 offsets alike", "[strings]") {
  const std::vector<std::optional<std::string>> values{"+5511987654321", "+5511987654320", std::nullopt,
                                                      "+5511987654321", "US.13491208655302741918"};
  check_against_naive(values);
}

TEST_CASE("factorize_sorted honours a non-zero array offset", "[strings]") {
  std::vector<std::optional<std::string>> values;
  for (int i = 0; i < 40; ++i) {
    if (i % 7 == 3) {
      values.emplace_back(std::nullopt);
    } else {
      values.emplace_back("id" + std::to_string(i % 11));
    }
  }
  const ArrowStrings<std::int32_t> narrow(values);
  const ArrowStrings<std::int64_t> wide(values);
  for (const std::size_t first : {1u, 5u, 13u}) {
    const std::size_t count = 20;
    const std::vector<std::optional<std::string>> slice(values.begin() + first, values.begin() + first + count);
    const auto expected = naive(slice);
    const auto got32 = factorize_sorted(narrow.view(first, count));
    const auto got64 = factorize_sorted(wide.view(first, count));
    CHECK(got32.codes == expected.codes);
    CHECK(got32.first_row == expected.first_row);
    CHECK(got64.codes == expected.codes);
    CHECK(got64.first_row == expected.first_row);
  }
}

TEST_CASE("factorize_sorted orders multi-byte UTF-8 by code point", "[strings]") {
  // Code point order: 'z' (U+007A) < 'é' (U+00E9) < 'ω' (U+03C9) < '中' (U+4E2D) < '😀' (U+1F600).
  const std::vector<std::optional<std::string>> values{"😀", "中", "ω", "é", "z", "ée", "zz", "中😀"};
  const ArrowStrings<std::int32_t> column(values);
  const auto result = factorize_sorted(column.view());
  CHECK(result.codes == std::vector<std::int32_t>{7, 5, 4, 2, 0, 3, 1, 6});
  check_against_naive(values);
}

TEST_CASE("factorize_sorted orders strings that share their inline head", "[strings]") {
  // The core holds the first 24 bytes inline; ties there fall back to the bytes beyond.
  for (const std::size_t head : {8u, 16u, 24u}) {
    const std::string h(head, 'q');
    const std::vector<std::optional<std::string>> values{
        h + "b",  h + "a",    h,        h + "ab", h.substr(0, head - 1), h + std::string(1, '\0'),
        h + "b",  h + "\xff", h + "a", h + "ba", h + "a" + std::string(20, 'x'),
        h + "a" + std::string(20, 'y'), h + "a" + std::string(19, 'x')};
    check_against_naive(values);
  }
}

TEST_CASE("factorize_sorted reads strings ending right at the end of the data buffer", "[strings]") {
  // The last values cannot be read with whole 8-byte loads: the core must not read past them.
  for (std::size_t length = 0; length <= 40; ++length) {
    std::vector<std::optional<std::string>> values{std::string(length, 'a'), "z", std::string(length, 'a')};
    const ArrowStrings<std::int32_t> column(values);
    std::vector<char> exact(column.data.begin(), column.data.end());  // no terminating byte
    StringColumn view = column.view();
    view.data = exact.data();
    const auto result = factorize_sorted(view);
    CHECK(result.codes == std::vector<std::int32_t>{0, 1, 0});
  }
}

TEST_CASE("factorize_sorted keeps 100k distinct strings apart through many table growths", "[strings]") {
  // Phone-number-like ids (inline), BSUID-like ids (24 bytes, inline) and longer ids sharing a
  // 28-byte prefix (compared through the data buffer), all differing only in their last digits.
  for (const std::string prefix : {"+55119", "DE.1349120865530", "user-0000000000000000000000-"}) {
    std::vector<std::optional<std::string>> values;
    for (int repeat = 0; repeat < 3; ++repeat) {
      for (int i = 0; i < 100000; ++i) {
        values.emplace_back(prefix + std::to_string(10000000 + (i * 7919 + repeat) % 100000));
      }
    }
    const ArrowStrings<std::int32_t> column(values);
    const auto result = factorize_sorted(column.view());
    CHECK(result.first_row.size() == 100000);
    check_against_naive(values);
  }
}

TEST_CASE("factorize_sorted splits a million rows into per-thread partitions without a difference", "[strings]") {
  // Past 2^20 rows each thread numbers its own hash partition; nulls, growths of the
  // partitions' tables and strings compared through the data buffer must all come out as
  // with one table, for 2 and 3 partitions (3 leaves one partition code unused).
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> user(0, 149999);
  std::vector<std::optional<std::string>> values;
  const std::size_t rows = (std::size_t{1} << 20) + 4321;
  values.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const int p = percent(rng);
    const std::string id = std::to_string(10000000 + user(rng));
    if (p < 2) {
      values.emplace_back(std::nullopt);
    } else if (p < 12) {
      values.emplace_back("user-0000000000000000000000-" + id);
    } else {
      values.emplace_back("+55119" + id);
    }
  }
  check_against_naive(values);
}

TEST_CASE("factorize_sorted equals a std::map implementation on random data", "[strings]") {
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> ascii{"a", "b", "0", "+", std::string(1, '\0')};
  const std::vector<std::string> unicode{"a", "é", "中", "😀", "\x7f"};
  for (int trial = 0; trial < 30; ++trial) {
    const auto& alphabet = trial % 2 == 0 ? ascii : unicode;
    const std::size_t max_length = trial % 3 == 0 ? 4 : 30;  // short: many repeats; long: past 16 bytes
    std::vector<std::optional<std::string>> values;
    std::uniform_int_distribution<int> percent(0, 99);
    for (int i = 0; i < 2000; ++i) {
      if (percent(rng) < 10) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(random_string(rng, max_length, alphabet));
      }
    }
    check_against_naive(values);
  }
}

TEST_CASE("factorize_sorted rejects a column without exactly one offsets buffer", "[strings]") {
  StringColumn column;
  CHECK_THROWS_AS(factorize_sorted(column), std::invalid_argument);
  const std::int32_t offsets32[] = {0};
  const std::int64_t offsets64[] = {0};
  column.offsets32 = offsets32;
  column.offsets64 = offsets64;
  CHECK_THROWS_AS(factorize_sorted(column), std::invalid_argument);
}

TEST_CASE("encode_vocabulary codes exact spellings, nulls as -1, and finds the first stranger", "[strings]") {
  const std::vector<std::string> vocabulary{"inbound", "outbound"};
  const std::vector<std::optional<std::string>> values{"outbound", std::nullopt, "inbound", "outbound"};
  const ArrowStrings<std::int32_t> column(values);
  const auto result = encode_vocabulary(column.view(), vocabulary, {0, 1}, -1);
  CHECK(result.codes == std::vector<std::int8_t>{1, -1, 0, 1});
  CHECK(result.first_null == 1);
  CHECK(result.first_unknown == -1);

  // "Outbound" and "inbound " are other spellings: the caller's normalising path decides.
  const std::vector<std::optional<std::string>> odd{"inbound", "outbound", "Outbound", "inbound "};
  const ArrowStrings<std::int64_t> wide(odd);
  CHECK(encode_vocabulary(wide.view(), vocabulary, {0, 1}, -1).first_unknown == 2);
}

TEST_CASE("encode_vocabulary reports the first unknown and null rows whatever the thread count", "[strings]") {
  std::vector<std::optional<std::string>> values(250'001, std::string("utility"));
  values[180'000] = std::nullopt;
  values[200'003] = "promo";
  values[240'000] = "bogus";
  const ArrowStrings<std::int32_t> column(values);
  for (int threads : {1, 2, 3}) {
    const auto result = encode_vocabulary(column.view(), {"", "marketing", "utility"}, {0, 1, 2}, -1, threads);
    CHECK(result.first_unknown == 200'003);
    CHECK(result.first_null == 180'000);
    CHECK(result.codes[0] == 2);
  }
}

TEST_CASE("encode_vocabulary matches whole strings only, as a plain compare would", "[strings]") {
  // Entries that are prefixes of one another, differ only past 8 or 16 bytes, hold a NUL,
  // repeat (the first wins), or are longer than the 16 bytes compared as words; rows drawn
  // from them and from near misses, the last one ending at the very end of the data buffer.
  const std::string nul("in\0bound", 8);
  const std::vector<std::string> vocabulary{"",          "in",   "inbound", nul,   "outbound",  "outbound_",
                                            "marketing_lite", "marketing_lit3", "authentication_international",
                                            "authentication_internationaL", "inbound"};
  std::vector<std::int8_t> entry_codes;
  for (std::size_t k = 0; k < vocabulary.size(); ++k) entry_codes.push_back(static_cast<std::int8_t>(k));
  std::vector<std::string> pool = vocabulary;
  for (const std::string& word : vocabulary) {
    if (!word.empty()) pool.push_back(word.substr(0, word.size() - 1));
    pool.push_back(word + "x");
    pool.push_back(word + std::string(1, '\0'));
  }
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::optional<std::string>> values;
    for (int i = 0; i < 40; ++i) {
      const std::size_t pick = rng() % (pool.size() + 1);
      if (pick == pool.size()) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(pool[pick]);
      }
    }
    std::vector<std::int8_t> expected;
    std::int64_t expected_unknown = -1;
    for (std::size_t row = 0; row < values.size() && expected_unknown < 0; ++row) {
      if (!values[row]) {
        expected.push_back(-1);
        continue;
      }
      const auto at = std::find(vocabulary.begin(), vocabulary.end(), *values[row]);
      if (at == vocabulary.end()) {
        expected_unknown = static_cast<std::int64_t>(row);
      } else {
        expected.push_back(static_cast<std::int8_t>(at - vocabulary.begin()));
      }
    }
    const ArrowStrings<std::int32_t> narrow(values);
    const ArrowStrings<std::int64_t> wide(values);
    for (const StringColumn& column : {narrow.view(), wide.view()}) {
      const auto got = encode_vocabulary(column, vocabulary, entry_codes, -1, 1);
      REQUIRE(got.first_unknown == expected_unknown);
      const std::vector<std::int8_t> known(got.codes.begin(), got.codes.begin() + static_cast<std::ptrdiff_t>(expected.size()));
      CHECK(known == expected);
    }
  }
}

TEST_CASE("factorize_integers equals a sorted map of the values, whatever the thread count", "[strings]") {
  std::mt19937_64 rng(7);
  for (std::int64_t distinct : {1, 3, 200, 5000}) {
    std::uniform_int_distribution<std::int64_t> pick(-distinct, distinct);
    std::bernoulli_distribution far(0.5);  // half the values near INT64_MIN / 2
    std::vector<std::int64_t> values(1201);
    for (auto& v : values) v = pick(rng) * 1'000'003 + (far(rng) ? std::numeric_limits<std::int64_t>::min() / 2 : 0);
    std::map<std::int64_t, std::int32_t> rank;
    for (auto v : values) rank[v] = 0;
    std::int32_t next = 0;
    for (auto& [value, r] : rank) r = next++;
    for (int threads : {1, 2, 3}) {
      const auto result = factorize_integers(values.data(), values.size(), threads);
      REQUIRE(result.uniques.size() == rank.size());
      for (std::size_t i = 0; i < values.size(); ++i) CHECK(result.codes[i] == rank[values[i]]);
      CHECK(std::is_sorted(result.uniques.begin(), result.uniques.end()));
    }
  }
}

TEST_CASE("factorize_integers numbers 10^5 and 10^6 distinct ids through many table growths", "[strings]") {
  // Every new value can grow a thread's table (it doubles when half full); 10^6 distinct ids
  // grow it through 64 MiB. splitmix64 is a bijection, so the ids are distinct, and they
  // spread over all of int64 (negatives included); a third of the rows repeat an earlier id.
  const auto splitmix64 = [](std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  };
  std::mt19937_64 rng(13);
  for (std::size_t distinct : {std::size_t{100'000}, std::size_t{1'000'000}}) {
    std::vector<std::int64_t> values;
    values.reserve(distinct + distinct / 2);
    for (std::size_t k = 0; k < distinct; ++k) values.push_back(static_cast<std::int64_t>(splitmix64(k)));
    for (std::size_t k = 0; k < distinct / 2; ++k) values.push_back(values[rng() % distinct]);
    std::shuffle(values.begin(), values.end(), rng);
    std::vector<std::int64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    REQUIRE(sorted.size() == distinct);
    std::vector<std::int32_t> expected(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      expected[i] = static_cast<std::int32_t>(std::lower_bound(sorted.begin(), sorted.end(), values[i]) - sorted.begin());
    }
    for (int threads : {1, 2, 3}) {
      CAPTURE(distinct, threads);
      const auto result = factorize_integers(values.data(), values.size(), threads);
      REQUIRE(result.codes.size() == expected.size());
      CHECK(result.uniques.size() == sorted.size());
      CHECK(std::equal(result.uniques.begin(), result.uniques.end(), sorted.begin(), sorted.end()));
      // One assertion, not one per row (Catch2 would print all 1.5M codes of a failure).
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) wrong += result.codes[i] != expected[i];
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("string_hashes: equal strings hash equal at any offset width and thread count, nulls 0") {
  std::vector<std::optional<std::string>> values;
  for (int i = 0; i < 3000; ++i) {
    const std::string tail(static_cast<std::size_t>(i % 40), static_cast<char>('a' + i % 7));  // 0-39 bytes
    values.emplace_back(i % 11 == 0 ? std::nullopt : std::optional<std::string>("wamid." + tail));
  }
  const ArrowStrings<std::int32_t> narrow(values);
  const ArrowStrings<std::int64_t> wide(values);
  const auto one = string_hashes(narrow.view(), 1);
  CHECK(string_hashes(narrow.view(), 3) == one);
  CHECK(string_hashes(wide.view(), 2) == one);
  std::map<std::string, std::uint64_t> seen;
  std::map<std::uint64_t, std::string> by_hash;
  for (std::size_t row = 0; row < values.size(); ++row) {
    if (!values[row]) {
      CHECK(one[row] == 0);
      continue;
    }
    const auto [at, fresh] = seen.emplace(*values[row], one[row]);
    CHECK(at->second == one[row]);  // a repeat of a string hashes as its first occurrence
    by_hash.emplace(one[row], *values[row]);
  }
  CHECK(by_hash.size() == seen.size());  // distinct strings here (tails past 24 bytes too) do not collide
}
