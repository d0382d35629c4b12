#include <catch2/catch.hpp>

#include "event_log.hpp"

using namespace waconv;
using namespace waconv::testing;
using PC = PricingCategory;
using PT = PricingType;
using TC = TemplateCategory;

namespace {
Instant day(int y, unsigned m, unsigned d) { return ZoneCalendar("UTC").start_of_day({y, m, d}); }
}  // namespace

TEST_CASE("Meta's cbp_v2 example: two conversations") {
  const Instant h0 = day(2024, 3, 4);
  EventLog log;
  const auto marketing = log.outbound(at(h0, 0), at(h0, 0), TC::marketing);
  log.inbound(at(h0, 4));
  const auto interactive = log.outbound(at(h0, 5), at(h0, 5));
  const auto text = log.outbound(at(h0, 25), at(h0, 25));
  const auto text2 = log.outbound(at(h0, 26), at(h0, 26));
  const auto r = log.run();
  REQUIRE(r.conversations.size() == 2);
  CHECK(r.messages.pricing_category[marketing] == code(PC::marketing));
  CHECK(r.messages.conversation_id[interactive] == r.messages.conversation_id[marketing]);
  CHECK(r.messages.opens_conversation[interactive] == 0);
  CHECK(r.messages.pricing_category[text] == code(PC::service));
  CHECK(r.messages.opens_conversation[text] == 1);
  CHECK(r.messages.conversation_id[text2] == r.messages.conversation_id[text]);
  CHECK(r.conversations.end[0] == at(h0, 24));
}

TEST_CASE("Meta's pmp examples: two charges in pmp_v1, four in pmp_v2") {
  // Meta's example predates the service allowance, so it is off here.
  for (const auto& [start, charges] : {std::pair{day(2025, 8, 4), 2}, std::pair{day(2026, 10, 5), 4}}) {
    EventLog log;
    log.outbound(at(start, 0), at(start, 0), TC::marketing);
    log.inbound(at(start, 2));
    const auto text = log.outbound(at(start, 3), at(start, 3));
    log.outbound(at(start, 4), at(start, 4), TC::utility);
    log.outbound(at(start, 30), at(start, 30), TC::utility);
    const auto r = log.run({}, {.service_free_allowance = 0});
    int regular = 0;
    for (auto t : r.messages.pricing_type) regular += t == code(PT::regular);
    CHECK(regular == charges);
    CHECK(r.conversations.size() == 0);
    // On by default: the text is the number's first service message of the month.
    CHECK(log.run().messages.pricing_type[text] == code(PT::free_customer_service));
  }
}

TEST_CASE("cbp_v1: type decided at send time, start at delivery") {
  const Instant h0 = day(2022, 5, 2);
  EventLog log;
  // Sent one minute before the user's message arrives; delivered after it.
  log.inbound(at(h0, 10));
  const auto late = log.outbound(at(h0, 9.9), at(h0, 10.5), TC::utility);
  const auto r = log.run();
  CHECK(r.messages.pricing_category[late] == code(PC::business_initiated));
  CHECK(r.conversations.start[0] == at(h0, 10.5));
  CHECK(r.conversations.end[0] == at(h0, 34.5));
}

TEST_CASE("half-open windows: a message exactly at the end is outside") {
  const Instant h0 = day(2023, 9, 4);
  EventLog log;
  const auto first = log.outbound(at(h0, 0), at(h0, 0), TC::utility);
  const auto boundary = log.outbound(at(h0, 24), at(h0, 24), TC::utility);
  const auto r = log.run();
  CHECK(r.messages.opens_conversation[first] == 1);
  CHECK(r.messages.opens_conversation[boundary] == 1);
  CHECK(r.conversations.size() == 2);
}

TEST_CASE("free entry point closes other CBP conversations and lasts 72 h") {
  const Instant h0 = day(2024, 2, 5);
  EventLog log;
  const auto marketing = log.outbound(at(h0, 0), at(h0, 0), TC::marketing);
  log.inbound(at(h0, 1), /*from_ad=*/true);
  const auto reply = log.outbound(at(h0, 2), at(h0, 2.5));
  const auto later = log.outbound(at(h0, 60), at(h0, 60), TC::marketing);
  const auto after = log.outbound(at(h0, 74.5), at(h0, 74.5), TC::marketing);
  const auto r = log.run();
  CHECK(r.conversations.end[static_cast<std::size_t>(r.messages.conversation_id[marketing])] == at(h0, 2.5));
  CHECK(r.messages.pricing_category[reply] == code(PC::referral_conversion));
  CHECK(r.messages.pricing_type[later] == code(PT::free_entry_point));
  CHECK(r.messages.opens_conversation[after] == 1);
  CHECK(r.messages.pricing_type[after] == code(PT::regular));
  REQUIRE(r.windows.size() == 2);  // one CSW, one FEP window
  CHECK(r.windows.kind[1] == static_cast<std::int8_t>(WindowKind::free_entry_point));
  CHECK(r.windows.start[1] == at(h0, 2.5));
  CHECK(r.windows.end[1] == at(h0, 74.5));
}

