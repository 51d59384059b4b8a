// The C ABI's error model and device discovery, on any machine (with or without a GPU).
#include <cstring>

#include "check.h"
#include "ptk/ptk.h"
#include "ptk/version.h"

int main() {
  CHECK(std::strcmp(ptk_version(), PTK_VERSION_STRING) == 0);
  CHECK(std::strcmp(ptk_status_string(PTK_OK), "ok") == 0);
  CHECK(std::strcmp(ptk_status_string(PTK_ERR_NO_DEVICE), "no CUDA device") == 0);
  CHECK(std::strcmp(ptk_status_string((ptk_status)999), "unknown status") == 0);

  // A null output pointer is an argument error naming the argument, not a crash.
  CHECK_STATUS(ptk_device_count(nullptr), PTK_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(ptk_last_error(), "count") != nullptr);
  CHECK_STATUS(ptk_device_get_info(0, nullptr), PTK_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(ptk_last_error(), "info") != nullptr);

  int count = -1;
  CHECK_STATUS(ptk_device_count(&count), PTK_OK);
  CHECK(count >= 0);
  CHECK(ptk_last_error()[0] == '\0');
  ptk_device_info info;
  if (count == 0) {
    // No GPU: asking for a device's properties is a clear error, never a crash.
    ptk_status s = ptk_device_get_info(0, &info);
    CHECK(s == PTK_ERR_NO_DEVICE || s == PTK_ERR_NO_CUDA);
    CHECK(ptk_last_error()[0] != '\0');
  } else {
    CHECK_STATUS(ptk_device_get_info(0, &info), PTK_OK);
    CHECK(info.name[0] != '\0');
    CHECK(info.multiprocessors > 0);
    CHECK(info.total_memory_bytes > 0);
    CHECK_STATUS(ptk_device_get_info(count, &info), PTK_ERR_INVALID_ARGUMENT);
  }
  int runtime = -1, driver = -1;
  CHECK_STATUS(ptk_cuda_versions(&runtime, &driver), PTK_OK);
  CHECK(ptk_built_with_cuda() ? runtime >= 12000 : runtime == 0);
  std::printf("ptk %s, built with CUDA: %d, runtime %d, driver %d, devices %d\n", ptk_version(),
              ptk_built_with_cuda(), runtime, driver, count);
  return ptk_test_result("test_abi");
}
