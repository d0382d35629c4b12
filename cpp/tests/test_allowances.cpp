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
