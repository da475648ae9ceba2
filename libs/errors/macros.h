// Early-return helpers for absl::Status / absl::StatusOr.
#ifndef GIFTCARD_LIBS_ERRORS_MACROS_H_
#define GIFTCARD_LIBS_ERRORS_MACROS_H_

#define GIFTCARD_RETURN_IF_ERROR(expr)                    \
  do {                                                    \
    if (::absl::Status _status = (expr); !_status.ok()) { \
      return _status;                                     \
    }                                                     \
  } while (0)

#define GIFTCARD_CONCAT_INNER(a, b) a##b
#define GIFTCARD_CONCAT(a, b) GIFTCARD_CONCAT_INNER(a, b)

// GIFTCARD_ASSIGN_OR_RETURN(auto x, FunctionReturningStatusOr());
#define GIFTCARD_ASSIGN_OR_RETURN(lhs, expr) \
  GIFTCARD_ASSIGN_OR_RETURN_IMPL(GIFTCARD_CONCAT(_status_or_, __LINE__), lhs, expr)
#define GIFTCARD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(*tmp)

#endif  // GIFTCARD_LIBS_ERRORS_MACROS_H_
