#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <tuple>

#include "arrays.hpp"
#include "waconv/price.hpp"

namespace py = pybind11;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::make_clocks;
using waconv::bindings::to_numpy;

namespace {

using Band = std::tuple<std::int64_t, std::int64_t, double, std::int32_t>;

template <class T>
std::vector<T> to_vector(const Column<T>& column) {
  return {column.data(), column.data() + column.size()};
}

py::array resolve_countries(const std::vector<std::string>& users, const std::vector<std::string>& prefixes,
                            const std::vector<std::int16_t>& prefix_country, const std::vector<std::string>& iso_codes,
                            const std::vector<std::string>& calling_codes,
                            const std::vector<std::uint32_t>& national_lengths) {
  const waconv::CountryResolver resolver(prefixes, prefix_country, iso_codes, calling_codes, national_lengths);
  std::vector<std::int16_t> out(users.size());
  {
    py::gil_scoped_release release;
    for (std::size_t i = 0; i < users.size(); ++i) out[i] = resolver.resolve(users[i]);
  }
  return to_numpy(std::move(out));
}

// The same for Arrow-backed ids, read from their buffers: no Python string per user.
py::array resolve_country_buffers(const py::array& offsets, const py::object& data,
                                  const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                                  std::int64_t size, const std::vector<std::string>& prefixes,
                                  const std::vector<std::int16_t>& prefix_country,
                                  const std::vector<std::string>& iso_codes,
                                  const std::vector<std::string>& calling_codes,
                                  const std::vector<std::uint32_t>& national_lengths) {
  const waconv::bindings::ArrowStrings users(offsets, data, validity, validity_offset, size);
  const waconv::CountryResolver resolver(prefixes, prefix_country, iso_codes, calling_codes, national_lengths);
  std::vector<std::int16_t> out;
  {
    py::gil_scoped_release release;
    out = waconv::resolve_countries(resolver, users.column());
  }
  return to_numpy(std::move(out));
}

py::dict price(waconv::Classification& result, const Column<std::int32_t>& waba,
               const Column<std::int64_t>& timestamp, const Column<std::int64_t>& delivered_at,
               const Column<std::int32_t>& user, const Column<std::int16_t>& user_country,
               const std::optional<Column<std::int16_t>>& country_override, const Column<std::int32_t>& portfolio,
               const std::vector<std::string>& time_zones,
               const std::vector<std::tuple<int, unsigned, unsigned>>& switches, std::int32_t country_count,
               std::int32_t market_count, std::int16_t other_market, const Column<std::int16_t>& market_of,
               const Column<std::uint8_t>& auth_international, const Column<std::int16_t>& card_of,
               std::int32_t card_count, const Column<double>& rate, const Column<std::int16_t>& rate_source,
               const std::vector<std::vector<Band>>& bands, const Column<std::int16_t>& auth_primary_country,
               const Column<std::int64_t>& auth_start, const Column<std::int64_t>& card_effective,
               std::int32_t currency_count, const Column<std::int16_t>& band_set_of,
               const std::optional<Column<std::int8_t>>& waba_currency, int threads,
               const std::vector<std::tuple<std::int32_t, std::int16_t, std::int8_t, std::int32_t, std::int64_t>>&
                   tier_used) {
  const std::size_t n = result.messages.era.size();
  waconv::EventColumns events;
  events.size = n;
  events.waba = data_of<std::int32_t>(waba, n, "waba");
  events.timestamp = data_of<std::int64_t>(timestamp, n, "timestamp");
  events.delivered_at = data_of<std::int64_t>(delivered_at, n, "delivered_at");
  events.user = data_of<std::int32_t>(user, n, "user");
  const auto users = static_cast<std::size_t>(user_country.size());
  waconv::PricingInputs inputs{data_of<std::int16_t>(user_country, users, "user_country", "user"),
                               data_of<std::int16_t>(country_override, n, "user_country"),
                               data_of<std::int32_t>(portfolio, n, "portfolio"), static_cast<std::int32_t>(users),
                               data_of<std::int8_t>(waba_currency, time_zones.size(), "waba_currency", "WABA")};

  waconv::PricingTables tables;
  for (const auto& [y, m, d] : switches) tables.switches.push_back({y, m, d});
  tables.country_count = country_count;
  tables.market_count = market_count;
  tables.other_market = other_market;
  tables.market_of = to_vector(market_of);
  tables.auth_international = to_vector(auth_international);
  tables.card_of = to_vector(card_of);
  tables.card_count = card_count;
  tables.rate = to_vector(rate);
  tables.rate_source = to_vector(rate_source);
  tables.card_effective = to_vector(card_effective);
  tables.currency_count = currency_count;
  tables.band_set_of = to_vector(band_set_of);
  for (const auto& list : bands) {
    auto& out = tables.bands.emplace_back();
    for (const auto& [lower, upper, value, label] : list) out.push_back({lower, upper, value, label});
  }
  const waconv::AuthInternational auth{to_vector(auth_primary_country), to_vector(auth_start)};
  const auto clocks = make_clocks(time_zones);
  std::vector<waconv::TierUsed> used;
  for (const auto& [portfolio_code, market, group, month, count] : tier_used) {
    used.push_back({portfolio_code, market, group, month, count});
  }

  waconv::Prices prices;
  {
    py::gil_scoped_release release;
    prices = waconv::price(events, inputs, clocks, tables, auth, result, threads, used);
  }
  py::dict messages;
  messages["country"] = to_numpy(std::move(prices.messages.country));
  messages["market"] = to_numpy(std::move(prices.messages.market));
  messages["tier"] = to_numpy(std::move(prices.messages.tier));
  messages["rate"] = to_numpy(std::move(prices.messages.rate));
  messages["cost"] = to_numpy(std::move(prices.messages.cost));
  messages["currency"] = to_numpy(std::move(prices.messages.currency));
  messages["rate_source"] = to_numpy(std::move(prices.messages.rate_source));
  py::dict conversations;
  conversations["market"] = to_numpy(std::move(prices.conversations.market));
  conversations["cost"] = to_numpy(std::move(prices.conversations.cost));
  conversations["currency"] = to_numpy(std::move(prices.conversations.currency));
  py::dict gaps;
  gaps["unknown_rate"] = prices.gaps.unknown_rate;
  gaps["first_unknown_rate"] = prices.gaps.first_unknown_rate;
  gaps["first_unknown_card"] = prices.gaps.first_unknown_card;
  gaps["before_first_card"] = prices.gaps.before_first_card;
  gaps["borrowed"] = prices.gaps.borrowed;
  gaps["borrowed_from"] = to_numpy(std::move(prices.gaps.borrowed_from));
  gaps["borrowed_by_card_cell"] = to_numpy(std::move(prices.gaps.borrowed_by_card_cell));
  gaps["first_without_card"] = to_numpy(std::move(prices.gaps.first_without_card));
  gaps["unknown_by_category_market"] = to_numpy(std::move(prices.gaps.unknown_by_category_market));
  py::dict out;
  out["messages"] = messages;
  out["conversations"] = conversations;
  out["gaps"] = gaps;
  return out;
}

}  // namespace

