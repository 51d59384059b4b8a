#include <cstdarg>
#include <cstdio>

#include "error.h"
#include "ptk/version.h"

namespace {
thread_local char last_error[1024];
}

namespace ptk {

ptk_status fail(ptk_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return status;
}

ptk_status ok() {
  last_error[0] = '\0';
  return PTK_OK;
}

}  // namespace ptk

extern "C" {

const char* ptk_version(void) { return PTK_VERSION_STRING; }

int ptk_built_with_cuda(void) {
#ifdef PTK_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

const char* ptk_status_string(ptk_status status) {
  switch (status) {
    case PTK_OK: return "ok";
    case PTK_ERR_INVALID_ARGUMENT: return "invalid argument";
    case PTK_ERR_NO_CUDA: return "built without CUDA";
    case PTK_ERR_NO_DEVICE: return "no CUDA device";
    case PTK_ERR_CUDA: return "CUDA error";
    case PTK_ERR_OUT_OF_MEMORY: return "out of device memory";
    case PTK_ERR_UNSUPPORTED: return "unsupported";
  }
  return "unknown status";
}

const char* ptk_last_error(void) { return last_error; }

}  // extern "C"
