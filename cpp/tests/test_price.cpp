#include <catch2/catch.hpp>

#include <cmath>

#include "event_log.hpp"
#include "waconv/price.hpp"

using namespace waconv;
using namespace waconv::testing;

namespace {

// Two countries (0 = BR, 1 = IN), two markets (0 = Brazil, 1 = Other), one PMP card from
// 2025-07-01, utility tiers for Brazil: 1-2 at 0.01, 3+ at 0.005.
PricingTables small_tables() {
  PricingTables t;
  t.switches = {{2025, 7, 1}};
  t.country_count = 2;
  t.market_count = 2;
  t.other_market = 1;
  t.market_of = {0, 1, 0, 1};
  t.auth_international = {0, 0, 0, 1};
  t.card_of = {-1, -1, -1, 0};  // [model][period]: CBP none, PMP card 0 from period 1
  t.card_count = 1;
  t.rate.assign(2 * 5, std::nan(""));
  t.rate_source.assign(2 * 5, 0);
  t.rate[t.cell(0, 0, 0)] = 0.0625;  // Brazil marketing
  t.rate[t.cell(0, 0, 1)] = 0.0068;  // Brazil utility
  t.rate[t.cell(0, 1, 2)] = 0.0077;  // Other authentication
  t.rate[t.cell(0, 1, 3)] = 0.0280;  // Other authentication-international
  t.bands.resize(2 * 5);  // one band set
  t.bands[0 * 5 + 1] = {{0, 2, 0.01, 0}, {3, std::numeric_limits<std::int64_t>::max(), 0.005, 1}};
  t.band_set_of = {0, 0};  // in force in both periods
  return t;
}

}  // namespace

TEST_CASE("country resolution: BSUID prefix, longest calling code, junk") {
  const CountryResolver r({"1", "1809", "55", "7", "77"}, {0, 1, 2, 3, 4}, {"US", "DO", "BR", "RU", "KZ"});
  CHECK(r.resolve("+1 809 555 0101") == 1);
  CHECK(r.resolve("14155550101") == 0);
  CHECK(r.resolve("0055 11 98765 4321") == 2);
  CHECK(r.resolve("77012345678") == 4);
  CHECK(r.resolve("74951234567") == 3);
  CHECK(r.resolve("BR.13491208655302741918") == 2);
  CHECK(r.resolve("wa:abc") == kUnknownCountry);
}

TEST_CASE("phone numbers as people write them: '+' or '00' first, or bare digits") {
  const CountryResolver r({"1", "1809", "44", "55", "91"}, {0, 1, 2, 3, 4}, {"US", "DO", "GB", "BR", "IN"});
  CHECK(r.resolve("+55 (11) 99999-0000") == 3);
  CHECK(r.resolve("0091-98765-43210") == 4);
  CHECK(r.resolve("+44 7700 900123") == 2);
  CHECK(r.resolve("(+44) 7700 900123") == 2);
  CHECK(r.resolve("+44 (0)20 7946 0000") == 2);  // the trunk 0 some write in parentheses
  CHECK(r.resolve("+1 (809) 555-0101") == 1);
  CHECK(r.resolve("5511999990000") == 3);  // a webhook's wa_id
  CHECK(r.resolve(" 5511999990000\t") == 3);
  CHECK(r.resolve("+1.212.555.0101") == 0);
}

