// A tiny builder of canonical event columns for the C++ tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "waconv/allowances.hpp"
#include "waconv/classify.hpp"

namespace waconv::testing {

// A message_id column in Arrow's layout (std::nullopt: a null id), for EventLog::message_id.
struct MessageIds {
  std::vector<std::int32_t> offsets{0};
  std::string data;
  std::vector<std::uint8_t> validity;
  StringColumn column;

  MessageIds(const MessageIds&) = delete;  // column points into this object's buffers
  explicit MessageIds(const std::vector<std::optional<std::string>>& ids) : validity((ids.size() + 7) / 8, 0) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i]) {
        data += *ids[i];
        validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
      }
      offsets.push_back(static_cast<std::int32_t>(data.size()));
    }
    column.size = ids.size();
    column.offsets32 = offsets.data();
    column.data = data.data();
    column.validity = validity.data();
  }
};

// Hours from a reference instant, so tests read like Meta's worked examples.
inline Instant at(Instant origin, double hours) { return origin + static_cast<Instant>(hours * kHour); }

struct EventLog {
  std::vector<std::int32_t> business, user, waba;
  std::vector<Instant> timestamp, delivered_at;
  std::vector<std::int8_t> direction, template_category;
  std::vector<std::uint8_t> referral, duplicate;
  std::vector<std::string> zones{"UTC"};
  const StringColumn* message_id = nullptr;  // optional, one id per row

  std::size_t inbound(Instant t, bool from_ad = false, std::int32_t u = 0, std::int32_t b = 0) {
    return add(b, u, t, kNoInstant, Direction::inbound, TemplateCategory::none, from_ad);
  }
  std::size_t outbound(Instant sent, Instant delivered, TemplateCategory c = TemplateCategory::none,
                       std::int32_t u = 0, std::int32_t b = 0) {
    return add(b, u, sent, delivered, Direction::outbound, c, false);
  }
  std::size_t add(std::int32_t b, std::int32_t u, Instant t, Instant d, Direction dir, TemplateCategory c,
                  bool ref) {
    business.push_back(b);
    user.push_back(u);
    waba.push_back(0);
    timestamp.push_back(t);
    delivered_at.push_back(d);
    direction.push_back(static_cast<std::int8_t>(dir));
    template_category.push_back(static_cast<std::int8_t>(c));
    referral.push_back(ref ? 1 : 0);
    duplicate.push_back(0);
    return timestamp.size() - 1;
  }

  EventColumns columns() const {
    EventColumns e;
    e.size = timestamp.size();
    e.business = business.data();
    e.user = user.data();
    e.waba = waba.data();
    e.timestamp = timestamp.data();
    e.delivered_at = delivered_at.data();
    e.direction = direction.data();
    e.template_category = template_category.data();
    e.referral = referral.data();
    e.duplicate = duplicate.data();
    e.message_id = message_id;
    std::int32_t users = 0;
    for (auto u : user) users = std::max(users, u + 1);
    e.user_count = users;
    e.waba_count = static_cast<std::int32_t>(zones.size());
    return e;
  }

  Classification run(ClassifyOptions options = {}, AllowanceOptions allowances = {}) const {
    std::vector<AccountClock> clocks;
    for (const auto& z : zones) clocks.emplace_back(z);
    const EventColumns e = columns();
    Classification r = classify(e, clocks, options);
    apply_allowances(e, clocks, allowances, r);
    return r;
  }
};

inline std::int8_t code(PricingCategory c) { return static_cast<std::int8_t>(c); }
inline std::int8_t code(PricingType t) { return static_cast<std::int8_t>(t); }
inline std::int8_t code(Era e) { return static_cast<std::int8_t>(e); }

}  // namespace waconv::testing
