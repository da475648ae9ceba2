#include "services/billing/domain/model.h"

namespace giftcard::billing {

const char* ApplicationStateName(ApplicationState state) {
  switch (state) {
    case ApplicationState::kPending:
      return "PENDING";
    case ApplicationState::kApplied:
      return "APPLIED";
    case ApplicationState::kReversalPending:
      return "REVERSAL_PENDING";
    case ApplicationState::kReversed:
      return "REVERSED";
  }
  return "";
}

std::optional<ApplicationState> ApplicationStateFromName(const std::string& name) {
  for (ApplicationState s : {ApplicationState::kPending, ApplicationState::kApplied,
                             ApplicationState::kReversalPending, ApplicationState::kReversed}) {
    if (name == ApplicationStateName(s)) return s;
  }
  return std::nullopt;
}

}  // namespace giftcard::billing
