// charge_reason: every value the core decides, reached by a constructed log.
#include <catch2/catch.hpp>

#include "event_log.hpp"

using namespace waconv;
using namespace waconv::testing;
using CR = ChargeReason;
using TC = TemplateCategory;

namespace {
Instant day(int y, unsigned m, unsigned d) { return ZoneCalendar("UTC").start_of_day({y, m, d}); }
std::int8_t code(CR reason) { return static_cast<std::int8_t>(reason); }
}  // namespace

TEST_CASE("charge reason: inbound, undelivered, policy violation, duplicate") {
  const Instant h0 = day(2025, 8, 4);
  EventLog log;
  const auto inbound = log.inbound(at(h0, 0));
  const auto failed_template = log.outbound(at(h0, 1), kNoInstant, TC::marketing);
  const auto failed_outside = log.outbound(at(h0, 30), kNoInstant);  // free-form, CSW closed at h24
  const auto failed_inside = log.outbound(at(h0, 2), kNoInstant);
  const auto repeated = log.inbound(at(h0, 3));
  log.duplicate[repeated] = 1;
  const auto r = log.run();
  CHECK(r.messages.charge_reason[inbound] == code(CR::inbound));
  CHECK(r.messages.charge_reason[failed_template] == code(CR::undelivered));
  CHECK(r.messages.charge_reason[failed_outside] == code(CR::policy_violation));
  CHECK(r.messages.charge_reason[failed_inside] == code(CR::undelivered));
  CHECK(r.messages.charge_reason[repeated] == code(CR::duplicate));
  CHECK(r.messages.era[repeated] == waconv::testing::code(Era::pmp_v1));
}

TEST_CASE("charge reason: CBP conversations opened, joined, free tier, free service") {
  const Instant h0 = day(2024, 3, 4);
  EventLog log;
  const auto opener = log.outbound(at(h0, 0), at(h0, 0), TC::marketing);
  const auto joiner = log.outbound(at(h0, 5), at(h0, 5), TC::marketing);
  log.inbound(at(h0, 30));
  const auto service = log.outbound(at(h0, 31), at(h0, 31));  // March 2024: regular, free tier
  const Instant november = day(2024, 11, 4);
  log.inbound(november);
  const auto free_service = log.outbound(november + kHour, november + kHour);
  const auto joins_free = log.outbound(november + 2 * kHour, november + 2 * kHour);
  auto r = log.run({}, {.free_tier_conversations = 0});
  CHECK(r.messages.charge_reason[opener] == code(CR::opened_conversation));
  CHECK(r.messages.charge_reason[joiner] == code(CR::joined_conversation));
  CHECK(r.messages.charge_reason[service] == code(CR::opened_conversation));
  CHECK(r.messages.charge_reason[free_service] == code(CR::free_service));
  CHECK(r.messages.charge_reason[joins_free] == code(CR::joined_conversation));
  r = log.run();  // the free tier takes the eligible service conversation, not the marketing one
  CHECK(r.messages.charge_reason[service] == code(CR::free_tier));
  CHECK(r.messages.charge_reason[opener] == code(CR::opened_conversation));
}

TEST_CASE("charge reason: only the free tier's opening row says free tier") {
  const Instant h0 = day(2022, 5, 2);
  EventLog log;
  const auto opener = log.outbound(at(h0, 0), at(h0, 0), TC::utility);
  const auto joiner = log.outbound(at(h0, 1), at(h0, 1), TC::marketing);
  const auto r = log.run();
  CHECK(r.messages.charge_reason[opener] == code(CR::free_tier));
  CHECK(r.messages.charge_reason[joiner] == code(CR::joined_conversation));
}

