#include <catch2/catch.hpp>

#include <random>

#include "waconv/rules.hpp"
#include "waconv/time.hpp"

using namespace waconv;

TEST_CASE("UTC midnights are whole days since the epoch") {
  const ZoneCalendar utc("UTC");
  CHECK(utc.start_of_day({2022, 2, 1}) == 1'643'673'600LL * kSecond);
  CHECK(utc.month_of(1'643'673'600LL * kSecond) == 2022 * 12 + 1);
  CHECK(utc.month_of(1'643'673'600LL * kSecond - 1) == 2022 * 12 + 0);
}

TEST_CASE("month_of agrees with the month starts at and around every boundary, in any zone") {
  // Every local month start from 1990 to 2110 (including zones 14 hours ahead and 3:30
  // behind), the instant before it, and random instants, against the month's own start.
  std::mt19937_64 rng(7);
  for (const char* zone : {"UTC", "America/Sao_Paulo", "Pacific/Kiritimati", "America/St_Johns", "Asia/Kolkata"}) {
    INFO(zone);
    const ZoneCalendar calendar(zone);
    for (std::int32_t month = 1990 * 12; month < 2110 * 12 + 11; ++month) {
      const Instant start = calendar.month_start(month);
      const Instant next = calendar.month_start(month + 1);
      CHECK(calendar.month_of(start) == month);
      CHECK(calendar.month_of(next - 1) == month);
      const Instant inside = start + static_cast<Instant>(rng() % static_cast<std::uint64_t>(next - start));
      CHECK(calendar.month_of(inside) == month);
    }
    CHECK(calendar.month_of(calendar.month_start(2110 * 12 + 11) + 40 * kDay) == 2110 * 12 + 11);
    CHECK_THROWS_AS(calendar.month_of(calendar.month_start(1990 * 12) - 1), std::out_of_range);
  }
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
