#include "waconv/rate_cards.hpp"

#include <stdexcept>

namespace waconv {

std::int8_t rate_column(PricingCategory category, PricingModel model) {
  switch (category) {
    case PricingCategory::marketing:
    case PricingCategory::marketing_lite: return static_cast<std::int8_t>(RateColumn::marketing);
    case PricingCategory::utility: return static_cast<std::int8_t>(RateColumn::utility);
    case PricingCategory::authentication: return static_cast<std::int8_t>(RateColumn::authentication);
    case PricingCategory::authentication_international:
      return static_cast<std::int8_t>(RateColumn::authentication_international);
    case PricingCategory::service:
      // From 2026-10-01 service messages cost the market's utility rate (no service column).
      return static_cast<std::int8_t>(model == PricingModel::pmp ? RateColumn::utility : RateColumn::service);
    case PricingCategory::user_initiated:
    case PricingCategory::business_initiated:
    case PricingCategory::referral_conversion: break;
  }
  return kNoRateColumn;
}

void PricingTables::check() const {
  const std::size_t p = periods();
  const auto countries = static_cast<std::size_t>(country_count);
  if (market_of.size() != p * countries || auth_international.size() != p * countries) {
    throw std::invalid_argument("market and auth-international tables need one entry per period and country");
  }
  if (currency_count < 1 || currency_count > 127) throw std::invalid_argument("1 to 127 currencies (codes are int8)");
  const auto currencies = static_cast<std::size_t>(currency_count);
  if (card_of.size() != currencies * 2 * p) {
    throw std::invalid_argument("card table needs one entry per currency, model and period");
  }
  const std::size_t cells = static_cast<std::size_t>(card_count) * static_cast<std::size_t>(market_count) * kRateColumnCount;
  if (rate.size() != cells || rate_source.size() != cells) throw std::invalid_argument("rate table has the wrong size");
  if (band_slots() == 0 || bands.size() % band_slots() != 0) {
    throw std::invalid_argument("tier bands need one list per band set, market and rate column");
  }
  if (band_set_of.size() != currencies * p) throw std::invalid_argument("band sets need one entry per currency and period");
  const auto sets = static_cast<std::int64_t>(bands.size() / band_slots());
  for (auto s : band_set_of) {
    if (s < -1 || s >= sets) throw std::invalid_argument("band set code out of range");
  }
  if (market_count > 127) throw std::invalid_argument("at most 127 markets (market codes are int8)");
  if (card_count > 32767) throw std::invalid_argument("at most 32767 cards");
  for (const auto& list : bands) {
    for (const TierBand& b : list) {
      if (b.label < 0 || b.label > 32767) throw std::invalid_argument("tier label code out of range");
    }
  }
  for (auto m : market_of) {
    if (m < 0 || m >= market_count) throw std::invalid_argument("market code out of range");
  }
  for (auto c : card_of) {
    if (c < -1 || c >= card_count) throw std::invalid_argument("card code out of range");
  }
  if (other_market < 0 || other_market >= market_count) throw std::invalid_argument("no market for unknown countries");
}

}  // namespace waconv
