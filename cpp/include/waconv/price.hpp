// Phase 2 (SPEC §6): markets, rate cards, volume tiers and authentication-international
// turn classified units into costs. Needs all charged messages of one portfolio for a
// month (tiers), so it runs after every pair has been classified.
#pragma once

#include <cstdint>
#include <vector>

#include "waconv/buffers.hpp"
#include "waconv/classify.hpp"
#include "waconv/markets.hpp"
#include "waconv/rate_cards.hpp"

namespace waconv {

// A row's country is its user's (resolved once per user from the id) unless the row gives
// its own user_country: looking it up here spares a 10M-row gather pass of its own.
struct PricingInputs {
  const std::int16_t* user_country = nullptr;      // per user code, kUnknownCountry allowed
  const std::int16_t* country_override = nullptr;  // optional, per row: the row's own country, -1 none
  const std::int32_t* portfolio = nullptr;         // per row, index into AuthInternational
  std::int32_t user_count = 0;                     // entries of user_country
  const std::int8_t* waba_currency = nullptr;      // per WABA code (one per clock); null: all currency 0

  std::int16_t country(const EventColumns& events, std::size_t row) const {
    if (country_override != nullptr && country_override[row] >= 0) return country_override[row];
    const auto user = static_cast<std::uint32_t>(events.user[row]);
    if (user >= static_cast<std::uint32_t>(user_count)) {
      throw InputError("user", static_cast<std::int64_t>(row), "user code out of range");
    }
    return user_country[user];
  }
};

// Codes are as narrow as their tables allow (markets fit int8): the columns are written at
// memory speed, so every byte per row counts, and pandas keeps such codes without a copy.
struct MessagePrices {
  RowBuffer<std::int16_t> country;    // every row, kUnknownCountry allowed
  RowBuffer<std::int8_t> market;      // -1 for rows that are not business messages with a unit
  RowBuffer<std::int16_t> tier;       // label index, -1 none
  RowBuffer<double> rate;             // NaN unless the row triggers a charge
  RowBuffer<double> cost;             // 0 for free rows; NaN when no rate is known
  RowBuffer<std::int8_t> currency;    // the WABA's currency where a card is in force, else -1
  RowBuffer<std::int16_t> rate_source;  // card the rate came from, -1 none
};

struct ConversationPrices {
  RowBuffer<std::int8_t> market;
  RowBuffer<double> cost;               // the rate of a regular conversation, else 0
  RowBuffer<std::int8_t> currency;
  RowBuffer<std::int16_t> rate_source;  // -1 for conversations that cost nothing
};

// Charged units whose price is not exact, counted for the caller's warnings (a charged unit
// is a regular PMP message or the opening row of a regular CBP conversation).
struct PricingGaps {
  std::int64_t unknown_rate = 0;         // no card has a rate: cost is NaN
  std::int64_t first_unknown_rate = -1;  // the first such row
  std::int16_t first_unknown_card = -1;  // and the card in force there
  std::int64_t before_first_card = 0;    // 14 h or more before its card takes effect (UTC)
  std::int64_t borrowed = 0;             // rate taken from another card than the one in force
  std::vector<std::int64_t> borrowed_from;  // per card: how many of those it supplied
  // Borrowed rates per card in force, market and pricing category:
  // [(card * market_count + market) * kPricingCategoryCount + category].
  std::vector<std::int64_t> borrowed_by_card_cell;
  // Per currency: the first priced row (a row with a pricing type) with no card of that
  // currency in force, -1 none. The caller names WABA, currency and date.
  std::vector<std::int64_t> first_without_card;
  // Unknown rates per (pricing category, market): [category * market_count + market].
  std::vector<std::int64_t> unknown_by_category_market;

  void add(const PricingGaps& other);
};

struct Prices {
  MessagePrices messages;
  ConversationPrices conversations;
  PricingGaps gaps;
};

// Tiered messages an earlier call already counted for one (portfolio, market, category
// group, local month): carried state (SPEC §9) starts that count there. `group`: 0 utility,
// 1 authentication; `month`: ZoneCalendar::month_of's index (year * 12 + month - 1); `portfolio`: this call's code.
struct TierUsed {
  std::int32_t portfolio = 0;
  std::int16_t market = 0;
  std::int8_t group = 0;
  std::int32_t month = 0;
  std::int64_t used = 0;
};

// Also rewrites pricing_category to authentication_international where it applies.
// threads: 0 = one per core.
Prices price(const EventColumns& events, const PricingInputs& inputs, const std::vector<AccountClock>& clocks,
             const PricingTables& tables, const AuthInternational& auth_international, Classification& result,
             int threads = 0, const std::vector<TierUsed>& tier_used = {});

}  // namespace waconv