TEST_CASE("free entry point lasts 24 h in cbp_v1 before 2023-03-01 and starts at send under PMP") {
  {
    const Instant h0 = day(2022, 6, 1);
    EventLog log;
    log.inbound(at(h0, 0), true);
    log.outbound(at(h0, 1), at(h0, 1.5));
    const auto r = log.run();
    CHECK(r.conversations.end[0] - r.conversations.start[0] == kDay);
  }
  {
    const Instant h0 = day(2025, 9, 1);
    EventLog log;
    log.inbound(at(h0, 0), true);
    log.outbound(at(h0, 1), at(h0, 1.5), TC::marketing);
    const auto r = log.run();
    CHECK(r.conversations.start[0] == at(h0, 1));
    CHECK(r.conversations.end[0] == at(h0, 73));
  }
}

TEST_CASE("utility template in an open service conversation opens a utility conversation") {
  const Instant h0 = day(2024, 4, 1);
  EventLog log;
  log.inbound(at(h0, 0));
  const auto reply = log.outbound(at(h0, 1), at(h0, 1));
  const auto utility = log.outbound(at(h0, 2), at(h0, 2), TC::utility);
  const auto r = log.run();
  CHECK(r.messages.pricing_category[reply] == code(PC::service));
  CHECK(r.messages.pricing_category[utility] == code(PC::utility));
  CHECK(r.messages.opens_conversation[utility] == 1);
}

TEST_CASE("service conversations are free from 2024-11-01") {
  EventLog log;
  log.inbound(day(2024, 10, 31));
  const auto before = log.outbound(day(2024, 10, 31) + kHour, day(2024, 10, 31) + kHour);
  log.inbound(day(2024, 11, 1) + 2 * kHour);
  const auto after = log.outbound(day(2024, 11, 1) + 3 * kHour, day(2024, 11, 1) + 3 * kHour);
  const auto r = log.run({}, {.free_tier_conversations = 0});
  CHECK(r.messages.pricing_type[before] == code(PT::regular));
  CHECK(r.messages.pricing_type[after] == code(PT::free_customer_service));
}

TEST_CASE("an open CBP utility conversation absorbs utility templates after 2025-07-01") {
  const Instant switch_day = day(2025, 7, 1);
  EventLog log;
  const auto opener = log.outbound(switch_day - 2 * kHour, switch_day - 2 * kHour, TC::utility);
  const auto absorbed = log.outbound(switch_day + kHour, switch_day + kHour, TC::utility);
  const auto marketing = log.outbound(switch_day + 2 * kHour, switch_day + 2 * kHour, TC::marketing);
  const auto r = log.run();
  CHECK(r.messages.era[absorbed] == code(Era::pmp_v1));
  CHECK(r.messages.pricing_model[absorbed] == static_cast<std::int8_t>(PricingModel::cbp));
  CHECK(r.messages.conversation_id[absorbed] == r.messages.conversation_id[opener]);
  CHECK(r.messages.conversation_id[marketing] == -1);
  CHECK(r.messages.pricing_type[marketing] == code(PT::regular));
}

TEST_CASE("policy violations and undelivered messages") {
  const Instant h0 = day(2025, 8, 4);
  EventLog log;
  const auto outside = log.outbound(at(h0, 0), at(h0, 0));
  const auto failed = log.outbound(at(h0, 1), kNoInstant, TC::marketing);
  const auto r = log.run();
  CHECK(r.messages.policy_violation[outside] == 1);
  CHECK(r.messages.pricing_category[outside] == code(PC::service));
  CHECK(r.messages.policy_violation[failed] == 0);
  CHECK(r.messages.pricing_type[failed] == kNullCode);
}

