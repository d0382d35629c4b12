// Dense, dated pricing tables: market membership, rate cards (with fallback already
// resolved) per currency, the authentication-international country list and dated
// volume-tier bands. Built by the caller from data files; phase 2 only looks values up.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "waconv/codes.hpp"
#include "waconv/time.hpp"

namespace waconv {

// The columns of Meta's rate-card CSV.
enum class RateColumn : std::int8_t { marketing = 0, utility, authentication, authentication_international, service };
inline constexpr int kRateColumnCount = 5;
inline constexpr std::int8_t kNoRateColumn = -1;

// Which column prices a category under a model (pmp_v2 service uses the utility rate).
std::int8_t rate_column(PricingCategory category, PricingModel model);

struct TierBand {
  std::int64_t lower;  // inclusive, 1-based message count (Meta writes the first band as 0:N)
  std::int64_t upper;  // inclusive; INT64_MAX for MAX
  double rate;
  std::int32_t label;  // index into the caller's list of tier labels
};

struct PricingTables {
  // Period p covers [switches[p-1], switches[p]) in each WABA's local time; p = 0 is before
  // the first switch.
  std::vector<LocalDate> switches;
  std::int32_t country_count = 0;
  std::int32_t market_count = 0;
  std::int16_t other_market = 0;               // market of unknown countries
  std::vector<std::int16_t> market_of;         // [period * country_count + country]
  std::vector<std::uint8_t> auth_international;  // [period * country_count + country]
  // Each WABA is billed in one currency (a code below currency_count) and priced by the
  // cards of that currency: Meta publishes a card per currency, never a conversion.
  std::int32_t currency_count = 1;
  std::vector<std::int16_t> card_of;           // [(currency * 2 + model) * periods + period], -1: no card
  std::int32_t card_count = 0;
  std::vector<double> rate;                    // [(card * market_count + market) * 5 + column], NaN: none
  std::vector<std::int16_t> rate_source;       // card that supplied each rate (fallbacks)
  // Tier tables are dated like cards: a band set is one table's bands, [set * market_count *
  // 5 + market * 5 + column] (each list sorted, may be empty), and band_set_of names the set
  // in force per currency and period (-1: no tiers).
  std::vector<std::vector<TierBand>> bands;
  std::vector<std::int16_t> band_set_of;       // [currency * periods + period]
  std::vector<Instant> card_effective;         // per card: its effective date at 00:00 UTC

  std::size_t periods() const { return switches.size() + 1; }
  std::size_t band_slots() const { return static_cast<std::size_t>(market_count) * kRateColumnCount; }
  std::size_t cell(std::int32_t card, std::int16_t market, std::int8_t column) const {
    return (static_cast<std::size_t>(card) * static_cast<std::size_t>(market_count) + static_cast<std::size_t>(market)) *
               kRateColumnCount + static_cast<std::size_t>(column);
  }
  // Throws std::invalid_argument when the tables are inconsistent.
  void check() const;
};

// Per-account authentication-international configuration (Meta's eligibility is per
// business portfolio: primary business location and start time).
struct AuthInternational {
  std::vector<std::int16_t> primary_country;  // per portfolio code; kUnknownCountry = none
  std::vector<Instant> start;                 // per portfolio code; kNoInstant = not eligible
};

}  // namespace waconv
