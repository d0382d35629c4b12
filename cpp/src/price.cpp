#include "waconv/price.hpp"

#include <algorithm>
#include <tuple>

namespace waconv {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Period lookup: each WABA's local-midnight instants of the table switches.
class Periods {
 public:
  Periods(const PricingTables& tables, const std::vector<AccountClock>& clocks) {
    for (const AccountClock& clock : clocks) {
      std::vector<Instant> at;
      at.reserve(tables.switches.size());
      for (const LocalDate& d : tables.switches) at.push_back(clock.calendar.start_of_day(d));
      switch_at_.push_back(std::move(at));
    }
  }
  std::size_t of(std::int32_t waba, Instant t) const {
    const auto& at = switch_at_[static_cast<std::size_t>(waba)];
    return static_cast<std::size_t>(std::upper_bound(at.begin(), at.end(), t) - at.begin());
  }

 private:
  std::vector<std::vector<Instant>> switch_at_;
};

class Pricer {
 public:
  Pricer(const EventColumns& e, const PricingInputs& in, const std::vector<AccountClock>& clocks,
         const PricingTables& t, const AuthInternational& ai)
      : e_(e), in_(in), t_(t), ai_(ai), periods_(t, clocks) {}

  std::int16_t market(std::size_t period, std::int16_t country) const {
    if (country < 0 || country >= t_.country_count) return t_.other_market;
    return t_.market_of[period * static_cast<std::size_t>(t_.country_count) + static_cast<std::size_t>(country)];
  }

  std::size_t period(std::size_t row, Instant t) const { return periods_.of(e_.waba[row], t); }

  std::int16_t card(std::size_t period, PricingModel model) const {
    return t_.card_of[static_cast<std::size_t>(model) * t_.periods() + period];
  }

  // SPEC §6: authentication templates to listed countries other than the primary business
  // location, after the portfolio's start time.
  bool international(std::size_t row, std::size_t period, Instant t) const {
    const auto portfolio = static_cast<std::size_t>(in_.portfolio[row]);
    if (portfolio >= ai_.start.size() || ai_.start[portfolio] == kNoInstant || t < ai_.start[portfolio]) return false;
    const std::int16_t country = in_.country[row];
    if (country < 0 || country == ai_.primary_country[portfolio]) return false;
    return t_.auth_international[period * static_cast<std::size_t>(t_.country_count) + static_cast<std::size_t>(country)] != 0;
  }

  // (rate, source card) of a category at a card; NaN when unknown.
  std::pair<double, std::int16_t> list_rate(std::int16_t card, std::int16_t market, PricingCategory category,
                                            PricingModel model) const {
    const std::int8_t column = rate_column(category, model);
    if (card < 0 || column == kNoRateColumn) return {kNaN, -1};
    const std::size_t cell = t_.cell(card, market, column);
    return {t_.rate[cell], t_.rate_source[cell]};
  }

  const std::vector<TierBand>& bands(std::int16_t market, std::int8_t column) const {
    return t_.bands[static_cast<std::size_t>(market) * kRateColumnCount + static_cast<std::size_t>(column)];
  }

  const EventColumns& e_;
  const PricingInputs& in_;
  const PricingTables& t_;
  const AuthInternational& ai_;
  Periods periods_;
};

constexpr std::int8_t code(PricingCategory c) { return static_cast<std::int8_t>(c); }

void price_conversations(const Pricer& p, Classification& r, Prices& out) {
  ConversationTable& c = r.conversations;
  out.conversations.market.assign(c.size(), -1);
  out.conversations.cost.assign(c.size(), 0.0);
  out.conversations.card.assign(c.size(), -1);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const auto row = static_cast<std::size_t>(c.opened_by[i]);
    const std::size_t period = p.period(row, c.start[i]);
    const std::int16_t market = p.market(period, p.in_.country[row]);
    if (c.category[i] == code(PricingCategory::authentication) && p.international(row, period, c.start[i])) {
      c.category[i] = code(PricingCategory::authentication_international);
    }
    const std::int16_t card = p.card(period, PricingModel::cbp);
    out.conversations.market[i] = market;
    out.conversations.card[i] = card;
    MessagePrices& m = out.messages;
    m.card[row] = card;
    if (c.pricing_type[i] != static_cast<std::int8_t>(PricingType::regular)) continue;
    const auto [rate, source] =
        p.list_rate(card, market, static_cast<PricingCategory>(c.category[i]), PricingModel::cbp);
    out.conversations.cost[i] = rate;
    m.rate[row] = rate;
    m.cost[row] = rate;
    m.rate_source[row] = source;
  }
}

}  // namespace

