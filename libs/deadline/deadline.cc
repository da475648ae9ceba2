#include "deadline/deadline.h"

#include <algorithm>

namespace giftcard::deadline {
namespace {
thread_local absl::Time current = absl::InfiniteFuture();
}  // namespace

absl::Time Current() { return current; }

Scope::Scope(absl::Time deadline) : previous_(current) { current = std::min(current, deadline); }

Scope::~Scope() { current = previous_; }

OverrideScope::OverrideScope(absl::Time deadline) : previous_(current) { current = deadline; }

OverrideScope::~OverrideScope() { current = previous_; }

}  // namespace giftcard::deadline
