// The dated rules of Meta's pricing eras: which era applies at an instant, and the other
// date switches the classifier needs, all at 00:00 in the WABA's time zone.
#pragma once

#include <optional>
#include <string>

#include "waconv/codes.hpp"
#include "waconv/time.hpp"

namespace waconv {

// The switch instants of one WABA (local midnights of SPEC §3 and §4/§6 dates).
struct RuleDates {
  Instant cbp_v1_from;                 // 2022-02-01
  Instant fep_72h_from;                // 2023-03-01: FEP windows 72 h instead of 24 h
  Instant business_initiated_free_until;  // 2023-04-04 (direct billing only)
  Instant us_marketing_pause_from;     // 2025-04-01: marketing templates to US numbers not delivered
  Instant cbp_v2_from;                 // 2023-06-01
  Instant marketing_lite_from;         // 2024-10-15
  Instant service_free_from;           // 2024-11-01: service conversations free, free tier ends
  Instant pmp_v1_from;                 // 2025-07-01
  Instant pmp_v2_from;                 // 2026-10-01

  static RuleDates for_zone(const ZoneCalendar& zone);
};

// Era in force at t (before 2022-02-01: cbp_v1, the caller warns).
inline Era era_at(Instant t, const RuleDates& dates) {
  if (t >= dates.pmp_v2_from) return Era::pmp_v2;
  if (t >= dates.pmp_v1_from) return Era::pmp_v1;
  if (t >= dates.cbp_v2_from) return Era::cbp_v2;
  return Era::cbp_v1;
}

// Per-WABA clock: its calendar and its rule dates.
struct AccountClock {
  ZoneCalendar calendar;
  RuleDates dates;
  explicit AccountClock(const std::string& tz_name)
      : calendar(tz_name), dates(RuleDates::for_zone(calendar)) {}
};

// Parses an era name ("cbp_v1", ...); nullopt for anything else.
std::optional<Era> parse_era(const std::string& name);

}  // namespace waconv
