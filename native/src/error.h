// Internal: how host code reports a failure through the C ABI.
#pragma once
#include "ptk/ptk.h"

namespace ptk {

// Records a printf-style message for ptk_last_error() on this thread and returns `status`.
ptk_status fail(ptk_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Clears the thread's message and returns PTK_OK.
ptk_status ok();

}  // namespace ptk

// Argument checks: return from the calling ABI function with PTK_ERR_INVALID_ARGUMENT.
#define PTK_REQUIRE(cond, ...)                                        \
  do {                                                                \
    if (!(cond)) return ::ptk::fail(PTK_ERR_INVALID_ARGUMENT, __VA_ARGS__); \
  } while (0)
#define PTK_REQUIRE_NOT_NULL(ptr) PTK_REQUIRE((ptr) != nullptr, "%s must not be null", #ptr)
