#include "waconv/price.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <map>
#include <tuple>

#include "parallel.hpp"

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

  std::int16_t country(std::size_t row) const { return in_.country(e_, row); }

  std::int8_t currency(std::size_t row) const {
    return in_.waba_currency != nullptr ? in_.waba_currency[static_cast<std::uint32_t>(e_.waba[row])] : 0;
  }

  std::int16_t card(std::size_t period, PricingModel model, std::int8_t currency) const {
    const auto currency_model = static_cast<std::size_t>(currency) * 2 + static_cast<std::size_t>(model);
    return t_.card_of[currency_model * t_.periods() + period];
  }

  // SPEC §6: authentication templates to listed countries other than the primary business
  // location, after the portfolio's start time.
  bool international(std::size_t row, std::int16_t country, std::size_t period, Instant t) const {
    const auto portfolio = static_cast<std::size_t>(in_.portfolio[row]);
    if (portfolio >= ai_.start.size() || ai_.start[portfolio] == kNoInstant || t < ai_.start[portfolio]) return false;
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

  static constexpr std::size_t kNoBands = static_cast<std::size_t>(-1);

  // Index into t_.bands of the tier bands in force, kNoBands where there are none.
  std::size_t band_slot(std::int8_t currency, std::size_t period, std::int16_t market, std::int8_t column) const {
    const std::int16_t set = t_.band_set_of[static_cast<std::size_t>(currency) * t_.periods() + period];
    if (set < 0 || column == kNoRateColumn) return kNoBands;
    const std::size_t slot = static_cast<std::size_t>(set) * t_.band_slots() +
                             static_cast<std::size_t>(market) * kRateColumnCount + static_cast<std::size_t>(column);
    return t_.bands[slot].empty() ? kNoBands : slot;
  }

  const EventColumns& e_;
  const PricingInputs& in_;
  const PricingTables& t_;
  const AuthInternational& ai_;
  Periods periods_;
};

constexpr std::int8_t code(PricingCategory c) { return static_cast<std::int8_t>(c); }
constexpr std::int8_t code(PricingType t) { return static_cast<std::int8_t>(t); }

// The currency code of a row or conversation: its WABA's where a card is in force, -1
// (null) where none is.
constexpr std::int8_t currency_of(std::int16_t card, std::int8_t currency) { return card >= 0 ? currency : -1; }

// What the rows of one CBP conversation need from it, in one 16-byte record so that a row
// reading its (randomly placed) conversation costs one cache miss, not five.
struct ConversationCharge {
  double cost;           // the rate when regular (NaN: unknown), else 0
  std::int16_t card;
  std::int16_t rate_source;
  std::int8_t category;  // after the authentication-international rewrite
  std::int8_t currency;  // the opening row's WABA's
  bool regular;
};

// Counts the charged units whose price is not exact (PricingGaps) as they are priced.
class GapCounter {
 public:
  explicit GapCounter(const PricingTables& t) : t_(t) {
    gaps.borrowed_from.assign(static_cast<std::size_t>(t.card_count), 0);
    gaps.borrowed_by_card_cell.assign(
        static_cast<std::size_t>(t.card_count) * static_cast<std::size_t>(t.market_count) * kPricingCategoryCount, 0);
    gaps.first_without_card.assign(static_cast<std::size_t>(t.currency_count), -1);
    gaps.unknown_by_category_market.assign(kPricingCategoryCount * static_cast<std::size_t>(t.market_count), 0);
  }

  // `row` is a charged unit with its final price, delivered (else sent) at t.
  void count(std::size_t row, Instant t, std::int8_t category, std::int16_t card, std::int8_t market, double cost,
             std::int16_t rate_source) {
    constexpr Instant kSlack = 14 * kHour;  // cards switch at WABA-local midnight, at most UTC+14
    if (std::isnan(cost)) {
      if (gaps.unknown_rate++ == 0 || static_cast<std::int64_t>(row) < gaps.first_unknown_rate) {
        gaps.first_unknown_rate = static_cast<std::int64_t>(row);
        gaps.first_unknown_card = card;
      }
      if (category >= 0 && market >= 0 && market < t_.market_count) {
        ++gaps.unknown_by_category_market[static_cast<std::size_t>(category) * static_cast<std::size_t>(t_.market_count) +
                                          static_cast<std::size_t>(market)];
      }
    } else if (rate_source >= 0 && rate_source != card) {
      ++gaps.borrowed;
      ++gaps.borrowed_from[static_cast<std::size_t>(rate_source)];
      if (card >= 0 && market >= 0 && market < t_.market_count && category >= 0) {
        const std::size_t cell = static_cast<std::size_t>(card) * static_cast<std::size_t>(t_.market_count) +
                                 static_cast<std::size_t>(market);
        ++gaps.borrowed_by_card_cell[cell * kPricingCategoryCount + static_cast<std::size_t>(category)];
      }
    }
    if (card >= 0 && static_cast<std::size_t>(card) < t_.card_effective.size() &&
        t_.card_effective[static_cast<std::size_t>(card)] > t + kSlack) {
      ++gaps.before_first_card;
    }
  }