TEST_CASE("national formats and implausible numbers get no country") {
  const CountryResolver r({"1", "1809", "44", "55", "91"}, {0, 1, 2, 3, 4}, {"US", "DO", "GB", "BR", "IN"});
  CHECK(r.resolve("(11) 99999-0000") == kUnknownCountry);  // Brazil's national format, not +1 1...
  CHECK(r.resolve("11 99999-0000") == kUnknownCountry);
  CHECK(r.resolve("020 7946 0000") == kUnknownCountry);    // trunk 0
  CHECK(r.resolve("02079460000") == kUnknownCountry);
  CHECK(r.resolve("(212) 555-0101") == kUnknownCountry);   // written for people, no calling code
  CHECK(r.resolve("55 11 99999 0000") == kUnknownCountry); // separators without '+' or '00'
  CHECK(r.resolve("+1 055 555 0101") == kUnknownCountry);  // no NANP area code starts with 0 or 1
  CHECK(r.resolve("+1 155 555 0101") == kUnknownCountry);
  CHECK(r.resolve("12125550101") == 0);
  CHECK(r.resolve("1212555010") == kUnknownCountry);       // NANP numbers have 11 digits
  CHECK(r.resolve("121255501012") == kUnknownCountry);
  CHECK(r.resolve("+44 7700") == kUnknownCountry);         // fewer than 8 digits
  CHECK(r.resolve("+44 770 0900 1234 5678") == kUnknownCountry);  // more than 15
  CHECK(r.resolve("0044 770 0900 1234 56") == 2);          // 15 after the 00
  CHECK(r.resolve("0044 770 0900 1234 567") == kUnknownCountry);
  CHECK(r.resolve("+44 770 09") == kUnknownCountry);      // 7 digits
  CHECK(r.resolve("+44 770 0901") == 2);                    // 8 digits
  CHECK(r.resolve("00000000000") == kUnknownCountry);
  CHECK(r.resolve("+0044 7700 900123") == kUnknownCountry);
  CHECK(r.resolve("44+7700900123") == kUnknownCountry);    // '+' after digits
  CHECK(r.resolve("++447700900123") == kUnknownCountry);
  CHECK(r.resolve("+44 7700 900123 ext 5") == kUnknownCountry);
  CHECK(r.resolve("+") == kUnknownCountry);
  CHECK(r.resolve("") == kUnknownCountry);
  CHECK(r.resolve("   ") == kUnknownCountry);
  CHECK(r.resolve("+33 6 12 34 56 78") == kUnknownCountry);  // a calling code outside the table
  CHECK(r.resolve("9999999999999999999999999999999999999999") == kUnknownCountry);
}

TEST_CASE("bare digits must fit their calling code's national lengths; '+' and '00' need not") {
  constexpr auto lengths = [](std::initializer_list<int> ns) {
    std::uint32_t mask = 0;
    for (int n : ns) mask |= 1U << n;
    return mask;
  };
  const CountryResolver r({"1", "52", "91", "98", "212"}, {0, 1, 2, 3, 4}, {"US", "MX", "IN", "IR", "MA"},
                          {"1", "52", "91", "98", "212"},
                          {lengths({10}), lengths({10, 11}), lengths({10}), lengths({10}), lengths({9})});
  CHECK(r.resolve("919876543210") == 2);
  CHECK(r.resolve("989123456789") == 3);
  CHECK(r.resolve("9876543210") == kUnknownCountry);    // an Indian mobile without +91, not +98 ...
  CHECK(r.resolve("2125550101") == kUnknownCountry);    // a New York number without 1, not +212 ...
  CHECK(r.resolve("212612345678") == 4);
  CHECK(r.resolve("5215512345678") == 1);               // WhatsApp's ids for Mexican mobiles
  CHECK(r.resolve("+98 76543210") == 3);                // the writer said it is international
  CHECK(r.resolve("0098 76543210") == 3);
  CHECK_THROWS_WITH(CountryResolver({"1", "44"}, {0, 1}, {"US", "GB"}, {"1"}, {lengths({10})}),
                    Catch::Contains("'44'"));
  CHECK_THROWS_WITH(CountryResolver({"1"}, {0}, {"US"}, {"1x"}, {lengths({10})}), Catch::Contains("'1x'"));
  CHECK_THROWS(CountryResolver({"1"}, {0}, {"US"}, {"1"}, {}));
}

