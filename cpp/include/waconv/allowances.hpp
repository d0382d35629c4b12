// Phase 2, first step: the monthly free allowances Meta counts per account, which need all
// conversations of a WABA (free tier) or all messages of a phone number (service
// allowance) for a month, not just one pair. They turn `regular` units into free ones.
#pragma once

#include <cstdint>
#include <vector>

#include "waconv/classify.hpp"

namespace waconv {

// Units of an allowance an earlier call already counted, for one (account, local month):
// carried state (SPEC §9) hands over the counts of rows it no longer replays. `month` is
// ZoneCalendar::month_of's index (year * 12 + month - 1), the same in every call; `account` is this call's code.
struct UsedAllowance {
  std::int32_t account = 0;
  std::int32_t month = 0;
  std::int64_t used = 0;
};

struct AllowanceOptions {
  std::int64_t free_tier_conversations = 1000;  // per WABA per local month (CBP)
  bool direct_billing = false;                  // business-initiated leave the free tier 2023-04-04
  std::int64_t service_free_allowance = 1000;   // pmp_v2 service messages per phone per month
  int threads = 0;                              // 0 = hardware concurrency
  std::vector<UsedAllowance> free_tier_used;    // per WABA and month, units already granted
  std::vector<UsedAllowance> service_used;      // per business phone and month, likewise
};

void apply_allowances(const EventColumns& events, const std::vector<AccountClock>& clocks,
                      const AllowanceOptions& options, Classification& result);

}  // namespace waconv
