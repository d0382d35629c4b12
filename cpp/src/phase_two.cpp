#include "waconv/phase_two.hpp"

#include <string>

#include "waconv/codes.hpp"

namespace waconv {
namespace {

[[noreturn]] void reject(const char* column, std::size_t row, const std::string& reason) {
  throw InputError(column, static_cast<std::int64_t>(row), reason);
}

bool in_range(std::int64_t value, std::int64_t size) { return value >= 0 && value < size; }

// Counted from the name tables, so a code added there is accepted here too.
std::int64_t count_of(std::span<const std::string_view> names) { return static_cast<std::int64_t>(names.size()); }

}  // namespace

void check_gathered(const EventColumns& e, const Classification& g) {
  const MessageVerdicts& m = g.messages;
  const ConversationTable& c = g.conversations;
  const auto rows = static_cast<std::int64_t>(e.size);
  const auto conversations = static_cast<std::int64_t>(c.size());
  const std::int64_t eras = count_of(era_names());
  const std::int64_t types = count_of(pricing_type_names());
  const std::int64_t categories = count_of(pricing_category_names());
  const std::int64_t reasons = count_of(charge_reason_names());
  if (m.era.size() != e.size || m.pricing_type.size() != e.size || m.pricing_category.size() != e.size ||
      m.conversation_id.size() != e.size || m.opens_conversation.size() != e.size ||
      m.pricing_model.size() != e.size || m.csw_open.size() != e.size || m.policy_violation.size() != e.size ||
      m.us_marketing_paused.size() != e.size || m.charge_reason.size() != e.size) {
    throw InputError("messages", -1, "the gathered verdicts need one entry per gathered row");
  }
  if (e.business == nullptr || e.waba == nullptr || e.delivered_at == nullptr || e.timestamp == nullptr) {
    throw InputError("events", -1, "business, waba, timestamp and delivered_at are required");
  }
  for (std::size_t row = 0; row < e.size; ++row) {
    if (!in_range(e.waba[row], e.waba_count)) reject("waba", row, "WABA code out of range");
    if (e.business[row] < 0) reject("business", row, "business code out of range");
    if (m.conversation_id[row] < -1 || m.conversation_id[row] >= conversations) {
      reject("conversation_id", row, "not a gathered conversation");
    }
    if (!in_range(m.era[row], eras)) reject("era", row, "unknown era code");
    if (m.pricing_type[row] != kNullCode && !in_range(m.pricing_type[row], types)) {
      reject("pricing_type", row, "unknown pricing type code");
    }
    if (m.pricing_category[row] != kNullCode && !in_range(m.pricing_category[row], categories)) {
      reject("pricing_category", row, "unknown pricing category code");
    }
    if (!in_range(m.charge_reason[row], reasons)) reject("charge_reason", row, "unknown charge reason code");
  }
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!in_range(c.opened_by[i], rows)) reject("opened_by", i, "the opening row was not gathered");
    if (!in_range(c.waba[i], e.waba_count)) reject("waba", i, "conversation WABA code out of range");
    if (!in_range(c.era[i], eras)) reject("era", i, "unknown conversation era code");
    if (!in_range(c.pricing_type[i], types)) reject("pricing_type", i, "unknown pricing type code");
    if (!in_range(c.category[i], categories)) reject("category", i, "unknown category code");
  }
}

}  // namespace waconv