TEST_CASE("charge reason: PMP charged, free service, inside the CSW, service allowance, carried utility") {
  const Instant july = day(2025, 8, 4);
  EventLog log;
  const auto marketing = log.outbound(at(july, 0), at(july, 0), TC::marketing);
  log.inbound(at(july, 2));
  const auto text = log.outbound(at(july, 3), at(july, 3));
  const auto utility_in_csw = log.outbound(at(july, 4), at(july, 4), TC::utility);
  const auto utility_outside = log.outbound(at(july, 30), at(july, 30), TC::utility);
  const Instant october = day(2026, 10, 5);
  log.inbound(october);
  const auto first_service = log.outbound(october + kHour, october + kHour);
  const auto second_service = log.outbound(october + 2 * kHour, october + 2 * kHour);
  const auto utility_v2 = log.outbound(october + 3 * kHour, october + 3 * kHour, TC::utility);
  const auto r = log.run({}, {.service_free_allowance = 1});
  CHECK(r.messages.charge_reason[marketing] == code(CR::charged_message));
  CHECK(r.messages.charge_reason[text] == code(CR::free_service));
  CHECK(r.messages.charge_reason[utility_in_csw] == code(CR::customer_service_window));
  CHECK(r.messages.charge_reason[utility_outside] == code(CR::charged_message));
  CHECK(r.messages.charge_reason[first_service] == code(CR::service_allowance));
  CHECK(r.messages.charge_reason[second_service] == code(CR::charged_message));
  CHECK(r.messages.charge_reason[utility_v2] == code(CR::charged_message));

  EventLog transition;  // a CBP utility conversation open at 2025-07-01 absorbs utility templates
  const Instant switch_day = day(2025, 7, 1);
  transition.outbound(switch_day - 2 * kHour, switch_day - 2 * kHour, TC::utility);
  const auto absorbed = transition.outbound(switch_day + kHour, switch_day + kHour, TC::utility);
  CHECK(transition.run().messages.charge_reason[absorbed] == code(CR::joined_conversation));
}

TEST_CASE("charge reason: free entry point, opener and members, in CBP and PMP") {
  for (const Instant h0 : {day(2024, 2, 5), day(2025, 8, 4)}) {
    EventLog log;
    log.inbound(at(h0, 0), /*from_ad=*/true);
    const auto opener = log.outbound(at(h0, 1), at(h0, 1), TC::marketing);
    const auto member = log.outbound(at(h0, 50), at(h0, 50));
    const auto after = log.outbound(at(h0, 80), at(h0, 80), TC::marketing);
    const auto r = log.run();
    CHECK(r.messages.charge_reason[opener] == code(CR::free_entry_point));
    CHECK(r.messages.charge_reason[member] == code(CR::free_entry_point));
    CHECK(r.messages.charge_reason[after] == code(r.messages.era[after] == waconv::testing::code(Era::cbp_v2)
                                                      ? CR::opened_conversation
                                                      : CR::charged_message));
  }
}

TEST_CASE("charge reason: US marketing pause") {
  const Instant h0 = day(2025, 8, 4);
  EventLog log;
  const auto paused = log.outbound(at(h0, 0), at(h0, 0), TC::marketing);
  const auto utility = log.outbound(at(h0, 1), at(h0, 1), TC::utility);
  std::vector<AccountClock> clocks{AccountClock("UTC")};
  EventColumns e = log.columns();
  const std::uint8_t us_user[] = {1};
  e.us_user = us_user;
  const Classification r = classify(e, clocks, {});
  CHECK(r.messages.charge_reason[paused] == code(CR::us_marketing_pause));
  CHECK(r.messages.us_marketing_paused[paused] == 1);
  CHECK(r.messages.charge_reason[utility] == code(CR::charged_message));
}

TEST_CASE("charge reason: a failed free-form that opens a conversation under the option opened it") {
  const Instant h0 = day(2022, 8, 1);
  EventLog log;
  const auto failed = log.outbound(at(h0, 0), kNoInstant);
  log.inbound(at(h0, 3));
  ClassifyOptions quirk;
  quirk.failed_freeform_opens_conversation = true;
  CHECK(log.run().messages.charge_reason[failed] == code(CR::policy_violation));
  CHECK(log.run(quirk, {.free_tier_conversations = 0}).messages.charge_reason[failed] ==
        code(CR::opened_conversation));
  CHECK(log.run(quirk).messages.charge_reason[failed] == code(CR::free_tier));
}

TEST_CASE("charge reason names: one per code") {
  CHECK(charge_reason_names().size() == static_cast<std::size_t>(kChargeReasonCount));
  CHECK(charge_reason_names()[static_cast<std::size_t>(CR::no_rate)] == "no_rate");
  CHECK(charge_reason_names()[static_cast<std::size_t>(CR::free_service)] == "free_service");
}
