/* Links libptk through its CMake package and prints what it sees. Exit 0 with or without a GPU. */
#include <stdio.h>

#include "ptk/ptk.h"

int main(void) {
  int count = 0, runtime = 0, driver = 0;
  if (ptk_device_count(&count) != PTK_OK || ptk_cuda_versions(&runtime, &driver) != PTK_OK) {
    fprintf(stderr, "ptk: %s\n", ptk_last_error());
    return 1;
  }
  printf("ptk %s (CUDA kernels: %s), CUDA runtime %d, driver %d\n", ptk_version(),
         ptk_built_with_cuda() ? "yes" : "no", runtime, driver);
  if (count == 0) {
    printf("no CUDA device\n");
    return 0;
  }
  for (int d = 0; d < count; ++d) {
    ptk_device_info info;
    if (ptk_device_get_info(d, &info) != PTK_OK) {
      fprintf(stderr, "ptk: %s\n", ptk_last_error());
      return 1;
    }
    printf("device %d: %s, sm_%d%d, %d SMs, %.1f GiB\n", d, info.name, info.compute_major,
           info.compute_minor, info.multiprocessors, info.total_memory_bytes / 1073741824.0);
  }
  return 0;
}