TEST_CASE("a row's country is its user's unless the row gives its own") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  log.outbound(h0, h0, TemplateCategory::marketing, /*user=*/0);
  log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::marketing, /*user=*/1);
  log.outbound(h0 + 2 * kHour, h0 + 2 * kHour, TemplateCategory::marketing, /*user=*/1);
  log.inbound(h0 + 3 * kHour, false, /*user=*/2);
  Classification r = log.run();
  const std::vector<std::int16_t> user_country{0, 1, kUnknownCountry};  // BR, IN, unresolved
  const std::vector<std::int16_t> override{-1, -1, 0, 1};              // row 2 says BR, row 3 IN
  const std::vector<std::int32_t> portfolio(4, 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const Prices with_override =
      price(log.columns(), {user_country.data(), override.data(), portfolio.data(), 3}, clocks, small_tables(), none, r);
  CHECK(std::vector<std::int16_t>(with_override.messages.country.begin(), with_override.messages.country.end()) ==
        std::vector<std::int16_t>{0, 1, 0, 1});
  CHECK(std::vector<std::int8_t>(with_override.messages.market.begin(), with_override.messages.market.end()) ==
        std::vector<std::int8_t>{0, 1, 0, -1});  // Brazil, Other, Brazil; the inbound row has no unit
  CHECK(with_override.messages.cost[2] == Approx(0.0625));  // priced in Brazil, not as its user's India
  const Prices plain =
      price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 3}, clocks, small_tables(), none, r);
  CHECK(std::vector<std::int16_t>(plain.messages.country.begin(), plain.messages.country.end()) ==
        std::vector<std::int16_t>{0, 1, 1, kUnknownCountry});
  CHECK_THROWS_WITH(price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 2}, clocks, small_tables(),
                          none, r),
                    Catch::Contains("user") && Catch::Contains("row 3"));
}

TEST_CASE("PMP tiers are graduated per portfolio, market and month") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  for (int k = 0; k < 4; ++k) log.outbound(h0 + k * kHour, h0 + k * kHour, TemplateCategory::utility);
  log.outbound(h0 + 5 * kHour, h0 + 5 * kHour, TemplateCategory::marketing);
  Classification r = log.run();
  const std::vector<std::int16_t> user_country{0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const Prices p =
      price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, small_tables(), none, r);
  CHECK(std::vector<double>(p.messages.cost.begin(), p.messages.cost.end()) ==
        std::vector<double>{0.01, 0.01, 0.005, 0.005, 0.0625});
  CHECK(std::vector<std::int16_t>(p.messages.tier.begin(), p.messages.tier.end()) ==
        std::vector<std::int16_t>{0, 0, 1, 1, -1});
}

TEST_CASE("PMP tier counts start from the messages earlier calls counted") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  const std::int32_t august = 2025 * 12 + 7;
  EventLog log;
  for (int k = 0; k < 2; ++k) log.outbound(h0 + k * kHour, h0 + k * kHour, TemplateCategory::utility);
  Classification r = log.run();
  const std::vector<std::int16_t> user_country{0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const PricingInputs inputs{user_country.data(), nullptr, portfolio.data(), 1};
  // One utility message counted before in this (portfolio, market, group, month): the second here is the third.
  const Prices p = price(log.columns(), inputs, clocks, small_tables(), none, r, 1, {{0, 0, 0, august, 1}});
  CHECK(std::vector<double>(p.messages.cost.begin(), p.messages.cost.end()) == std::vector<double>{0.01, 0.005});
  // Counts of another group, market or month leave this one alone.
  Classification again = log.run();
  const Prices q = price(log.columns(), inputs, clocks, small_tables(), none, again, 1,
                         {{0, 0, 1, august, 9}, {0, 1, 0, august, 9}, {0, 0, 0, august + 1, 9}});
  CHECK(std::vector<double>(q.messages.cost.begin(), q.messages.cost.end()) == std::vector<double>{0.01, 0.01});
}