  // `row` has a pricing type but its currency has no card in force.
  void without_card(std::size_t row, std::int8_t currency) {
    std::int64_t& first = gaps.first_without_card[static_cast<std::size_t>(currency)];
    if (first < 0 || static_cast<std::int64_t>(row) < first) first = static_cast<std::int64_t>(row);
  }

  PricingGaps gaps;

 private:
  const PricingTables& t_;
};

std::vector<ConversationCharge> price_conversations(const Pricer& p, Classification& r, ConversationPrices& out,
                                                    int threads) {
  ConversationTable& c = r.conversations;
  out.market.resize(c.size());
  out.cost.resize(c.size());
  out.currency.resize(c.size());
  out.rate_source.resize(c.size());
  std::vector<ConversationCharge> charges(c.size());
  detail::parallel_chunks(c.size(), detail::thread_count(threads, c.size()), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) {
      if (i + 16 < last) {  // opening rows are scattered over the log: fetch ahead (see price_rows)
        const auto ahead = static_cast<std::size_t>(c.opened_by[i + 16]);
        __builtin_prefetch(&p.e_.user[ahead]);
        __builtin_prefetch(&p.e_.waba[ahead]);
      }
      const auto row = static_cast<std::size_t>(c.opened_by[i]);
      const std::size_t period = p.period(row, c.start[i]);
      const std::int16_t country = p.country(row);
      const std::int16_t market = p.market(period, country);
      if (c.category[i] == code(PricingCategory::authentication) &&
          p.international(row, country, period, c.start[i])) {
        c.category[i] = code(PricingCategory::authentication_international);
      }
      const bool regular = c.pricing_type[i] == code(PricingType::regular);
      const std::int8_t currency = p.currency(row);
      // Free entry point windows of the PMP eras are conversations too: their card (for the
      // currency; they cost nothing) is a per-message one.
      const PricingModel model = model_of(static_cast<Era>(c.era[i]));
      const std::int16_t card = p.card(period, model, currency);
      const auto [rate, source] = regular ? p.list_rate(card, market, static_cast<PricingCategory>(c.category[i]),
                                                        model)
                                          : std::pair<double, std::int16_t>{0.0, -1};
      out.market[i] = static_cast<std::int8_t>(market);
      out.currency[i] = currency_of(card, currency);
      out.cost[i] = rate;
      out.rate_source[i] = source;
      charges[i] = {rate, card, source, c.category[i], currency, regular};
    }
  });
  return charges;
}

// One PMP message counted towards a volume tier, in counting order (the tuple order).
struct TieredMessage {
  std::int32_t portfolio;
  std::int16_t market;
  std::int8_t group;  // 0 utility, 1 authentication (international shares the count)
  std::int32_t month;
  Instant at;
  std::size_t row;
  std::size_t bands;  // index into PricingTables::bands: the table in force at the row's delivery
  std::int16_t card;

  friend bool operator<(const TieredMessage& a, const TieredMessage& b) {
    return std::tie(a.portfolio, a.market, a.group, a.month, a.at, a.row) <
           std::tie(b.portfolio, b.market, b.group, b.month, b.at, b.row);
  }
  bool same_count(const TieredMessage& o) const {
    return portfolio == o.portfolio && market == o.market && group == o.group && month == o.month;
  }
};

// The price fields of one row, stored once each when the row is done.
struct RowPrice {
  std::int8_t market = -1;
  std::int16_t tier = -1;
  double rate = kNaN;
  double cost = 0.0;
  std::int8_t currency = -1;
  std::int16_t rate_source = -1;
};

