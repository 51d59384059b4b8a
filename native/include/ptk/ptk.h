/*
 * ptk: ParaThinker kernels behind a plain C ABI.
 *
 * Error model: every function returns a ptk_status. PTK_OK is 0; on any other value nothing was
 * launched or written, and ptk_last_error() (per thread) says which argument was wrong and why.
 * No function aborts, throws or writes outside the buffers it was given.
 */
#ifndef PTK_PTK_H
#define PTK_PTK_H

#include <stddef.h>
#include <stdint.h>

#include "ptk/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ptk_status {
  PTK_OK = 0,
  PTK_ERR_INVALID_ARGUMENT = 1, /* a null pointer, bad shape, id out of range: see ptk_last_error */
  PTK_ERR_NO_CUDA = 2,          /* the library was built without CUDA */
  PTK_ERR_NO_DEVICE = 3,        /* no usable CUDA device (no GPU, or no driver) */
  PTK_ERR_CUDA = 4,             /* the CUDA runtime reported an error */
  PTK_ERR_OUT_OF_MEMORY = 5,    /* a device allocation failed */
  PTK_ERR_UNSUPPORTED = 6       /* a valid request this build has no kernel for (e.g. head dim) */
} ptk_status;

/* Library version, "MAJOR.MINOR.PATCH". */
PTK_API const char* ptk_version(void);

/* Whether this library was built with its CUDA kernels (1) or host code only (0). */
PTK_API int ptk_built_with_cuda(void);

/* Fixed text for a status code ("invalid argument", ...). Never null. */
PTK_API const char* ptk_status_string(ptk_status status);

/* The message of the last failed call on this thread ("" if none). Valid until the next ptk call
 * on this thread. */
PTK_API const char* ptk_last_error(void);

/* CUDA runtime and driver versions as 1000*major + 10*minor; 0 where unknown (no driver, or a
 * build without CUDA). */
PTK_API ptk_status ptk_cuda_versions(int* runtime_version, int* driver_version);

/* Number of usable CUDA devices. No device or no driver is a normal condition: *count = 0 and
 * PTK_OK. Only an unexpected runtime failure returns an error. */
PTK_API ptk_status ptk_device_count(int* count);

typedef struct ptk_device_info {
  char name[256];
  int compute_major;
  int compute_minor;
  int multiprocessors;
  int max_shared_memory_per_block; /* bytes, opt-in maximum */
  int l2_cache_bytes;
  int memory_bus_width_bits;
  size_t total_memory_bytes;
  size_t free_memory_bytes;
  int simulated; /* 1: the sim device (the kernels run on the host, for validation; timings mean nothing) */
} ptk_device_info;

/* Properties of device `device` (0 <= device < ptk_device_count). */
PTK_API ptk_status ptk_device_get_info(int device, ptk_device_info* info);

#ifdef __cplusplus
}
#endif

#endif /* PTK_PTK_H */

/* The kernel operations live in their own headers, included here so that one include gives the
 * whole ABI. They include this header themselves (for ptk_status), after its guard is set. */
#include "ptk/kv_layout.h"
#include "ptk/rope.h"
#include "ptk/attention.h"
#include "ptk/gemm.h"
#include "ptk/cpu.h"