TEST_CASE("authentication-international after the start, not to the primary country") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  const auto before = log.outbound(h0, h0, TemplateCategory::authentication);
  const auto after = log.outbound(h0 + 2 * kDay, h0 + 2 * kDay, TemplateCategory::authentication);
  Classification r = log.run();
  const std::vector<std::int16_t> user_country{1};
  const std::vector<std::int32_t> portfolio{0, 0};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const AuthInternational eligible{{0}, {h0 + kDay}};
  const Prices p =
      price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, small_tables(), eligible, r);
  CHECK(r.messages.pricing_category[before] == static_cast<std::int8_t>(PricingCategory::authentication));
  CHECK(r.messages.pricing_category[after] == static_cast<std::int8_t>(PricingCategory::authentication_international));
  CHECK(p.messages.cost[before] == Approx(0.0077));
  CHECK(p.messages.cost[after] == Approx(0.0280));
}

TEST_CASE("the pricing pass counts charged units without an exact rate") {
  const Instant h0 = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  log.outbound(h0, h0, TemplateCategory::utility);                    // tiered: exact
  log.outbound(h0 + kHour, h0 + kHour, TemplateCategory::authentication);  // Brazil has no rate: NaN
  log.outbound(h0 + 2 * kHour, h0 + 2 * kHour, TemplateCategory::authentication);
  log.outbound(h0 - 40 * kDay, h0 - 40 * kDay, TemplateCategory::marketing);  // before the card, on its fallback
  log.inbound(h0 + 3 * kHour);                                        // not a charge
  ClassifyOptions pmp;
  pmp.forced_era = Era::pmp_v1;
  Classification r = log.run(pmp);
  PricingTables tables = small_tables();
  tables.card_of = {-1, -1, 0, 0};  // PMP: card 0 also stands in before it took effect
  tables.card_effective = {ZoneCalendar("UTC").start_of_day({2025, 7, 1})};
  const std::vector<std::int16_t> user_country{0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const Prices p = price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, tables, none, r, 2);
  CHECK(p.gaps.unknown_rate == 2);
  CHECK(p.gaps.first_unknown_rate == 1);
  CHECK(p.gaps.first_unknown_card == 0);
  CHECK(p.gaps.before_first_card == 1);
  CHECK(p.gaps.borrowed == 0);
  CHECK(p.gaps.borrowed_from == std::vector<std::int64_t>{0});
  std::vector<std::int64_t> unknown(kPricingCategoryCount * 2, 0);
  unknown[static_cast<std::size_t>(PricingCategory::authentication) * 2 + 0] = 2;  // both in Brazil
  CHECK(p.gaps.unknown_by_category_market == unknown);
}

TEST_CASE("tier tables are dated: the band set in force at each row's delivery") {
  // Period 0 (before 2025-07-01) has no tiers, period 1 the small table: the same four
  // utility messages a month apart in June and August are tiered only in August.
  const Instant june = ZoneCalendar("UTC").start_of_day({2025, 6, 10});
  const Instant august = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  for (int k = 0; k < 3; ++k) log.outbound(june + k * kHour, june + k * kHour, TemplateCategory::utility);
  for (int k = 0; k < 3; ++k) log.outbound(august + k * kHour, august + k * kHour, TemplateCategory::utility);
  ClassifyOptions pmp;
  pmp.forced_era = Era::pmp_v1;
  Classification r = log.run(pmp);
  PricingTables tables = small_tables();
  tables.card_of = {-1, -1, 0, 0};
  tables.band_set_of = {-1, 0};
  const std::vector<std::int16_t> user_country{0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const Prices p = price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, tables, none, r);
  CHECK(std::vector<double>(p.messages.cost.begin(), p.messages.cost.end()) ==
        std::vector<double>{0.0068, 0.0068, 0.0068, 0.01, 0.01, 0.005});
  CHECK(std::vector<std::int16_t>(p.messages.tier.begin(), p.messages.tier.end()) ==
        std::vector<std::int16_t>{-1, -1, -1, 0, 0, 1});
  tables.band_set_of = {-1, 2};
  CHECK_THROWS_WITH(price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, tables, none, r),
                    Catch::Contains("band set"));
}

