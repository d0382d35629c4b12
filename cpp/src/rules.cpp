#include "waconv/rules.hpp"

namespace waconv {

RuleDates RuleDates::for_zone(const ZoneCalendar& zone) {
  return RuleDates{
      .cbp_v1_from = zone.start_of_day({2022, 2, 1}),
      .fep_72h_from = zone.start_of_day({2023, 3, 1}),
      .business_initiated_free_until = zone.start_of_day({2023, 4, 4}),
      .us_marketing_pause_from = zone.start_of_day({2025, 4, 1}),
      .cbp_v2_from = zone.start_of_day({2023, 6, 1}),
      .marketing_lite_from = zone.start_of_day({2024, 10, 15}),
      .service_free_from = zone.start_of_day({2024, 11, 1}),
      .pmp_v1_from = zone.start_of_day({2025, 7, 1}),
      .pmp_v2_from = zone.start_of_day({2026, 10, 1}),
  };
}

std::optional<Era> parse_era(const std::string& name) {
  const auto names = era_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Era>(i);
  }
  return std::nullopt;
}

}  // namespace waconv
