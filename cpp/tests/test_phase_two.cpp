#include <catch2/catch.hpp>

#include "event_log.hpp"
#include "waconv/phase_two.hpp"

using namespace waconv;
using namespace waconv::testing;

namespace {

constexpr AllowanceOptions kNoAllowances{0, false, 0, 1};

// The rows of `log` whose user is in [first, last), as a log of its own.
EventLog users(const EventLog& log, std::int32_t first, std::int32_t last) {
  EventLog out;
  for (std::size_t i = 0; i < log.timestamp.size(); ++i) {
    if (log.user[i] < first || log.user[i] >= last) continue;
    out.add(log.business[i], log.user[i], log.timestamp[i], log.delivered_at[i],
            static_cast<Direction>(log.direction[i]), static_cast<TemplateCategory>(log.template_category[i]),
            log.referral[i] != 0);
  }
  return out;
}

// b's verdicts and conversations after a's, as a driver gathers two partitions.
Classification gathered(const Classification& a, const Classification& b, std::size_t rows_of_a) {
  Classification out = a;
  const auto offset = static_cast<std::int64_t>(a.conversations.size());
  auto append = [](auto& into, const auto& from) { into.insert(into.end(), from.begin(), from.end()); };
  auto& m = out.messages;
  append(m.era, b.messages.era);
  append(m.pricing_model, b.messages.pricing_model);
  append(m.pricing_category, b.messages.pricing_category);
  append(m.pricing_type, b.messages.pricing_type);
  for (std::int64_t id : b.messages.conversation_id) m.conversation_id.push_back(id < 0 ? id : id + offset);
  append(m.opens_conversation, b.messages.opens_conversation);
  append(m.csw_open, b.messages.csw_open);
  append(m.policy_violation, b.messages.policy_violation);
  append(m.us_marketing_paused, b.messages.us_marketing_paused);
  append(m.charge_reason, b.messages.charge_reason);
  auto& c = out.conversations;
  append(c.business, b.conversations.business);
  append(c.user, b.conversations.user);
  append(c.waba, b.conversations.waba);
  append(c.era, b.conversations.era);
  append(c.category, b.conversations.category);
  append(c.pricing_type, b.conversations.pricing_type);
  append(c.start, b.conversations.start);
  append(c.end, b.conversations.end);
  append(c.n_messages, b.conversations.n_messages);
  for (std::int64_t row : b.conversations.opened_by) c.opened_by.push_back(row + static_cast<std::int64_t>(rows_of_a));
  return out;
}

}  // namespace

TEST_CASE("phase 2 over two partitions' gathered verdicts grants what one run grants") {
  const Instant march = ZoneCalendar("UTC").start_of_day({2022, 3, 2});
  const Instant november = ZoneCalendar("UTC").start_of_day({2026, 11, 2});
  EventLog log;  // users 0-1 first, then 2-3: the partitions' rows concatenate in input order
  for (std::int32_t u = 0; u < 4; ++u) {
    log.outbound(march + u * kHour, march + u * kHour, TemplateCategory::marketing, u);
    log.inbound(november + u * kHour, false, u);
    log.outbound(november + u * kHour + 60 * kSecond, november + u * kHour + 60 * kSecond, TemplateCategory::none, u);
  }
  const AllowanceOptions allowances{3, false, 2, 1};
  const Classification whole = log.run({}, allowances);

  const EventLog a = users(log, 0, 2), b = users(log, 2, 4);
  Classification merged = gathered(a.run({}, kNoAllowances), b.run({}, kNoAllowances), a.timestamp.size());
  const EventColumns events = log.columns();
  std::vector<AccountClock> clocks{AccountClock("UTC")};
  REQUIRE_NOTHROW(check_gathered(events, merged));
  apply_allowances(events, clocks, allowances, merged);
  CHECK(merged.messages.pricing_type == whole.messages.pricing_type);
  CHECK(merged.messages.charge_reason == whole.messages.charge_reason);
  // Each partition alone would have granted its own: 2 free tier, 2 service allowance each.
  const Classification alone = b.run({}, allowances);
  CHECK(alone.messages.pricing_type[0] == code(PricingType::free_tier));
  CHECK(whole.messages.pricing_type[9] == code(PricingType::regular));  // user 3's March conversation: the 4th
}

TEST_CASE("check_gathered rejects codes that would index out of range") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2022, 3, 2});
  EventLog log;
  log.outbound(h0, h0, TemplateCategory::marketing);
  log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::utility);
  const EventColumns events = log.columns();
  const Classification good = log.run({}, kNoAllowances);
  REQUIRE_NOTHROW(check_gathered(events, good));

  Classification bad = good;
  bad.conversations.opened_by[0] = 2;
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  bad = good;
  bad.messages.conversation_id[1] = 7;
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  bad = good;
  bad.messages.pricing_type[0] = 9;
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  bad = good;
  bad.conversations.category[0] = -1;
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  EventColumns wrong_waba = events;
  const std::vector<std::int32_t> waba{0, 1};
  wrong_waba.waba = waba.data();
  CHECK_THROWS_AS(check_gathered(wrong_waba, good), InputError);
  bad = good;
  bad.messages.era.pop_back();
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  bad = good;
  bad.messages.charge_reason.pop_back();  // the allowances write it: a short column would overflow
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
  bad = good;
  bad.messages.charge_reason[0] = 99;
  CHECK_THROWS_AS(check_gathered(events, bad), InputError);
}
