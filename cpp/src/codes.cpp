#include "waconv/codes.hpp"

#include <array>

namespace waconv {
namespace {
constexpr std::array<std::string_view, 2> kDirection{"inbound", "outbound"};
constexpr std::array<std::string_view, 5> kTemplateCategory{"", "marketing", "utility", "authentication",
                                                             "marketing_lite"};
constexpr std::array<std::string_view, kEraCount> kEra{"cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"};
constexpr std::array<std::string_view, 2> kPricingModel{"CBP", "PMP"};
constexpr std::array<std::string_view, kPricingCategoryCount> kPricingCategory{
    "user_initiated", "business_initiated",           "marketing", "utility",
    "authentication", "authentication_international", "marketing_lite", "service",
    "referral_conversion"};
constexpr std::array<std::string_view, 4> kPricingType{"regular", "free_tier", "free_customer_service",
                                                        "free_entry_point"};
constexpr std::array<std::string_view, 2> kWindowKind{"customer_service", "free_entry_point"};
constexpr std::array<std::string_view, kChargeReasonCount> kChargeReason{
    "inbound",          "duplicate",           "undelivered",      "policy_violation",
    "us_marketing_pause", "opened_conversation", "joined_conversation", "free_tier",
    "free_service",     "customer_service_window", "service_allowance", "free_entry_point",
    "charged_message",  "authentication_international", "no_rate"};
}  // namespace

std::span<const std::string_view> direction_names() { return kDirection; }
std::span<const std::string_view> template_category_names() { return kTemplateCategory; }
std::span<const std::string_view> era_names() { return kEra; }
std::span<const std::string_view> pricing_model_names() { return kPricingModel; }
std::span<const std::string_view> pricing_category_names() { return kPricingCategory; }
std::span<const std::string_view> pricing_type_names() { return kPricingType; }
std::span<const std::string_view> window_kind_names() { return kWindowKind; }
std::span<const std::string_view> charge_reason_names() { return kChargeReason; }

}  // namespace waconv
