#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "arrow_strings.hpp"
#include "waconv/duplicates.hpp"

using namespace waconv;
using waconv::testing::ArrowStrings;

namespace {

using Ids = std::vector<std::optional<std::string>>;

// The obvious implementation: a set of the (id, direction) pairs seen so far.
std::vector<std::uint8_t> naive(const Ids& ids, const std::vector<std::int8_t>& direction, std::size_t first = 0) {
  std::set<std::pair<std::string, std::int8_t>> seen;
  std::vector<std::uint8_t> out;
  for (std::size_t i = first; i < ids.size(); ++i) {
    out.push_back(ids[i] && !seen.emplace(*ids[i], direction[i]).second ? 1 : 0);
  }
  return out;
}

// Both offset widths, whole and sliced (a non-zero offset into offsets and bitmap), on
// one thread and on many partitions: far more partitions than the rows need leave each
// table at its smallest, so skewed ones grow mid-scan.
void check_against_naive(const Ids& ids, const std::vector<std::int8_t>& direction) {
  const ArrowStrings<std::int32_t> narrow(ids);
  const ArrowStrings<std::int64_t> wide(ids);
  for (const std::size_t first : {std::size_t{0}, ids.size() / 3}) {
    const auto expected = naive(ids, direction, first);
    for (const int threads : {1, 2, 3, 16}) {
      INFO("threads " << threads << ", first row " << first);
      const std::size_t count = ids.size() - first;
      CHECK(duplicate_rows(narrow.view(first, count), direction.data() + first, threads) == expected);
      CHECK(duplicate_rows(wide.view(first, count), direction.data() + first, threads) == expected);
    }
  }
}

}  // namespace

TEST_CASE("duplicate_rows flags later rows with an earlier row's id and direction", "[duplicates]") {
  const Ids ids{"m1", "m1", "m2", std::nullopt, std::nullopt, "m1", "m2", "", ""};
  const std::vector<std::int8_t> direction{0, 1, 0, 0, 0, 1, 1, 1, 1};
  const ArrowStrings<std::int32_t> column(ids);
  CHECK(duplicate_rows(column.view(), direction.data()) == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 1, 0, 0, 1});
  check_against_naive(ids, direction);
}

TEST_CASE("duplicate_rows on an empty column and one without a bitmap", "[duplicates]") {
  const ArrowStrings<std::int32_t> empty(Ids{});
  CHECK(duplicate_rows(empty.view(), nullptr).empty());
  const ArrowStrings<std::int64_t> column(Ids{"a", "b", "a"});
  const std::vector<std::int8_t> direction{1, 1, 1};
  CHECK(duplicate_rows(column.view(0, 3, /*with_validity=*/false), direction.data()) ==
        std::vector<std::uint8_t>{0, 0, 1});
}

TEST_CASE("duplicate_rows matches a set on random ids, long ones sharing their head", "[duplicates]") {
  std::mt19937_64 rng(42);
  // Ids past the 24 bytes a hash key holds inline that differ only at their end, ids that
  // differ only in length or by a trailing NUL, and nulls.
  const std::string head = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQz";
  std::vector<std::optional<std::string>> pool{std::nullopt, "", std::string(1, '\0'), "a", std::string("a\0", 2)};
  for (int k = 0; k < 40; ++k) pool.push_back(head + std::to_string(k));
  for (int k = 0; k < 40; ++k) pool.push_back("wamid." + std::to_string(k));
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> coin(0, 1);
  for (const std::size_t size : {10, 200, 5000}) {
    Ids ids;
    std::vector<std::int8_t> direction;
    for (std::size_t i = 0; i < size; ++i) {
      ids.push_back(pool[pick(rng)]);
      direction.push_back(static_cast<std::int8_t>(coin(rng)));
    }
    check_against_naive(ids, direction);
  }
}

TEST_CASE("duplicate_rows on int64 ids", "[duplicates]") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> pick(-50, 50);
  std::uniform_int_distribution<int> coin(0, 1);
  std::vector<std::int64_t> ids;
  std::vector<std::int8_t> direction;
  for (int i = 0; i < 3000; ++i) {
    ids.push_back(pick(rng) * 1'000'000'007LL);
    direction.push_back(static_cast<std::int8_t>(coin(rng)));
  }
  std::set<std::pair<std::int64_t, std::int8_t>> seen;
  std::vector<std::uint8_t> expected;
  for (std::size_t i = 0; i < ids.size(); ++i) expected.push_back(seen.emplace(ids[i], direction[i]).second ? 0 : 1);
  for (const int threads : {1, 2, 16}) {
    INFO("threads " << threads);
    CHECK(duplicate_rows(ids.data(), ids.size(), direction.data(), threads) == expected);
  }
}

TEST_CASE("duplicate_rows on mostly distinct ids, tables growing", "[duplicates]") {
  // Like message ids: nearly all distinct, some repeated later. On 16 threads each table
  // starts with room for its share of the rows; shares vary, so some tables grow.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::uniform_int_distribution<int> coin(0, 1);
  for (const std::size_t size : {320, 4000}) {
    Ids ids;
    std::vector<std::int8_t> direction;
    for (std::size_t i = 0; i < size; ++i) {
      const bool repeat = i > 0 && uniform(rng) < 0.1;
      const std::size_t source = repeat ? std::uniform_int_distribution<std::size_t>(0, i - 1)(rng) : i;
      ids.push_back(repeat ? ids[source] : std::optional<std::string>("wamid." + std::to_string(i * 7919)));
      direction.push_back(repeat ? direction[source] : static_cast<std::int8_t>(coin(rng)));
    }
    check_against_naive(ids, direction);
  }
}
