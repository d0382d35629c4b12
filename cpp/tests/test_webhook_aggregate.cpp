#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "arrow_strings.hpp"
#include "waconv/message_groups.hpp"
#include "waconv/webhook_aggregate.hpp"

using namespace waconv;
using waconv::testing::ArrowStrings;

namespace {

using Ids = std::vector<std::optional<std::string>>;
using Groups = std::vector<std::vector<std::int64_t>>;

Groups as_lists(const RowGroups& groups) {
  Groups out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    out.emplace_back(groups.rows.begin() + groups.starts[g], groups.rows.begin() + groups.starts[g + 1]);
  }
  return out;
}

// The obvious grouping: a map from id to its group, groups numbered as ids first appear.
Groups naive_groups(const Ids& ids) {
  std::map<std::string, std::size_t> group_of;
  Groups out;
  for (std::size_t row = 0; row < ids.size(); ++row) {
    const auto [it, added] = group_of.emplace(*ids[row], out.size());
    if (added) out.emplace_back();
    out[it->second].push_back(static_cast<std::int64_t>(row));
  }
  return out;
}

}  // namespace

TEST_CASE("group_rows_by_id numbers ids as they first appear and keeps row order", "[webhook_aggregate]") {
  const ArrowStrings<std::int32_t> ids(Ids{"b", "a", "b", "", "a", "c", ""});
  const Groups expected{{0, 2}, {1, 4}, {3, 6}, {5}};
  for (const int threads : {1, 2, 7}) {
    INFO("threads " << threads);
    CHECK(as_lists(group_rows_by_id(ids.view(), threads)) == expected);
  }
  const ArrowStrings<std::int64_t> empty(Ids{});
  CHECK(group_rows_by_id(empty.view()).size() == 0);
}

TEST_CASE("group_rows_by_id matches a map on random ids, long ones sharing their head", "[webhook_aggregate]") {
  std::mt19937_64 rng(11);
  const std::string head = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQz";
  Ids pool{"", std::string(1, '\0'), "a", std::string("a\0", 2)};
  for (int k = 0; k < 60; ++k) pool.push_back(head + std::to_string(k));
  for (int k = 0; k < 60; ++k) pool.push_back("wamid." + std::to_string(k));
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  for (const std::size_t size : {1, 300, 6000}) {
    Ids ids;
    for (std::size_t i = 0; i < size; ++i) ids.push_back(pool[pick(rng)]);
    const auto expected = naive_groups(ids);
    const ArrowStrings<std::int32_t> narrow(ids);
    const ArrowStrings<std::int64_t> wide(ids);
    for (const int threads : {1, 2, 3, 16}) {
      INFO("size " << size << ", threads " << threads);
      CHECK(as_lists(group_rows_by_id(narrow.view(), threads)) == expected);
      CHECK(as_lists(group_rows_by_id(wide.view(0, size, /*with_validity=*/false), threads)) == expected);
    }
    // A slice: offsets and bitmap shifted, rows numbered from the slice's start.
    const std::size_t first = size / 3;
    const Ids tail(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
    CHECK(as_lists(group_rows_by_id(narrow.view(first, size - first), 2)) == naive_groups(tail));
  }
}

TEST_CASE("group_rows_by_id refuses a null id", "[webhook_aggregate]") {
  const ArrowStrings<std::int32_t> ids(Ids{"a", std::nullopt});
  CHECK_THROWS_AS(group_rows_by_id(ids.view()), std::invalid_argument);
}

TEST_CASE("aggregate_statuses: times, delivery, status and the rank of each message's statuses", "[webhook_aggregate]") {
  // m1: sent, delivered stamped before the send (clock skew), read.   m2: failed only.
  // m3: read without its sent (earliest status is the timestamp).    m4: sent twice.
  const ArrowStrings<std::int32_t> ids(Ids{"m1", "m2", "m1", "m3", "m1", "m4", "m4"});
  const std::vector<std::int8_t> status{kSent, kFailed, kDelivered, kRead, kRead, kSent, kSent};
  const std::vector<std::int64_t> time{100, 50, 90, 70, 140, 30, 20};
  for (const int threads : {1, 2}) {
    const OutboundMessages out = aggregate_statuses(ids.view(), status.data(), time.data(), nullptr, threads);
    CHECK(out.timestamp == std::vector<std::int64_t>{100, 50, 70, 20});
    CHECK(out.delivered_at == std::vector<std::int64_t>{100, -1, 70, -1});
    CHECK(out.status == std::vector<std::int8_t>{kRead, kFailed, kRead, kSent});
    // Delivered first, then latest; equal times: furthest status, then order / row.
    CHECK(as_lists(out.groups) == Groups{{2, 4, 0}, {1}, {3}, {5, 6}});
  }
}

TEST_CASE("aggregate_statuses breaks ties in time by status, then order, then row", "[webhook_aggregate]") {
  const ArrowStrings<std::int32_t> ids(Ids{"m", "m", "m", "m"});
  const std::vector<std::int8_t> status{kSent, kRead, kSent, kSent};
  const std::vector<std::int64_t> time{10, 10, 10, 10};
  const std::vector<std::int64_t> order{5, 9, 3, 3};
  CHECK(as_lists(aggregate_statuses(ids.view(), status.data(), time.data(), order.data()).groups) ==
        Groups{{1, 2, 3, 0}});
  CHECK(as_lists(aggregate_statuses(ids.view(), status.data(), time.data(), nullptr).groups) == Groups{{1, 0, 2, 3}});
}

TEST_CASE("aggregate_messages: earliest copy first, referral from any copy", "[webhook_aggregate]") {
  const ArrowStrings<std::int32_t> ids(Ids{"a", "b", "a", "a"});
  const std::vector<std::int64_t> time{30, 5, 10, 10};
  const std::vector<std::uint8_t> referral{0, 0, 1, 0};
  const std::vector<std::int64_t> order{0, 1, 7, 2};
  const InboundMessages out = aggregate_messages(ids.view(), time.data(), referral.data(), order.data(), 2);
  CHECK(out.timestamp == std::vector<std::int64_t>{10, 5});
  CHECK(out.referral == std::vector<std::uint8_t>{1, 0});
  CHECK(as_lists(out.groups) == Groups{{3, 2, 0}, {1}});
}

TEST_CASE("first_present_rows and first_number_rows pick the first ranked row with a value", "[webhook_aggregate]") {
  const std::vector<std::int64_t> rows{4, 1, 0, 3, 2, 5};
  const std::vector<std::int64_t> starts{0, 3, 5, 6};
  // Rows 1 and 2 present (bit offset 1: the bitmap's bits 2 and 3).
  const std::vector<std::uint8_t> validity{0b00001100};
  for (const int threads : {1, 3}) {
    CHECK(first_present_rows(rows.data(), starts.data(), 3, validity.data(), 1, threads) ==
          std::vector<std::int64_t>{1, 2, -1});
    CHECK(first_present_rows(rows.data(), starts.data(), 3, nullptr, 0, threads) == std::vector<std::int64_t>{4, 3, 5});
    const std::vector<double> values{1.0, NAN, NAN, 0.0, NAN, NAN};
    CHECK(first_number_rows(rows.data(), starts.data(), 3, values.data(), threads) ==
          std::vector<std::int64_t>{0, 3, -1});
  }
}