TEST_CASE("ties: an inbound at the same instant comes first") {
  const Instant h0 = day(2022, 8, 1);
  EventLog log;
  const auto reply = log.outbound(at(h0, 1), at(h0, 1));
  log.inbound(at(h0, 1));
  const auto r = log.run();
  CHECK(r.messages.pricing_category[reply] == code(PC::user_initiated));
  CHECK(r.messages.policy_violation[reply] == 0);
  // The CSW is asked at a time, so only a referral shows the order: listed after the reply,
  // it still comes first and makes the reply a free entry point, in CBP and in PMP.
  for (const Instant t : {at(h0, 1), day(2025, 9, 1)}) {
    EventLog ad;
    const auto answer = ad.outbound(t, t);
    ad.inbound(t, /*from_ad=*/true);
    const auto fep = ad.run();
    CHECK(fep.messages.pricing_type[answer] == code(PT::free_entry_point));
    CHECK(fep.messages.opens_conversation[answer] == 1);
  }
}

TEST_CASE("ties: equal keys go by message id, rows without one last, then input order") {
  const Instant h0 = day(2023, 7, 3);
  EventLog log;
  const auto m9 = log.outbound(h0, h0, TC::marketing);
  const auto m10 = log.outbound(h0, h0, TC::marketing);
  const auto none = log.outbound(h0, h0, TC::marketing);
  const auto first_none = log.outbound(h0, h0, TC::utility, 1);
  const auto second_none = log.outbound(h0, h0, TC::utility, 1);
  const MessageIds ids({"m9", "m10", std::nullopt, std::nullopt, std::nullopt});
  log.message_id = &ids.column;
  const auto r = log.run();
  CHECK(r.messages.opens_conversation[m10] == 1);  // "m10" < "m9" byte by byte
  CHECK(r.messages.opens_conversation[m9] == 0);
  CHECK(r.messages.opens_conversation[none] == 0);
  CHECK(r.conversations.opened_by[0] == static_cast<std::int64_t>(m10));
  CHECK(r.conversations.n_messages[0] == 3);
  CHECK(r.messages.opens_conversation[first_none] == 1);
  CHECK(r.messages.opens_conversation[second_none] == 0);
  // Without the column, input order.
  log.message_id = nullptr;
  CHECK(log.run().messages.opens_conversation[m9] == 1);
}

TEST_CASE("PMP free entry point: opened by the first reply sent, holding what is sent inside it") {
  const Instant h0 = day(2025, 8, 4);
  EventLog log;
  log.inbound(h0, /*from_ad=*/true);
  const auto delivered_first = log.outbound(at(h0, 2), at(h0, 3), TC::marketing);
  const auto sent_first = log.outbound(at(h0, 1), at(h0, 10), TC::utility);
  const auto sent_inside = log.outbound(at(h0, 72), at(h0, 90), TC::marketing);
  const auto sent_at_end = log.outbound(at(h0, 73), at(h0, 73), TC::marketing);
  const auto r = log.run();
  REQUIRE(r.conversations.size() == 1);
  CHECK(r.conversations.opened_by[0] == static_cast<std::int64_t>(sent_first));
  CHECK(r.conversations.start[0] == at(h0, 1));
  CHECK(r.conversations.end[0] == at(h0, 73));
  CHECK(r.conversations.n_messages[0] == 3);
  CHECK(r.messages.opens_conversation[sent_first] == 1);
  CHECK(r.messages.opens_conversation[delivered_first] == 0);
  for (const auto row : {delivered_first, sent_first, sent_inside}) {
    CHECK(r.messages.pricing_type[row] == code(PT::free_entry_point));
    CHECK(r.messages.conversation_id[row] == 0);
  }
  CHECK(r.messages.pricing_type[sent_at_end] == code(PT::regular));
  CHECK(r.messages.pricing_category[sent_at_end] == code(PC::marketing));
}

TEST_CASE("failed free-form opens a business-initiated conversation only with the option") {
  const Instant h0 = day(2022, 8, 1);
  EventLog log;
  const auto failed = log.outbound(at(h0, 0), kNoInstant);
  log.inbound(at(h0, 3));
  CHECK(log.run().conversations.size() == 0);
  ClassifyOptions quirk;
  quirk.failed_freeform_opens_conversation = true;
  const auto r = log.run(quirk);
  REQUIRE(r.conversations.size() == 1);
  CHECK(r.messages.pricing_category[failed] == code(PC::business_initiated));
  CHECK(r.conversations.start[0] == at(h0, 0));
}

