// The sim device's CUDA runtime: the subset of the CUDA runtime API that libptk and its tests use,
// implemented on the host (native/sim/src). Error codes, enum values and signatures are those of
// the real runtime, so that native/src compiles unchanged against either. Device memory is host
// memory; streams are in-order queues run at synchronization points; graphs record launches and
// copies with their arguments by value and replay them. See native/sim/README.md.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PTK_SIM 1
#define CUDART_VERSION 13000
#define PTK_SIM_API __attribute__((visibility("default")))

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorStreamCaptureWrongThread = 908,
  cudaErrorUnknown = 999
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2
};

enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxRegistersPerMultiprocessor = 82,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
};

#define cudaStreamDefault 0x0
#define cudaStreamNonBlocking 0x1
#define cudaHostAllocDefault 0x0

typedef struct ptk_sim_stream* cudaStream_t;
typedef struct ptk_sim_event* cudaEvent_t;
typedef struct ptk_sim_graph* cudaGraph_t;
typedef struct ptk_sim_graph_exec* cudaGraphExec_t;
typedef struct ptk_sim_graph_node* cudaGraphNode_t;
typedef void (*cudaHostFn_t)(void* user_data);

// The fields libptk reads, with the real struct's names.
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major;
  int minor;
  int multiProcessorCount;
  int l2CacheSize;
  int memoryBusWidth;
  int maxThreadsPerMultiProcessor;
  size_t sharedMemPerMultiprocessor;
  int regsPerMultiprocessor;
  size_t sharedMemPerBlockOptin;
};

#ifdef __cplusplus
extern "C" {
#endif

PTK_SIM_API const char* cudaGetErrorString(cudaError_t error);
PTK_SIM_API const char* cudaGetErrorName(cudaError_t error);
PTK_SIM_API cudaError_t cudaGetLastError(void);
PTK_SIM_API cudaError_t cudaPeekAtLastError(void);

PTK_SIM_API cudaError_t cudaRuntimeGetVersion(int* version);
PTK_SIM_API cudaError_t cudaDriverGetVersion(int* version);
PTK_SIM_API cudaError_t cudaGetDeviceCount(int* count);
PTK_SIM_API cudaError_t cudaGetDevice(int* device);
PTK_SIM_API cudaError_t cudaSetDevice(int device);
PTK_SIM_API cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device);
PTK_SIM_API cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int device);
PTK_SIM_API cudaError_t cudaDeviceSynchronize(void);
PTK_SIM_API cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);

PTK_SIM_API cudaError_t cudaMalloc(void** ptr, size_t bytes);
PTK_SIM_API cudaError_t cudaFree(void* ptr);
PTK_SIM_API cudaError_t cudaMallocHost(void** ptr, size_t bytes);
PTK_SIM_API cudaError_t cudaFreeHost(void* ptr);
PTK_SIM_API cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, enum cudaMemcpyKind kind);
PTK_SIM_API cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, enum cudaMemcpyKind kind,
                                        cudaStream_t stream);
PTK_SIM_API cudaError_t cudaMemset(void* dst, int value, size_t bytes);
PTK_SIM_API cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream);

PTK_SIM_API cudaError_t cudaStreamCreate(cudaStream_t* stream);
PTK_SIM_API cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
PTK_SIM_API cudaError_t cudaStreamDestroy(cudaStream_t stream);
PTK_SIM_API cudaError_t cudaStreamSynchronize(cudaStream_t stream);
PTK_SIM_API cudaError_t cudaStreamQuery(cudaStream_t stream);
PTK_SIM_API cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data);

PTK_SIM_API cudaError_t cudaEventCreate(cudaEvent_t* event);
PTK_SIM_API cudaError_t cudaEventDestroy(cudaEvent_t event);
PTK_SIM_API cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
PTK_SIM_API cudaError_t cudaEventSynchronize(cudaEvent_t event);
PTK_SIM_API cudaError_t cudaEventQuery(cudaEvent_t event);
PTK_SIM_API cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

PTK_SIM_API cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode);
PTK_SIM_API cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
PTK_SIM_API cudaError_t cudaStreamIsCapturing(cudaStream_t stream, enum cudaStreamCaptureStatus* status);
PTK_SIM_API cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes);
PTK_SIM_API cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags);
PTK_SIM_API cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
PTK_SIM_API cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
PTK_SIM_API cudaError_t cudaGraphDestroy(cudaGraph_t graph);

#ifdef __cplusplus
}  // extern "C"

// cudaFuncSetAttribute takes the kernel itself, as the real runtime's template overload does.
PTK_SIM_API cudaError_t ptk_sim_func_set_attribute(const void* kernel, enum cudaFuncAttribute attr, int value);
template <class Kernel>
inline cudaError_t cudaFuncSetAttribute(Kernel* kernel, enum cudaFuncAttribute attr, int value) {
  return ptk_sim_func_set_attribute(reinterpret_cast<const void*>(kernel), attr, value);
}
#endif
