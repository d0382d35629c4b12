#include <catch2/catch.hpp>

#include "waconv/rules.hpp"
#include "waconv/time.hpp"

using namespace waconv;

TEST_CASE("UTC midnights are whole days since the epoch") {
  const ZoneCalendar utc("UTC");
  CHECK(utc.start_of_day({2022, 2, 1}) == 1'643'673'600LL * kSecond);
  CHECK(utc.month_of(1'643'673'600LL * kSecond) == 2022 * 12 + 1);
  CHECK(utc.month_of(1'643'673'600LL * kSecond - 1) == 2022 * 12 + 0);
}

TEST_CASE("Sao Paulo midnight is three hours after UTC's in 2025") {
  const ZoneCalendar sp("America/Sao_Paulo");
  CHECK(sp.start_of_day({2025, 7, 1}) == ZoneCalendar("UTC").start_of_day({2025, 7, 1}) + 3 * kHour);
}

TEST_CASE("a midnight skipped by DST maps to the first instant of the day") {
  // Brazil started DST at 00:00 on 2018-11-04: the local day begins at 01:00 (-02:00) = 03:00 UTC.
  const ZoneCalendar sp("America/Sao_Paulo");
  CHECK(sp.start_of_day({2018, 11, 4}) == ZoneCalendar("UTC").start_of_day({2018, 11, 4}) + 3 * kHour);
}

TEST_CASE("unknown zones are rejected") { CHECK_THROWS_AS(ZoneCalendar("Mars/Olympus"), std::invalid_argument); }

TEST_CASE("eras switch at WABA-local midnight") {
  const AccountClock sp("America/Sao_Paulo");
  const Instant utc_midnight = ZoneCalendar("UTC").start_of_day({2025, 7, 1});
  CHECK(era_at(utc_midnight, sp.dates) == Era::cbp_v2);
  CHECK(era_at(utc_midnight + 3 * kHour - 1, sp.dates) == Era::cbp_v2);
  CHECK(era_at(utc_midnight + 3 * kHour, sp.dates) == Era::pmp_v1);
  CHECK(parse_era("pmp_v2") == Era::pmp_v2);
  CHECK_FALSE(parse_era("nbp").has_value());
}