TEST_CASE("each WABA is priced by the cards of its currency; none in force is reported") {
  // Currency 1 has its own card 1 (Brazil marketing 4.58) from period 1 and no CBP card.
  const Instant june = ZoneCalendar("UTC").start_of_day({2025, 6, 10});
  const Instant august = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  log.zones = {"UTC", "UTC"};
  log.outbound(august, august, TemplateCategory::marketing, /*user=*/0, /*business=*/0);
  log.outbound(august + kHour, august + kHour, TemplateCategory::marketing, /*user=*/1, /*business=*/1);
  log.outbound(june, june, TemplateCategory::marketing, /*user=*/2, /*business=*/1);  // before currency 1's card
  log.waba = {0, 1, 1};
  ClassifyOptions pmp;
  pmp.forced_era = Era::pmp_v1;
  Classification r = log.run(pmp);
  PricingTables t = small_tables();
  t.currency_count = 2;
  t.card_count = 2;
  t.card_of = {-1, -1, -1, 0, -1, -1, -1, 1};  // [(currency * 2 + model) * periods + period]
  t.rate.resize(2 * 2 * 5, std::nan(""));
  t.rate_source.resize(2 * 2 * 5, 1);
  t.rate[t.cell(1, 0, 0)] = 4.5808;
  t.band_set_of = {0, 0, -1, -1};
  const std::vector<std::int16_t> user_country{0, 0, 0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const std::vector<std::int8_t> waba_currency{0, 1};
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC"), AccountClock("UTC")};
  PricingInputs inputs{user_country.data(), nullptr, portfolio.data(), 3, waba_currency.data()};
  const Prices p = price(log.columns(), inputs, clocks, t, none, r);
  CHECK(p.messages.cost[0] == Approx(0.0625));
  CHECK(p.messages.cost[1] == Approx(4.5808));
  CHECK(std::vector<std::int8_t>(p.messages.currency.begin(), p.messages.currency.end()) ==
        std::vector<std::int8_t>{0, 1, -1});
  CHECK(p.gaps.first_without_card == std::vector<std::int64_t>{-1, 2});
  const std::vector<std::int8_t> out_of_range{0, 2};
  inputs.waba_currency = out_of_range.data();
  CHECK_THROWS_WITH(price(log.columns(), inputs, clocks, t, none, r), Catch::Contains("currency"));
}

TEST_CASE("borrowed rates are counted per card in force, market and category") {
  const Instant august = ZoneCalendar("UTC").start_of_day({2025, 8, 4});
  EventLog log;
  log.outbound(august, august, TemplateCategory::marketing);
  log.outbound(august + kHour, august + kHour, TemplateCategory::marketing);
  ClassifyOptions pmp;
  pmp.forced_era = Era::pmp_v1;
  Classification r = log.run(pmp);
  PricingTables t = small_tables();
  t.card_count = 2;
  t.card_of = {-1, -1, 1, 1};  // card 1 in force, its Brazil marketing taken from card 0
  t.rate.resize(2 * 2 * 5, std::nan(""));
  t.rate_source.assign(2 * 2 * 5, 0);
  t.rate[t.cell(1, 0, 0)] = 0.0625;
  const std::vector<std::int16_t> user_country{0};
  const std::vector<std::int32_t> portfolio(log.timestamp.size(), 0);
  const AuthInternational none{{kUnknownCountry}, {kNoInstant}};
  const std::vector<AccountClock> clocks{AccountClock("UTC")};
  const Prices p = price(log.columns(), {user_country.data(), nullptr, portfolio.data(), 1}, clocks, t, none, r);
  CHECK(p.gaps.borrowed == 2);
  std::vector<std::int64_t> expected(2 * 2 * kPricingCategoryCount, 0);
  expected[(1 * 2 + 0) * kPricingCategoryCount + static_cast<std::size_t>(PricingCategory::marketing)] = 2;
  CHECK(p.gaps.borrowed_by_card_cell == expected);
}