void register_price(py::module_& m) {
  m.def("resolve_countries", &resolve_countries, py::arg("users"), py::arg("prefixes"), py::arg("prefix_country"),
        py::arg("iso_codes"), py::arg("calling_codes") = std::vector<std::string>{},
        py::arg("national_lengths") = std::vector<std::uint32_t>{},
        "Country code of each user id (BSUID ISO prefix or longest calling-code prefix); national_lengths[k], "
        "bit n: calling_codes[k] has national numbers of n digits (checked for bare digits).");
  m.def("resolve_country_buffers", &resolve_country_buffers, py::arg("offsets"), py::arg("data"),
        py::arg("validity"), py::arg("validity_offset"), py::arg("size"), py::arg("prefixes"),
        py::arg("prefix_country"), py::arg("iso_codes"), py::arg("calling_codes") = std::vector<std::string>{},
        py::arg("national_lengths") = std::vector<std::uint32_t>{},
        "resolve_countries for an Arrow utf8/large_utf8 array given its buffers (null: -1).");
  m.def("price", &price, py::arg("result"), py::arg("waba"), py::arg("timestamp"), py::arg("delivered_at"),
        py::arg("user"), py::arg("user_country"), py::arg("country_override"), py::arg("portfolio"),
        py::arg("time_zones"), py::arg("switches"),
        py::arg("country_count"), py::arg("market_count"), py::arg("other_market"), py::arg("market_of"),
        py::arg("auth_international"), py::arg("card_of"), py::arg("card_count"), py::arg("rate"),
        py::arg("rate_source"), py::arg("bands"), py::arg("auth_primary_country"), py::arg("auth_start"),
        py::arg("card_effective"), py::arg("currency_count"), py::arg("band_set_of"),
        py::arg("waba_currency") = py::none(), py::arg("threads") = 0,
        py::arg("tier_used") = std::vector<std::tuple<std::int32_t, std::int16_t, std::int8_t, std::int32_t,
                                                      std::int64_t>>{},
        "Phase 2: markets, rate cards, tiers and costs; rewrites authentication_international categories. "
        "tier_used: (portfolio, market, group, month, count) already counted by earlier calls.");
}
