#include "pair_scan.hpp"

#include <algorithm>

namespace waconv::detail {
namespace {

constexpr Instant kConversationLength = kDay;
constexpr Instant kFepEligibility = kDay;
constexpr Instant kFepLength = 3 * kDay;

constexpr std::size_t slot(PricingCategory c) { return static_cast<std::size_t>(c); }

PricingCategory conversation_category(TemplateCategory t) {
  switch (t) {
    case TemplateCategory::marketing: return PricingCategory::marketing;
    case TemplateCategory::utility: return PricingCategory::utility;
    case TemplateCategory::authentication: return PricingCategory::authentication;
    case TemplateCategory::marketing_lite: return PricingCategory::marketing_lite;
    case TemplateCategory::none: break;
  }
  return PricingCategory::service;
}

}  // namespace

PairScanner::PairScanner(const EventColumns& events, const std::vector<AccountClock>& clocks,
                         const ClassifyOptions& options, MessageVerdicts& messages,
                         ConversationTable& conversations, WindowTable& windows)
    : events_(events),
      clocks_(clocks),
      options_(options),
      out_(messages),
      conversations_(conversations),
      windows_(windows) {}

bool PairScanner::csw_open_at(Instant t) const {
  const auto it = std::upper_bound(csw_inbound_.begin(), csw_inbound_.end(), t);
  return it != csw_inbound_.begin() && t < *(it - 1) + kDay;
}

bool PairScanner::inbound_within(Instant after, Instant before) const {
  const auto it = std::upper_bound(csw_inbound_.begin(), csw_inbound_.end(), after);
  return it != csw_inbound_.end() && *it < before;
}

Era PairScanner::era_of(std::uint32_t row, Instant effective) const {
  if (options_.forced_era) return *options_.forced_era;
  return era_at(effective, clocks_[static_cast<std::size_t>(events_.waba[row])].dates);
}

void PairScanner::scan(std::span<const ScanRecord> pair) {
  business_ = events_.business[pair.front().row];
  user_ = events_.user[pair.front().row];
  csw_inbound_.clear();
  referrals_.clear();
  fep_windows_.clear();
  consumed_referral_ = kNoInstant;
  free_entry_point_ = {};
  open_.fill({});

  // The whole CSW timeline first: "was the CSW open at send time" may depend on an inbound
  // row processed after the send (it arrived while the message was in flight).
  for (const ScanRecord& r : pair) {
    if (events_.is_inbound(r.row) && events_.refreshes(r.row)) csw_inbound_.push_back(r.effective_time());
  }

  for (const ScanRecord& r : pair) {
    const Instant effective = r.effective_time();
    const Era era = era_of(r.row, effective);
    out_.era[r.row] = static_cast<std::int8_t>(era);
    out_.pricing_model[r.row] = static_cast<std::int8_t>(model_of(era));
    if (events_.is_inbound(r.row)) {
      on_inbound(r.row, effective);
    } else {
      on_outbound(r.row, effective, era);
    }
  }
  emit_windows();
}

void PairScanner::on_inbound(std::uint32_t row, Instant effective) {
  out_.csw_open[row] = csw_open_at(effective);
  // A click-to-WhatsApp entry while a free entry point window is open changes nothing.
  if (events_.is_referral(row) && !free_entry_point_.open_at(effective)) referrals_.push_back(effective);
}

void PairScanner::on_outbound(std::uint32_t row, Instant effective, Era era) {
  const Instant sent = events_.timestamp[row];
  const auto category = static_cast<TemplateCategory>(events_.template_category[row]);
  const bool free_form = category == TemplateCategory::none;
  const bool csw_at_send = csw_open_at(sent);
  out_.csw_open[row] = csw_open_at(effective);
  if (free_form && !csw_at_send) out_.policy_violation[row] = 1;  // Meta rejects these (131047)

  if (!events_.is_delivered(row)) {
    on_undelivered(row, sent, era, free_form, csw_at_send);
    return;
  }
  if (marketing_paused(row, effective, category)) {
    out_.us_marketing_paused[row] = 1;  // Meta does not deliver these, whatever the log says
    return;
  }
  if (free_entry_point_.open_at(effective)) {
    join(row, free_entry_point_.id);
    return;
  }
  if (try_open_free_entry_point(row, sent, effective, era)) return;

  switch (era) {
    case Era::cbp_v1: classify_cbp_v1(row, sent, effective, csw_at_send); break;
    case Era::cbp_v2: classify_cbp_v2(row, sent, effective, category); break;
    case Era::pmp_v1:
    case Era::pmp_v2: classify_pmp(row, effective, era, category); break;
  }
}

void PairScanner::on_undelivered(std::uint32_t row, Instant sent, Era era, bool free_form, bool csw_at_send) {
  // 360dialog's 2022 rule (off by default): a failed free-form message outside the CSW
  // still opens a business-initiated conversation if the user answers within 24 h.
  if (!options_.failed_freeform_opens_conversation || era != Era::cbp_v1 || !free_form || csw_at_send) return;
  if (free_entry_point_.open_at(sent) || latest_open_conversation(sent) != nullptr) return;
  if (!inbound_within(sent, sent + kConversationLength)) return;
  open_conversation(row, era, PricingCategory::business_initiated, PricingType::regular, sent,
                    sent + kConversationLength);
}

bool PairScanner::marketing_paused(std::uint32_t row, Instant effective, TemplateCategory category) const {
  if (category != TemplateCategory::marketing && category != TemplateCategory::marketing_lite) return false;
  return events_.is_us_number(row) &&
         effective >= clocks_[static_cast<std::size_t>(events_.waba[row])].dates.us_marketing_pause_from;
}

bool PairScanner::try_open_free_entry_point(std::uint32_t row, Instant sent, Instant effective, Era era) {
  const auto it = std::upper_bound(referrals_.begin(), referrals_.end(), sent);
  if (it == referrals_.begin()) return false;
  const Instant referral = *(it - 1);
  if (sent >= referral + kFepEligibility || referral == consumed_referral_) return false;

  consumed_referral_ = referral;
  const bool pmp = is_pmp(era);
  const Instant start = pmp || options_.anchor_sent ? sent : effective;
  const RuleDates& dates = clocks_[static_cast<std::size_t>(events_.waba[row])].dates;
  const Instant length = era == Era::cbp_v1 && start < dates.fep_72h_from ? kDay : kFepLength;
  if (!pmp) {
    // Under CBP the free entry point is itself a conversation and closes all others.
    for (OpenConversation& c : open_) {
      if (c.id < 0 || c.end <= start) continue;
      c.end = std::max(c.start, start);
      conversations_.end[static_cast<std::size_t>(c.id)] = c.end;
    }
  }
  open_conversation(row, era, PricingCategory::referral_conversion, PricingType::free_entry_point, start,
                    start + length);
  free_entry_point_ = {out_.conversation_id[row], start, start + length};
  fep_windows_.emplace_back(start, start + length);
  return true;
}

void PairScanner::classify_cbp_v1(std::uint32_t row, Instant sent, Instant effective, bool csw_at_send) {
  if (const OpenConversation* open = latest_open_conversation(effective)) {
    join(row, open->id);
    return;
  }
  // The type is decided by the CSW at send time, the start by delivery (SPEC §4).
  const auto category = csw_at_send ? PricingCategory::user_initiated : PricingCategory::business_initiated;
  const Instant start = options_.anchor_sent ? sent : effective;
  open_conversation(row, Era::cbp_v1, category, PricingType::regular, start, start + kConversationLength);
}

void PairScanner::classify_cbp_v2(std::uint32_t row, Instant sent, Instant effective, TemplateCategory category) {
  const RuleDates& dates = clocks_[static_cast<std::size_t>(events_.waba[row])].dates;
  if (category == TemplateCategory::marketing_lite && effective < dates.marketing_lite_from) {
    category = TemplateCategory::marketing;  // no separate MM Lite category before 2024-10-15
  }
  const Instant start = options_.anchor_sent ? sent : effective;
  if (category != TemplateCategory::none) {
    const PricingCategory wanted = conversation_category(category);
    const OpenConversation& same = open_[slot(wanted)];
    if (same.open_at(effective)) {
      join(row, same.id);
    } else {
      open_conversation(row, Era::cbp_v2, wanted, PricingType::regular, start, start + kConversationLength);
    }
    return;
  }
  const OpenConversation& service = open_[slot(PricingCategory::service)];
  if (service.open_at(effective)) {
    join(row, service.id);
  } else if (const OpenConversation* open = latest_open_conversation(effective)) {
    join(row, open->id);
  } else {
    const PricingType type = start >= dates.service_free_from ? PricingType::free_customer_service
                                                              : PricingType::regular;
    open_conversation(row, Era::cbp_v2, PricingCategory::service, type, start, start + kConversationLength);
  }
}

void PairScanner::classify_pmp(std::uint32_t row, Instant effective, Era era, TemplateCategory category) {
  // 2025-07-01 transition: an open CBP utility conversation keeps absorbing utility templates.
  const OpenConversation& utility = open_[slot(PricingCategory::utility)];
  if (category == TemplateCategory::utility && utility.open_at(effective)) {
    join(row, utility.id);
    out_.pricing_model[row] = static_cast<std::int8_t>(PricingModel::cbp);
    return;
  }
  PricingType type = PricingType::regular;
  if (era == Era::pmp_v1) {
    if (category == TemplateCategory::none ||
        (category == TemplateCategory::utility && csw_open_at(effective))) {
      type = PricingType::free_customer_service;
    }
  }
  out_.pricing_category[row] = static_cast<std::int8_t>(conversation_category(category));
  out_.pricing_type[row] = static_cast<std::int8_t>(type);
}

void PairScanner::open_conversation(std::uint32_t row, Era era, PricingCategory category, PricingType type,
                                    Instant start, Instant end) {
  const std::int64_t id =
      conversations_.add(business_, user_, events_.waba[row], era, category, type, start, end, row);
  out_.conversation_id[row] = id;
  out_.pricing_category[row] = static_cast<std::int8_t>(category);
  out_.pricing_type[row] = static_cast<std::int8_t>(type);
  out_.opens_conversation[row] = 1;
  if (category != PricingCategory::referral_conversion) open_[slot(category)] = {id, start, end};
}

void PairScanner::join(std::uint32_t row, std::int64_t id) {
  const auto i = static_cast<std::size_t>(id);
  out_.conversation_id[row] = id;
  out_.pricing_category[row] = conversations_.category[i];
  out_.pricing_type[row] = conversations_.pricing_type[i];
  ++conversations_.n_messages[i];
}

const PairScanner::OpenConversation* PairScanner::latest_open_conversation(Instant t) const {
  const OpenConversation* best = nullptr;
  for (const OpenConversation& c : open_) {
    if (!c.open_at(t)) continue;
    if (best == nullptr || c.start > best->start || (c.start == best->start && c.id > best->id)) best = &c;
  }
  return best;
}

void PairScanner::emit_windows() {
  // Customer service windows: maximal unions of [t, t + 24 h).
  for (std::size_t i = 0; i < csw_inbound_.size();) {
    const Instant start = csw_inbound_[i];
    Instant end = start + kDay;
    for (++i; i < csw_inbound_.size() && csw_inbound_[i] <= end; ++i) end = csw_inbound_[i] + kDay;
    windows_.add(WindowKind::customer_service, business_, user_, start, end);
  }
  std::sort(fep_windows_.begin(), fep_windows_.end());
  for (const auto& [start, end] : fep_windows_) {
    windows_.add(WindowKind::free_entry_point, business_, user_, start, end);
  }
}

}  // namespace waconv::detail
