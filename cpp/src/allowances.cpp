#include "waconv/allowances.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace waconv {
namespace {

bool free_tier_eligible(const ConversationTable& c, std::size_t i, const RuleDates& dates,
                        const AllowanceOptions& options) {
  if (c.pricing_type[i] != static_cast<std::int8_t>(PricingType::regular)) return false;
  const auto era = static_cast<Era>(c.era[i]);
  const auto category = static_cast<PricingCategory>(c.category[i]);
  if (era == Era::cbp_v1) {
    if (category == PricingCategory::user_initiated) return true;
    if (category != PricingCategory::business_initiated) return false;
    // Directly billed accounts lost the free tier for business-initiated conversations
    // on 2023-04-04; partner-served accounts kept it to the end of the era.
    return !options.direct_billing || c.start[i] < dates.business_initiated_free_until;
  }
  return era == Era::cbp_v2 && category == PricingCategory::service && c.start[i] < dates.service_free_from;
}

// Marks the first `allowance` candidates of each (account, month) group, in the order
// `before` gives, by calling mark(candidate). Only groups larger than the allowance need
// an order at all, and then only which candidates come first: most (account, month) groups
// of a real log fit in Meta's 1,000, so this is a bucketing pass, not a sort.
// `used`: units each group already spent in earlier calls, which come before every candidate.
std::uint64_t group_key(std::int32_t account, std::int32_t month) {
  return (std::uint64_t{static_cast<std::uint32_t>(account)} << 32) | static_cast<std::uint32_t>(month);
}

template <class Key, class Before, class Mark>
void grant_in_order(std::vector<Key>& candidates, std::int64_t allowance, const std::vector<UsedAllowance>& used,
                    Before before, Mark mark) {
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    groups[group_key(std::get<0>(candidates[k]), std::get<1>(candidates[k]))].push_back(k);
  }
  std::unordered_map<std::uint64_t, std::int64_t> spent;
  for (const UsedAllowance& u : used) spent[group_key(u.account, u.month)] += u.used;
  const auto by_key = [&](std::size_t a, std::size_t b) { return before(candidates[a], candidates[b]); };
  for (auto& [group, members] : groups) {
    const auto found = spent.find(group);
    const std::int64_t left = found == spent.end() ? allowance : std::max<std::int64_t>(allowance - found->second, 0);
    if (static_cast<std::int64_t>(members.size()) > left) {
      const auto cut = members.begin() + static_cast<std::ptrdiff_t>(left);
      std::nth_element(members.begin(), cut, members.end(), by_key);
      members.erase(cut, members.end());
    }
    for (std::size_t k : members) mark(candidates[k]);
  }
}

// Candidates of one allowance: (account, local month, instant, row, index of the unit).
// Equal instants go by the row's message id, then input order (SPEC §4), as every other
// tie does. Conversation ids would break free-tier ties as well within one call, but a
// cluster numbers them differently (SPEC §9), and the verdicts must not depend on that.
using Candidate = std::tuple<std::int32_t, std::int32_t, Instant, std::size_t, std::size_t>;

auto candidate_order(const EventColumns& e) {
  return [&e](const Candidate& a, const Candidate& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
    if (std::get<2>(a) != std::get<2>(b)) return std::get<2>(a) < std::get<2>(b);
    return tie_before(e, std::get<3>(a), std::get<3>(b));
  };
}

void apply_free_tier(const EventColumns& e, const std::vector<AccountClock>& clocks, const AllowanceOptions& options,
                     Classification& result) {
  ConversationTable& c = result.conversations;
  // (waba, local month, start, opening row, id), gathered per chunk of conversations;
  // their order does not matter, as grant_in_order orders whole keys.
  const std::size_t threads = detail::thread_count(options.threads, c.size());
  std::vector<std::vector<Candidate>> found(threads);
  detail::parallel_chunks(c.size(), threads, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    for (std::size_t i = first; i < last; ++i) {
      const AccountClock& clock = clocks[static_cast<std::size_t>(c.waba[i])];
      if (!free_tier_eligible(c, i, clock.dates, options)) continue;
      found[chunk].emplace_back(c.waba[i], clock.calendar.month_of(c.start[i]), c.start[i],
                                static_cast<std::size_t>(c.opened_by[i]), i);
    }
  });
  std::vector<Candidate> candidates = detail::concatenated(std::move(found));
  if (candidates.empty()) return;
  grant_in_order(candidates, options.free_tier_conversations, options.free_tier_used, candidate_order(e), [&](const Candidate& key) {
    c.pricing_type[std::get<4>(key)] = static_cast<std::int8_t>(PricingType::free_tier);
  });
  MessageVerdicts& m = result.messages;
  const std::int64_t* const conversation = m.conversation_id.data();
  std::int8_t* const type = m.pricing_type.data();
  std::int8_t* const reason = m.charge_reason.data();
  const std::uint8_t* const opens = m.opens_conversation.data();
  const std::int8_t* const conversation_type = c.pricing_type.data();
  const std::size_t rows = m.conversation_id.size();
  constexpr auto kFreeTier = static_cast<std::int8_t>(PricingType::free_tier);
  detail::parallel_chunks(rows, detail::thread_count(options.threads, rows), [&](std::size_t first, std::size_t last) {
    // A select, not a branch: rows with and without a conversation alternate at random. The
    // opening row's reason changes here, in row order, rather than as each conversation is
    // granted: those would be random writes into a column of every row, a miss each.
    for (std::size_t row = first; row < last; ++row) {
      const std::int64_t id = conversation[row];
      const std::int8_t from_conversation = conversation_type[static_cast<std::size_t>(std::max<std::int64_t>(id, 0))];
      type[row] = id >= 0 ? from_conversation : type[row];
      const bool opened_free = id >= 0 && opens[row] != 0 && from_conversation == kFreeTier;
      reason[row] = opened_free ? static_cast<std::int8_t>(ChargeReason::free_tier) : reason[row];
    }
  });
}

void apply_service_allowance(const EventColumns& e, const std::vector<AccountClock>& clocks,
                             const AllowanceOptions& options, Classification& result) {
  MessageVerdicts& m = result.messages;
  // (business, local month, delivered, row, row): the unit is the row itself
  std::vector<Candidate> candidates;
  for (std::size_t row = 0; row < e.size; ++row) {
    if (m.era[row] != static_cast<std::int8_t>(Era::pmp_v2) ||
        m.pricing_category[row] != static_cast<std::int8_t>(PricingCategory::service) ||
        m.pricing_type[row] != static_cast<std::int8_t>(PricingType::regular) || m.conversation_id[row] >= 0) {
      continue;
    }
    const AccountClock& clock = clocks[static_cast<std::size_t>(e.waba[row])];
    const Instant delivered = e.delivered_at[row];
    candidates.emplace_back(e.business[row], clock.calendar.month_of(delivered), delivered, row, row);
  }
  grant_in_order(candidates, options.service_free_allowance, options.service_used, candidate_order(e), [&](const Candidate& key) {
    m.pricing_type[std::get<4>(key)] = static_cast<std::int8_t>(PricingType::free_customer_service);
    m.charge_reason[std::get<4>(key)] = static_cast<std::int8_t>(ChargeReason::service_allowance);
  });
}

}  // namespace

void apply_allowances(const EventColumns& events, const std::vector<AccountClock>& clocks,
                      const AllowanceOptions& options, Classification& result) {
  if (options.free_tier_conversations > 0) apply_free_tier(events, clocks, options, result);
  if (options.service_free_allowance > 0) apply_service_allowance(events, clocks, options, result);
}

}  // namespace waconv
