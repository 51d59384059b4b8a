// Internal: how host code reports a failure through the C ABI.
#pragma once
#include <new>

#include "ptk/ptk.h"

namespace ptk {

// Records a printf-style message for ptk_last_error() on this thread and returns `status`.
ptk_status fail(ptk_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Clears the thread's message and returns PTK_OK.
ptk_status ok();

// Runs the body of an ABI function that allocates host memory: std::bad_alloc becomes
// PTK_ERR_OUT_OF_MEMORY instead of an exception crossing the C boundary.
template <class F>
ptk_status no_throw(F body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(PTK_ERR_OUT_OF_MEMORY, "out of host memory");
  }
}

}  // namespace ptk

// Argument checks: return from the calling ABI function with PTK_ERR_INVALID_ARGUMENT.
#define PTK_REQUIRE(cond, ...)                                        \
  do {                                                                \
    if (!(cond)) return ::ptk::fail(PTK_ERR_INVALID_ARGUMENT, __VA_ARGS__); \
  } while (0)
#define PTK_REQUIRE_NOT_NULL(ptr) PTK_REQUIRE((ptr) != nullptr, "%s must not be null", #ptr)