TEST_CASE("results do not depend on the thread count, whatever the row count") {
  EventLog log;
  const Instant h0 = day(2024, 1, 8);
  for (int u = 0; u < 3000; ++u) {
    for (int k = 0; k < 40; ++k) log.outbound(at(h0, u % 7 + 30 * k), at(h0, u % 7 + 30 * k), TC::utility, u);
    if (u % 3 == 0) log.inbound(at(h0, u % 11 + 2), false, u);
  }
  // 121,000 rows: no thread count divides it, so chunk bounds fall between rows unevenly.
  ClassifyOptions one;
  one.threads = 1;
  const auto a = log.run(one);
  for (int threads : {2, 3, 7}) {
    ClassifyOptions many;
    many.threads = threads;
    const auto b = log.run(many);
    CHECK(a.messages.conversation_id == b.messages.conversation_id);
    CHECK(a.messages.pricing_category == b.messages.pricing_category);
    CHECK(a.messages.csw_open == b.messages.csw_open);
    CHECK(a.conversations.start == b.conversations.start);
    CHECK(a.conversations.n_messages == b.conversations.n_messages);
    CHECK(a.windows.start == b.windows.start);
  }
}

TEST_CASE("validation names the column and row") {
  EventLog log;
  log.outbound(day(2024, 1, 1) + kHour, day(2024, 1, 1));
  try {
    log.run();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.column() == "delivered_at");
    CHECK(e.row() == 0);
  }
}

TEST_CASE("datetime columns in any unit become instants in one pass, out-of-range rows reported") {
  const std::int64_t us = 1000;
  const Instant t0 = day(2024, 1, 8);
  const std::vector<std::int64_t> raw{t0 / us, kNoInstant, kLatestInstant / us, t0 / us + 1, kEarliestInstant / us - 1};
  const auto times = instants_from(raw.data(), raw.size(), us, 1);
  CHECK(times.instants[0] == t0);
  CHECK(times.instants[1] == kNoInstant);
  CHECK(times.instants[2] == kLatestInstant);         // clamped just outside the range, not scaled
  CHECK(times.instants[4] == kEarliestInstant - 1);
  CHECK(times.first_out_of_range == 2);

  // Delivery: inbound rows (direction 0) are dropped whatever they hold; early rows reported.
  const std::vector<Instant> sent{t0, t0, t0 + us, t0};
  const std::vector<std::int8_t> direction{1, 0, 1, 1};
  const std::vector<std::int64_t> delivered{t0 / us, 99'999'999'999'999'999, t0 / us, kNoInstant};
  for (int threads : {1, 2, 3}) {
    const auto d = delivery_instants_from(delivered.data(), delivered.size(), us, sent.data(), direction.data(), threads);
    CHECK(d.instants[0] == t0);
    CHECK(d.instants[1] == kNoInstant);
    CHECK(d.instants[3] == kNoInstant);
    CHECK(d.first_out_of_range == -1);
    CHECK(d.first_before_sent == 2);
  }
}

TEST_CASE("validation reports the first bad row when checked in parallel chunks") {
  EventLog log;
  const Instant h0 = day(2024, 1, 8);
  for (int k = 0; k < 300'000; ++k) log.outbound(h0 + k, h0 + k, TC::utility, k % 1000);
  log.delivered_at[250'000] = h0;           // before it was sent: later chunk
  log.template_category[100'001] = 9;       // unknown code: earlier chunk
  try {
    log.run();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.column() == "template_category");
    CHECK(e.row() == 100'001);
  }
}

TEST_CASE("validation checks duplicates too and names the first bad row, whatever the thread count") {
  EventLog log;
  const Instant h0 = day(2024, 1, 8);
  for (int k = 0; k < 300'000; ++k) log.outbound(h0 + k, h0 + k, TC::utility, k % 1000);
  const auto expect_error = [&](const char* column, std::int64_t row) {
    for (int threads : {1, 2, 3}) {
      INFO("threads " << threads);
      ClassifyOptions options;
      options.threads = threads;
      try {
        log.run(options);
        FAIL("expected an InputError");
      } catch (const InputError& e) {
        CHECK(e.column() == column);
        CHECK(e.row() == row);
      }
    }
  };
  log.user[200'000] = -1;  // user codes index the grouping: checked before any grouping
  log.business[150'000] = -1;
  log.duplicate[150'000] = 1;  // invisible to the rules, not to the checks
  expect_error("business", 150'000);
  log.business[150'000] = 0;
  expect_error("user", 200'000);
  log.user[200'000] = 0;
  log.timestamp[299'999] = kEarliestInstant - 1;
  log.duplicate[299'999] = 1;
  expect_error("timestamp", 299'999);
}
