#include "pair_scan.hpp"

#include <algorithm>

namespace waconv::detail {
namespace {

constexpr Instant kConversationLength = kDay;
constexpr Instant kFepEligibility = kDay;
constexpr Instant kFepLength = 3 * kDay;

constexpr std::size_t slot(PricingCategory c) { return static_cast<std::size_t>(c); }
constexpr std::int8_t code(PricingCategory c) { return static_cast<std::int8_t>(c); }
constexpr std::int8_t code(PricingType t) { return static_cast<std::int8_t>(t); }

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

PairScanner::PairScanner(const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
                         ShardTables& tables)
    : clocks_(clocks), options_(options), conversations_(tables.conversations), windows_(tables.windows) {}

bool PairScanner::csw_open_at(Instant t) const {
  // Rows arrive in time order, so the latest inbound row at or before t is almost always
  // the last one seen: walk back from there instead of searching.
  std::size_t k = csw_seen_;
  while (k > 0 && csw_inbound_[k - 1] > t) --k;
  return k > 0 && t < csw_inbound_[k - 1] + kDay;
}

bool PairScanner::inbound_within(Instant after, Instant before) const {
  const auto it = std::upper_bound(csw_inbound_.begin(), csw_inbound_.end(), after);
  return it != csw_inbound_.end() && *it < before;
}

void PairScanner::scan(std::int32_t user, std::span<const ScanRecord> pair, std::span<Verdict> verdicts) {
  business_ = pair.front().business;
  user_ = user;
  pair_ = pair;
  csw_inbound_.clear();
  csw_seen_ = 0;
  first_conversation_ = conversations_.size();
  free_entry_point_ = {};
  open_.fill({});

  // The whole CSW timeline first: "was the CSW open at send time" may depend on an inbound
  // row processed after the send (it arrived while the message was in flight).
  bool referral = false;
  for (const ScanRecord& r : pair) {
    if (r.inbound() && r.has(ScanRecord::kRefreshesCsw)) csw_inbound_.push_back(r.effective_time());
    referral |= r.inbound() && r.has(ScanRecord::kReferral);
  }
  fep_windows_.clear();
  fep_of_.clear();
  if (referral) plan_free_entry_points(pair);  // most pairs never came from an ad

  for (std::size_t i = 0; i < pair.size(); ++i) {
    const ScanRecord& r = pair[i];
    Verdict& v = verdicts[i];
    while (csw_seen_ < csw_inbound_.size() && csw_inbound_[csw_seen_] <= r.effective_time()) ++csw_seen_;
    const Era era = era_of(r);
    v.set_era(era);
    if (model_of(era) == PricingModel::pmp) v.flags |= Verdict::kPmpModel;
    if (r.inbound()) {
      on_inbound(r, v);
    } else {
      on_outbound(r, i, v, era);
    }
  }
  emit_windows();
}

// Free entry points depend only on referrals and on the delivered replies, never on
// conversations, so they are planned before the scan, in their own order: referrals at
// their time, replies at their "FEP time" (PMP: sent, since Meta opens the window "from the
// time when you responded" and frees messages "sent within" it; CBP: delivered), then scan
// order (which puts a referral first at equal times: no reply is delivered before it was
// sent). The delivery order of the scan could not find the first reply sent when a later
// one was delivered first.
void PairScanner::plan_free_entry_points(std::span<const ScanRecord> pair) {
  fep_of_.assign(pair.size(), kNoWindow);
  fep_events_.clear();
  for (std::size_t i = 0; i < pair.size(); ++i) {
    const ScanRecord& r = pair[i];
    const auto position = static_cast<std::uint32_t>(i);
    if (r.inbound()) {
      if (r.has(ScanRecord::kReferral)) fep_events_.emplace_back(r.effective_time(), position);
    } else if (r.has(ScanRecord::kDelivered) && !marketing_paused(r)) {
      const Instant fep_time = is_pmp(era_of(r)) ? r.sent : r.effective_time();
      fep_events_.emplace_back(fep_time, position);
    }
  }
  if (!std::is_sorted(fep_events_.begin(), fep_events_.end())) std::sort(fep_events_.begin(), fep_events_.end());

  referrals_.clear();
  for (const auto& [t, position] : fep_events_) {
    const ScanRecord& r = pair[position];
    const bool inside = !fep_windows_.empty() && t < fep_windows_.back().end;
    if (r.inbound()) {
      // A click-to-WhatsApp entry while a free entry point window is open changes nothing.
      if (!inside) referrals_.push_back({t, false});
      continue;
    }
    if (inside) {
      fep_of_[position] = static_cast<std::int32_t>(fep_windows_.size() - 1);
      continue;
    }
    const auto it = std::upper_bound(referrals_.begin(), referrals_.end(), r.sent,
                                     [](Instant sent, const Referral& ref) { return sent < ref.at; });
    if (it == referrals_.begin()) continue;
    Referral& entry = *(it - 1);
    if (r.sent >= entry.at + kFepEligibility || entry.consumed) continue;
    entry.consumed = true;
    const Era era = era_of(r);
    const Instant start = is_pmp(era) || options_.anchor_sent ? r.sent : r.effective_time();
    const Instant length = era == Era::cbp_v1 && start < dates(r).fep_72h_from ? kDay : kFepLength;
    fep_of_[position] = static_cast<std::int32_t>(fep_windows_.size());
    fep_windows_.push_back({start, start + length, position, era});
  }
}

void PairScanner::on_inbound(const ScanRecord& r, Verdict& v) {
  if (csw_open_at(r.effective_time())) v.flags |= Verdict::kCswOpen;
  v.set_reason(ChargeReason::inbound);
}

void PairScanner::on_outbound(const ScanRecord& r, std::size_t position, Verdict& v, Era era) {
  const bool free_form = r.category() == TemplateCategory::none;
  const bool csw_at_send = csw_open_at(r.sent);
  if (csw_open_at(r.effective_time())) v.flags |= Verdict::kCswOpen;
  if (free_form && !csw_at_send) v.flags |= Verdict::kPolicyViolation;  // Meta rejects these (131047)

  if (!r.has(ScanRecord::kDelivered)) {
    on_undelivered(r, v, era, free_form, csw_at_send);
    return;
  }
  if (marketing_paused(r)) {
    v.flags |= Verdict::kUsMarketingPaused;  // Meta does not deliver these, whatever the log says
    v.set_reason(ChargeReason::us_marketing_pause);
    return;
  }
  if (!fep_of_.empty() && fep_of_[position] != kNoWindow) {
    enter_free_entry_point(position, v);
    v.set_reason(ChargeReason::free_entry_point);
    return;
  }

  switch (era) {
    case Era::cbp_v1: classify_cbp_v1(r, v, csw_at_send); break;
    case Era::cbp_v2: classify_cbp_v2(r, v); break;
    case Era::pmp_v1:
    case Era::pmp_v2: classify_pmp(r, v, era); break;
  }
}

void PairScanner::on_undelivered(const ScanRecord& r, Verdict& v, Era era, bool free_form, bool csw_at_send) {
  v.set_reason(free_form && !csw_at_send ? ChargeReason::policy_violation : ChargeReason::undelivered);
  // 360dialog's 2022 rule (off by default): a failed free-form message outside the CSW
  // still opens a business-initiated conversation if the user answers within 24 h.
  if (!options_.failed_freeform_opens_conversation || era != Era::cbp_v1 || !free_form || csw_at_send) return;
  if (free_entry_point_.open_at(r.sent) || latest_open_conversation(r.sent) != nullptr) return;
  if (!inbound_within(r.sent, r.sent + kConversationLength)) return;
  open_conversation(r, v, era, PricingCategory::business_initiated, PricingType::regular, r.sent,
                    r.sent + kConversationLength);
}

bool PairScanner::marketing_paused(const ScanRecord& r) const {
  const TemplateCategory c = r.category();
  if (c != TemplateCategory::marketing && c != TemplateCategory::marketing_lite) return false;
  return r.has(ScanRecord::kUsNumber) && r.effective_time() >= dates(r).us_marketing_pause_from;
}

void PairScanner::enter_free_entry_point(std::size_t position, Verdict& v) {
  FreeEntryPoint& w = fep_windows_[static_cast<std::size_t>(fep_of_[position])];
  if (w.conversation < 0) {
    const ScanRecord& opener = pair_[w.opener];
    w.conversation = static_cast<std::int64_t>(conversations_.size());
    conversations_.push_back({w.start, w.end, business_, user_, opener.waba, opener.row, 0,
                              static_cast<std::int8_t>(w.era), code(PricingCategory::referral_conversion),
                              code(PricingType::free_entry_point)});
    free_entry_point_ = {w.conversation, w.start, w.end};
  }
  if (position == w.opener) {
    v.flags |= Verdict::kOpens;
    if (!is_pmp(w.era)) close_conversations_at(w.start);
  }
  join(v, w.conversation);
}

void PairScanner::close_conversations_at(Instant start) {
  // Under CBP the free entry point is itself a conversation and closes every other one
  // open at its start. With anchor="sent" that start can precede conversations already
  // replaced in their category slot, so walk all of the pair's conversations.
  for (std::size_t id = first_conversation_; id < conversations_.size(); ++id) {
    ConversationRecord& c = conversations_[id];
    if (c.category == code(PricingCategory::referral_conversion)) continue;
    if (c.end > start) c.end = std::max(c.start, start);
  }
  for (OpenConversation& c : open_) {
    if (c.id >= 0) c.end = conversations_[static_cast<std::size_t>(c.id)].end;
  }
}

void PairScanner::classify_cbp_v1(const ScanRecord& r, Verdict& v, bool csw_at_send) {
  if (const OpenConversation* open = latest_open_conversation(r.effective_time())) {
    join(v, open->id);
    return;
  }
  // The type is decided by the CSW at send time, the start by delivery (SPEC §4).
  const auto category = csw_at_send ? PricingCategory::user_initiated : PricingCategory::business_initiated;
  const Instant start = options_.anchor_sent ? r.sent : r.effective_time();
  open_conversation(r, v, Era::cbp_v1, category, PricingType::regular, start, start + kConversationLength);
}

void PairScanner::classify_cbp_v2(const ScanRecord& r, Verdict& v) {
  const Instant t = r.effective_time();
  TemplateCategory category = r.category();
  if (category == TemplateCategory::marketing_lite && t < dates(r).marketing_lite_from) {
    category = TemplateCategory::marketing;  // no separate MM Lite category before 2024-10-15
  }
  const Instant start = options_.anchor_sent ? r.sent : t;
  if (category != TemplateCategory::none) {
    const PricingCategory wanted = conversation_category(category);
    const OpenConversation& same = open_[slot(wanted)];
    if (same.open_at(t)) {
      join(v, same.id);
    } else {
      open_conversation(r, v, Era::cbp_v2, wanted, PricingType::regular, start, start + kConversationLength);
    }
    return;
  }
  const OpenConversation& service = open_[slot(PricingCategory::service)];
  if (service.open_at(t)) {
    join(v, service.id);
  } else if (const OpenConversation* open = latest_open_conversation(t)) {
    join(v, open->id);
  } else {
    const PricingType type =
        start >= dates(r).service_free_from ? PricingType::free_customer_service : PricingType::regular;
    open_conversation(r, v, Era::cbp_v2, PricingCategory::service, type, start, start + kConversationLength);
  }
}

void PairScanner::classify_pmp(const ScanRecord& r, Verdict& v, Era era) {
  const TemplateCategory category = r.category();
  // 2025-07-01 transition: an open CBP utility conversation keeps absorbing utility templates.
  const OpenConversation& utility = open_[slot(PricingCategory::utility)];
  if (category == TemplateCategory::utility && utility.open_at(r.effective_time())) {
    join(v, utility.id);
    v.flags &= static_cast<std::uint8_t>(~Verdict::kPmpModel);
    return;
  }
  PricingType type = PricingType::regular;
  ChargeReason reason = ChargeReason::charged_message;
  if (era == Era::pmp_v1) {
    if (category == TemplateCategory::none) {
      type = PricingType::free_customer_service;
      reason = ChargeReason::free_service;
    } else if (category == TemplateCategory::utility && csw_open_at(r.effective_time())) {
      type = PricingType::free_customer_service;
      reason = ChargeReason::customer_service_window;
    }
  }
  v.pricing_category = code(conversation_category(category));
  v.pricing_type = code(type);
  v.set_reason(reason);
}

std::int64_t PairScanner::open_conversation(const ScanRecord& r, Verdict& v, Era era, PricingCategory category,
                                            PricingType type, Instant start, Instant end) {
  const auto id = static_cast<std::int64_t>(conversations_.size());
  conversations_.push_back({start, end, business_, user_, r.waba, r.row, 1, static_cast<std::int8_t>(era), code(category),
                            code(type)});
  v.conversation = static_cast<std::uint32_t>(id);
  v.pricing_category = code(category);
  v.pricing_type = code(type);
  v.flags |= Verdict::kOpens;
  // Only service conversations open free here (cbp_v2 from 2024-11-01); the free tier
  // comes later, with the whole month (allowances.cpp).
  v.set_reason(type == PricingType::regular ? ChargeReason::opened_conversation : ChargeReason::free_service);
  if (category != PricingCategory::referral_conversion) open_[slot(category)] = {id, start, end};
  return id;
}

void PairScanner::join(Verdict& v, std::int64_t id) {
  const auto i = static_cast<std::size_t>(id);
  v.conversation = static_cast<std::uint32_t>(id);
  ConversationRecord& c = conversations_[i];
  v.pricing_category = c.category;
  v.pricing_type = c.pricing_type;
  v.set_reason(ChargeReason::joined_conversation);
  ++c.n_messages;
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
    windows_.push_back({start, end, business_, user_, static_cast<std::int8_t>(WindowKind::customer_service)});
  }
  std::vector<std::pair<Instant, Instant>>& fep = fep_intervals_;
  fep.clear();
  for (const FreeEntryPoint& w : fep_windows_) fep.emplace_back(w.start, w.end);
  std::sort(fep.begin(), fep.end());
  for (const auto& [start, end] : fep) {
    windows_.push_back({start, end, business_, user_, static_cast<std::int8_t>(WindowKind::free_entry_point)});
  }
}

}  // namespace waconv::detail