// Prices rows [first, last): every output field of every row is written. PMP utility and
// authentication rows in markets with volume tiers are collected for the counting pass.
void price_rows(const Pricer& p, const std::vector<AccountClock>& clocks, Classification& result,
                const std::vector<ConversationCharge>& conversations, std::size_t first, std::size_t last,
                MessagePrices& m, std::vector<TieredMessage>& tiered, GapCounter& gaps) {
  const EventColumns& events = p.e_;
  MessageVerdicts& v = result.messages;
  // Local copies of the column pointers: the int8 stores below may alias anything, and
  // would otherwise make the compiler reload every vector's data pointer after each one.
  const std::int8_t* const pricing_type = v.pricing_type.data();
  std::int8_t* const pricing_category = v.pricing_category.data();
  const std::int64_t* const conversation_id = v.conversation_id.data();
  const std::uint8_t* const opens = v.opens_conversation.data();
  const ConversationCharge* const charges = conversations.data();
  // Rows of one conversation lie far apart, and so do rows of one user: each row's charge
  // record and its user's country are cache misses. Asking for them this many rows ahead
  // overlaps those misses instead of queueing them.
  constexpr std::size_t kLookahead = 32;
  const std::int32_t* const user = events.user;
  const std::int16_t* const user_country = p.in_.user_country;
  for (std::size_t row = first; row < last; ++row) {
    if (row + kLookahead < last) {
      const std::int64_t ahead = conversation_id[row + kLookahead];
      if (ahead >= 0) __builtin_prefetch(&charges[static_cast<std::size_t>(ahead)]);
      __builtin_prefetch(&user_country[static_cast<std::uint32_t>(user[row + kLookahead])]);
    }
    RowPrice out;
    const std::int16_t country = p.country(row);
    if (pricing_type[row] != kNullCode) {
      const Instant t = events.is_delivered(row) ? events.delivered_at[row] : events.timestamp[row];
      const std::size_t period = p.period(row, t);
      const std::int16_t market = p.market(period, country);
      out.market = static_cast<std::int8_t>(market);
      const bool regular = pricing_type[row] == code(PricingType::regular);
      if (conversation_id[row] >= 0) {
        // CBP conversation members (and FEP rows): category and cost follow the
        // conversation, charged once, on the row that opened it.
        const ConversationCharge& charge = charges[static_cast<std::size_t>(conversation_id[row])];
        pricing_category[row] = charge.category;
        out.currency = currency_of(charge.card, charge.currency);
        if (charge.card < 0) gaps.without_card(row, charge.currency);
        if (opens[row] && charge.regular) {
          out.rate = out.cost = charge.cost;
          out.rate_source = charge.rate_source;
        }
        if (opens[row] && regular) gaps.count(row, t, charge.category, charge.card, out.market, out.cost, out.rate_source);
      } else {
        if (pricing_category[row] == code(PricingCategory::authentication) &&
            p.international(row, country, period, t)) {
          pricing_category[row] = code(PricingCategory::authentication_international);
        }
        const std::int8_t currency = p.currency(row);
        const std::int16_t card = p.card(period, PricingModel::pmp, currency);
        out.currency = currency_of(card, currency);
        if (card < 0) gaps.without_card(row, currency);
        if (regular) {
          const auto category = static_cast<PricingCategory>(pricing_category[row]);
          const auto [rate, source] = p.list_rate(card, market, category, PricingModel::pmp);
          out.rate = out.cost = rate;
          out.rate_source = source;
          const bool tier_category = category == PricingCategory::utility ||
                                     category == PricingCategory::authentication ||
                                     category == PricingCategory::authentication_international;
          const std::size_t bands =
              tier_category ? p.band_slot(currency, period, market, rate_column(category, PricingModel::pmp))
                            : Pricer::kNoBands;
          if (bands != Pricer::kNoBands) {
            const std::int8_t group = category == PricingCategory::utility ? 0 : 1;
            const std::int32_t month = clocks[static_cast<std::size_t>(events.waba[row])].calendar.month_of(t);
            tiered.push_back({p.in_.portfolio[row], market, group, month, t, row, bands, card});  // counted once tiered
          } else {
            gaps.count(row, t, pricing_category[row], card, out.market, out.cost, out.rate_source);
          }
        }
      }
    }
    m.country[row] = country;
    m.market[row] = out.market;
    m.tier[row] = out.tier;
    m.rate[row] = out.rate;
    m.cost[row] = out.cost;
    m.currency[row] = out.currency;
    m.rate_source[row] = out.rate_source;
  }
}