Prices price(const EventColumns& events, const PricingInputs& inputs, const std::vector<AccountClock>& clocks,
             const PricingTables& tables, const AuthInternational& auth_international, Classification& result) {
  tables.check();
  const Pricer p(events, inputs, clocks, tables, auth_international);
  const std::size_t n = events.size;
  Prices out;
  MessagePrices& m = out.messages;
  m.market.assign(n, -1);
  m.tier.assign(n, -1);
  m.rate.assign(n, kNaN);
  m.cost.assign(n, 0.0);
  m.card.assign(n, -1);
  m.rate_source.assign(n, -1);
  price_conversations(p, result, out);

  MessageVerdicts& v = result.messages;
  // (portfolio, market, tier group, local month, delivered, row): volume-tier counting order.
  std::vector<std::tuple<std::int32_t, std::int16_t, std::int8_t, std::int32_t, Instant, std::size_t>> tiered;
  for (std::size_t row = 0; row < n; ++row) {
    if (v.pricing_type[row] == kNullCode) continue;
    const Instant t = events.is_delivered(row) ? events.delivered_at[row] : events.timestamp[row];
    const std::size_t period = p.period(row, t);
    const std::int16_t market = p.market(period, inputs.country[row]);
    m.market[row] = market;
    if (v.conversation_id[row] >= 0) {
      // CBP conversation members (and FEP rows): category and cost follow the conversation.
      const auto id = static_cast<std::size_t>(v.conversation_id[row]);
      v.pricing_category[row] = result.conversations.category[id];
      if (m.card[row] < 0) m.card[row] = out.conversations.card[id];
      continue;
    }
    if (v.pricing_category[row] == code(PricingCategory::authentication) && p.international(row, period, t)) {
      v.pricing_category[row] = code(PricingCategory::authentication_international);
    }
    const std::int16_t card = p.card(period, PricingModel::pmp);
    m.card[row] = card;
    if (v.pricing_type[row] != static_cast<std::int8_t>(PricingType::regular)) continue;
    const auto category = static_cast<PricingCategory>(v.pricing_category[row]);
    const auto [rate, source] = p.list_rate(card, market, category, PricingModel::pmp);
    m.rate[row] = rate;
    m.cost[row] = rate;
    m.rate_source[row] = source;
    const bool tier_category = category == PricingCategory::utility || category == PricingCategory::authentication ||
                               category == PricingCategory::authentication_international;
    if (tier_category) {
      // Authentication and authentication-international share one count (Meta's example 2).
      const std::int8_t group = category == PricingCategory::utility ? 0 : 1;
      const std::int32_t month = clocks[static_cast<std::size_t>(events.waba[row])].calendar.month_of(t);
      tiered.emplace_back(inputs.portfolio[row], market, group, month, t, row);
    }
  }

  std::sort(tiered.begin(), tiered.end());
  std::int64_t count = 0;
  for (std::size_t k = 0; k < tiered.size(); ++k) {
    const auto& [portfolio, market, group, month, t, row] = tiered[k];
    const bool same = k > 0 && std::get<0>(tiered[k - 1]) == portfolio && std::get<1>(tiered[k - 1]) == market &&
                      std::get<2>(tiered[k - 1]) == group && std::get<3>(tiered[k - 1]) == month;
    count = same ? count + 1 : 1;
    const auto category = static_cast<PricingCategory>(v.pricing_category[row]);
    const auto& bands = p.bands(market, rate_column(category, PricingModel::pmp));
    for (const TierBand& band : bands) {
      if (count >= std::max<std::int64_t>(band.lower, 1) && count <= band.upper) {
        m.tier[row] = band.label;
        m.rate[row] = band.rate;
        m.cost[row] = band.rate;
        break;
      }
    }
  }
  return out;
}

}  // namespace waconv
