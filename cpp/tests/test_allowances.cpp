#include <catch2/catch.hpp>

#include "event_log.hpp"

using namespace waconv;
using namespace waconv::testing;

TEST_CASE("free tier: the first N eligible conversations per WABA-local month are free") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2022, 3, 30});
  EventLog log;
  for (int u = 0; u < 4; ++u) log.outbound(h0 + u * kHour, h0 + u * kHour, TemplateCategory::marketing, u);
  const auto april = log.outbound(h0 + 3 * kDay, h0 + 3 * kDay, TemplateCategory::marketing, 0);
  const auto r = log.run({}, {.free_tier_conversations = 3});
  // Ids go pair by pair: user 0 has 0 (March) and 1 (April), users 1-3 have 2-4.
  CHECK(r.conversations.pricing_type[0] == code(PricingType::free_tier));
  CHECK(r.conversations.pricing_type[3] == code(PricingType::free_tier));
  CHECK(r.conversations.pricing_type[4] == code(PricingType::regular));
  CHECK(r.messages.pricing_type[april] == code(PricingType::free_tier));
}

TEST_CASE("direct billing: business-initiated conversations leave the free tier on 2023-04-04") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2023, 4, 5});
  EventLog log;
  const auto row = log.outbound(h0, h0, TemplateCategory::marketing);
  CHECK(log.run({}, {.direct_billing = true}).messages.pricing_type[row] == code(PricingType::regular));
  CHECK(log.run().messages.pricing_type[row] == code(PricingType::free_tier));
}

TEST_CASE("service allowance in pmp_v2 counts per business phone per month") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2026, 11, 2});
  EventLog log;
  log.inbound(h0);
  const auto a = log.outbound(h0 + 1 * kHour, h0 + 1 * kHour);
  const auto b = log.outbound(h0 + 2 * kHour, h0 + 2 * kHour);
  const auto r = log.run({}, {.service_free_allowance = 1});
  CHECK(r.messages.pricing_type[a] == code(PricingType::free_customer_service));
  CHECK(r.messages.pricing_type[b] == code(PricingType::regular));
}

TEST_CASE("allowance ties: equal instants go by message id, then input order") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2026, 11, 2});
  EventLog log;
  for (int u = 0; u < 3; ++u) log.inbound(h0, false, u);
  const auto a = log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::none, 0);
  const auto b = log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::none, 1);
  const auto c = log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::none, 2);
  const Instant march = ZoneCalendar("UTC").start_of_day({2022, 3, 2});
  const auto x = log.outbound(march, march, TemplateCategory::marketing, 0);
  const auto y = log.outbound(march, march, TemplateCategory::marketing, 1);
  const MessageIds ids({std::nullopt, std::nullopt, std::nullopt, "s3", "s2", "s1", "t2", "t1"});
  log.message_id = &ids.column;
  const auto r = log.run({}, {.free_tier_conversations = 1, .service_free_allowance = 2});
  CHECK(r.messages.pricing_type[a] == code(PricingType::regular));
  CHECK(r.messages.pricing_type[b] == code(PricingType::free_customer_service));
  CHECK(r.messages.pricing_type[c] == code(PricingType::free_customer_service));
  CHECK(r.messages.pricing_type[x] == code(PricingType::regular));
  CHECK(r.messages.pricing_type[y] == code(PricingType::free_tier));
  log.message_id = nullptr;  // input order
  const auto plain = log.run({}, {.free_tier_conversations = 1, .service_free_allowance = 2});
  CHECK(plain.messages.pricing_type[c] == code(PricingType::regular));
  CHECK(plain.messages.pricing_type[x] == code(PricingType::free_tier));
}

TEST_CASE("allowances start from the units earlier calls used in the same account and month") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2026, 11, 2});
  const std::int32_t november = 2026 * 12 + 10;  // ZoneCalendar::month_of's index
  EventLog log;
  log.inbound(h0);
  const auto a = log.outbound(h0 + 1 * kHour, h0 + 1 * kHour);
  const auto b = log.outbound(h0 + 2 * kHour, h0 + 2 * kHour);
  const Instant march = ZoneCalendar("UTC").start_of_day({2022, 3, 2});
  const auto x = log.outbound(march, march, TemplateCategory::marketing, 1);
  const auto y = log.outbound(march + kDay * 2, march + kDay * 2, TemplateCategory::marketing, 1);
  CHECK(ZoneCalendar("UTC").month_of(h0) == november);
  AllowanceOptions options{.free_tier_conversations = 3, .service_free_allowance = 2};
  options.service_used = {{0, november, 1}};
  options.free_tier_used = {{0, 2022 * 12 + 2, 2}, {0, november, 5}};
  const auto r = log.run({}, options);
  CHECK(r.messages.pricing_type[a] == code(PricingType::free_customer_service));
  CHECK(r.messages.pricing_type[b] == code(PricingType::regular));
  CHECK(r.messages.pricing_type[x] == code(PricingType::free_tier));
  CHECK(r.messages.pricing_type[y] == code(PricingType::regular));
  // Used up, or more than used up: nothing is left; another month or account is untouched.
  options.service_used = {{0, november, 7}, {1, november, 7}, {0, november - 1, 7}};
  const auto none_left = log.run({}, options);
  CHECK(none_left.messages.pricing_type[a] == code(PricingType::regular));
  options.service_used = {{1, november, 7}, {0, november - 1, 7}};
  CHECK(log.run({}, options).messages.pricing_type[a] == code(PricingType::free_customer_service));
}
