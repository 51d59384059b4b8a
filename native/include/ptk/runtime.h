/*
 * ptk: the device runtime the Java decoder needs, so that it drives one CUDA runtime through one
 * library: device memory, copies, streams, free memory, CUDA graphs of a stream's work, and timing
 * events. Pointers are device addresses as integers-in-pointers; streams, graphs and events are
 * opaque. Without
 * CUDA in the build every function returns PTK_ERR_NO_CUDA.
 */
#ifndef PTK_RUNTIME_H
#define PTK_RUNTIME_H

#include <stddef.h>

#include "ptk/export.h"
#include "ptk/ptk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes `device` current for this thread. */
PTK_API ptk_status ptk_set_device(int device);

/* Free and total bytes of the current device. */
PTK_API ptk_status ptk_mem_info(size_t* free_bytes, size_t* total_bytes);

/* cudaMalloc of `bytes` (> 0) into *ptr; PTK_ERR_OUT_OF_MEMORY names the size. */
PTK_API ptk_status ptk_malloc(void** ptr, size_t bytes);
/* Frees a ptk_malloc block (null is allowed). */
PTK_API ptk_status ptk_free(void* ptr);

/* Page-locked host memory, for copies that a graph or an async copy may read later. */
PTK_API ptk_status ptk_malloc_host(void** ptr, size_t bytes);
PTK_API ptk_status ptk_free_host(void* ptr);

/* Stream-ordered copies; host memory must stay valid until the stream reaches the copy (pageable
 * memory is staged by CUDA before the call returns). */
PTK_API ptk_status ptk_copy_to_device(void* dst, const void* src, size_t bytes, void* stream);
PTK_API ptk_status ptk_copy_to_host(void* dst, const void* src, size_t bytes, void* stream);
/* Sets `bytes` bytes at dst to zero. */
PTK_API ptk_status ptk_memset_zero(void* dst, size_t bytes, void* stream);

/* A non-blocking stream (*stream), its synchronization, its destruction (null is allowed). */
PTK_API ptk_status ptk_stream_create(void** stream);
PTK_API ptk_status ptk_stream_synchronize(void* stream);
PTK_API ptk_status ptk_stream_destroy(void* stream);

/* Begins capturing `stream`'s work into a graph (nothing runs until the graph is launched). */
PTK_API ptk_status ptk_graph_begin_capture(void* stream);
/* Ends the capture and instantiates it into *graph. */
PTK_API ptk_status ptk_graph_end_capture(void* stream, void** graph);
/* Replays an instantiated graph on `stream`. */
PTK_API ptk_status ptk_graph_launch(void* graph, void* stream);
/* Destroys an instantiated graph (null is allowed). */
PTK_API ptk_status ptk_graph_destroy(void* graph);
/* The nodes (kernel launches, copies, library calls) the capture recorded: what one replay
 * launches. */
PTK_API ptk_status ptk_graph_node_count(const void* graph, int* nodes);

/* Timing events: *event records a point of a stream's work; ptk_event_elapsed_ms waits for `end`
 * and writes the milliseconds between the two recorded points. */
PTK_API ptk_status ptk_event_create(void** event);
PTK_API ptk_status ptk_event_record(void* event, void* stream);
PTK_API ptk_status ptk_event_elapsed_ms(void* start, void* end, float* ms);
PTK_API ptk_status ptk_event_destroy(void* event);

#ifdef __cplusplus
}
#endif

#endif /* PTK_RUNTIME_H */