// Graduated volume tiers: the n-th message of a (portfolio, market, category group, local
// month) count is priced at the band holding n, in the table in force at its delivery.
// `used`: messages of earlier calls, which come before every message here in their count.
void apply_tiers(const Pricer& p, const MessageVerdicts& v, std::vector<TieredMessage>& tiered, MessagePrices& m,
                 GapCounter& gaps, const std::vector<TierUsed>& used) {
  std::sort(tiered.begin(), tiered.end());
  std::map<std::tuple<std::int32_t, std::int16_t, std::int8_t, std::int32_t>, std::int64_t> counted;
  for (const TierUsed& u : used) counted[{u.portfolio, u.market, u.group, u.month}] += u.used;
  const auto already = [&](const TieredMessage& t) -> std::int64_t {
    if (counted.empty()) return 0;
    const auto found = counted.find({t.portfolio, t.market, t.group, t.month});
    return found == counted.end() ? 0 : found->second;
  };
  std::int64_t count = 0;
  for (std::size_t k = 0; k < tiered.size(); ++k) {
    const TieredMessage& message = tiered[k];
    count = k > 0 && tiered[k - 1].same_count(message) ? count + 1 : already(message) + 1;
    for (const TierBand& band : p.t_.bands[message.bands]) {
      if (count >= std::max<std::int64_t>(band.lower, 1) && count <= band.upper) {
        m.tier[message.row] = static_cast<std::int16_t>(band.label);
        m.rate[message.row] = band.rate;
        m.cost[message.row] = band.rate;
        break;
      }
    }
    gaps.count(message.row, message.at, v.pricing_category[message.row], message.card, m.market[message.row],
               m.cost[message.row], m.rate_source[message.row]);
  }
}

}  // namespace

void PricingGaps::add(const PricingGaps& other) {
  if (other.first_unknown_rate >= 0 && (first_unknown_rate < 0 || other.first_unknown_rate < first_unknown_rate)) {
    first_unknown_rate = other.first_unknown_rate;
    first_unknown_card = other.first_unknown_card;
  }
  unknown_rate += other.unknown_rate;
  before_first_card += other.before_first_card;
  borrowed += other.borrowed;
  for (std::size_t c = 0; c < borrowed_from.size(); ++c) borrowed_from[c] += other.borrowed_from[c];
  for (std::size_t c = 0; c < borrowed_by_card_cell.size(); ++c) {
    borrowed_by_card_cell[c] += other.borrowed_by_card_cell[c];
  }
  for (std::size_t c = 0; c < first_without_card.size(); ++c) {
    const std::int64_t row = other.first_without_card[c];
    if (row >= 0 && (first_without_card[c] < 0 || row < first_without_card[c])) first_without_card[c] = row;
  }
  for (std::size_t c = 0; c < unknown_by_category_market.size(); ++c) {
    unknown_by_category_market[c] += other.unknown_by_category_market[c];
  }
}

Prices price(const EventColumns& events, const PricingInputs& inputs, const std::vector<AccountClock>& clocks,
             const PricingTables& tables, const AuthInternational& auth_international, Classification& result,
             int threads, const std::vector<TierUsed>& tier_used) {
  tables.check();
  if (inputs.waba_currency != nullptr) {
    for (std::size_t w = 0; w < clocks.size(); ++w) {
      if (inputs.waba_currency[w] < 0 || inputs.waba_currency[w] >= tables.currency_count) {
        throw std::invalid_argument("WABA currency code out of range");
      }
    }
  }
  const Pricer p(events, inputs, clocks, tables, auth_international);
  const std::size_t n = events.size;
  Prices out;
  const std::size_t workers = detail::thread_count(threads, n);
  const auto charges = price_conversations(p, result, out.conversations, threads);
  MessagePrices& m = out.messages;
  m.country.resize(n);
  m.market.resize(n);
  m.tier.resize(n);
  m.rate.resize(n);
  m.cost.resize(n);
  m.currency.resize(n);
  m.rate_source.resize(n);
  std::vector<std::vector<TieredMessage>> tiered(workers);
  std::vector<GapCounter> gaps(workers + 1, GapCounter(tables));  // the last one counts tiered rows
  detail::parallel_chunks(n, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    price_rows(p, clocks, result, charges, first, last, m, tiered[chunk], gaps[chunk]);
  });
  std::vector<TieredMessage> all_tiered = detail::concatenated(std::move(tiered));
  apply_tiers(p, result.messages, all_tiered, m, gaps[workers], tier_used);
  out.gaps = std::move(gaps[0].gaps);
  for (std::size_t k = 1; k <= workers; ++k) out.gaps.add(gaps[k].gaps);
  return out;
}

}  // namespace waconv
