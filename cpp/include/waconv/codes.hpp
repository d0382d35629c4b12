// Small integer codes for every categorical value that crosses the Python/C++ boundary.
// The name tables here are the single source of truth: the bindings export them and the
// Python layer builds its categoricals from them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace waconv {

// -1 marks a null in every code column (pandas Categorical.from_codes uses the same).
inline constexpr std::int8_t kNullCode = -1;

enum class Direction : std::int8_t { inbound = 0, outbound = 1 };

enum class TemplateCategory : std::int8_t {
  none = 0,  // free-form (non-template) message
  marketing,
  utility,
  authentication,
  marketing_lite,
};

enum class Era : std::int8_t { cbp_v1 = 0, cbp_v2, pmp_v1, pmp_v2 };
inline constexpr int kEraCount = 4;

enum class PricingModel : std::int8_t { cbp = 0, pmp };

enum class PricingCategory : std::int8_t {
  user_initiated = 0,
  business_initiated,
  marketing,
  utility,
  authentication,
  authentication_international,
  marketing_lite,
  service,
  referral_conversion,
};
inline constexpr int kPricingCategoryCount = 9;

enum class PricingType : std::int8_t {
  regular = 0,
  free_tier,
  free_customer_service,
  free_entry_point,
};

enum class WindowKind : std::int8_t { customer_service = 0, free_entry_point };

// Why a row costs what it costs (SPEC §5), decided where the rules decide the row's verdict:
// the pair scan, the monthly allowances, and (for the two that depend on the rate cards)
// the Python layer where each row's cost is assembled. docs/rules.md explains each value.
enum class ChargeReason : std::int8_t {
  inbound = 0,
  duplicate,
  undelivered,
  policy_violation,  // undelivered free-form sent outside the CSW: Meta rejects it (131047)
  us_marketing_pause,
  opened_conversation,
  joined_conversation,
  free_tier,
  free_service,             // service free in the row's era (cbp_v2 from 2024-11-01, pmp_v1)
  customer_service_window,  // pmp_v1 utility template inside the CSW
  service_allowance,
  free_entry_point,
  charged_message,
  authentication_international,  // set after pricing (engine/tables.py)
  no_rate,                       // set after pricing (engine/tables.py)
};
inline constexpr int kChargeReasonCount = 15;

// Names, indexed by code.
std::span<const std::string_view> direction_names();
std::span<const std::string_view> template_category_names();
std::span<const std::string_view> era_names();
std::span<const std::string_view> pricing_model_names();
std::span<const std::string_view> pricing_category_names();
std::span<const std::string_view> pricing_type_names();
std::span<const std::string_view> window_kind_names();
std::span<const std::string_view> charge_reason_names();

constexpr bool is_pmp(Era era) { return era == Era::pmp_v1 || era == Era::pmp_v2; }
constexpr PricingModel model_of(Era era) { return is_pmp(era) ? PricingModel::pmp : PricingModel::cbp; }

}  // namespace waconv
