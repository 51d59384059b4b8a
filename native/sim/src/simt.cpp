// The SIMT runtime of the sim device: runs one launch's blocks one at a time, in a seeded random
// order, and every thread of a block as its own fiber. Threads run in a seeded random order
// between rendezvous points (__syncthreads, __syncwarp, every shuffle), which are real barriers:
// a thread waits there until its partners arrive, and a barrier that can never complete is
// reported as a fault, not passed. Shared memory is per block and poisoned (0xFF: NaN as f32 and
// bf16) at block start; cp.async copies land at their wait, or at random rendezvous before it.
#include "simt.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define PTK_SIM_ASAN 1
#endif

namespace ptk_sim {

PTK_SIM_API thread_local const Coords* current_coords = nullptr;

namespace {

#if !defined(__x86_64__)
#error "the sim device's fibers switch with x86-64 code; port ptk_sim_switch to this architecture"
#endif

// Saves the callee-saved registers and the FP control words on the current stack, stores the stack
// pointer in *save, and resumes the context whose stack pointer is `next`.
extern "C" void ptk_sim_switch(void** save, void* next);
extern "C" void ptk_sim_trampoline();
asm(R"(
.text
.globl ptk_sim_switch
.hidden ptk_sim_switch
.type ptk_sim_switch,@function
ptk_sim_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size ptk_sim_switch,.-ptk_sim_switch
.globl ptk_sim_trampoline
.hidden ptk_sim_trampoline
.type ptk_sim_trampoline,@function
ptk_sim_trampoline:
  andq $-16, %rsp
  call ptk_sim_fiber_main
  ud2
.size ptk_sim_trampoline,.-ptk_sim_trampoline
)");

#if defined(PTK_SIM_ASAN)
constexpr size_t kStackBytes = 512 << 10;
#else
constexpr size_t kStackBytes = 128 << 10;
#endif
constexpr size_t kStaticSharedCapacity = 48 << 10;  // static __shared__ limit of every CUDA device
constexpr size_t kRedzone = 64;
constexpr unsigned char kPoison = 0xFF;   // NaN in f32 and bf16, -1 in integers
constexpr unsigned char kCanary = 0xA5;   // redzones, checked after each block

enum class Wait { kNone, kBarrier, kWarp, kDone };

struct PendingCopy {
  unsigned char* dst;
  unsigned char data[16];
  uint64_t group;  // 0 until committed
};

struct Fiber {
  void* sp = nullptr;
  char* stack = nullptr;  // usable [stack, stack + kStackBytes), a guard page below
  Coords coords;
  int tid = 0;
  Wait wait = Wait::kNone;
  void* fake_stack = nullptr;
  std::vector<PendingCopy> copies;
  uint64_t committed = 0;
  bool fenced = false;  // __threadfence since the block's last atomic
};

struct WarpOp {
  const char* what = nullptr;  // null: nothing pending
  unsigned mask = 0, arrived = 0;
  Shuffle kind = Shuffle::kIdx;
  int width = 32;
  uint64_t values[32];
  int params[32];
  uint64_t results[32];
  // A collective that computes on every lane's operands at once (mma): each lane's pointer, and
  // what combines them when the last lane arrives; null for shuffles and __syncwarp.
  void* lane_data[32];
  void (*combine)(void* const* lane_data) = nullptr;
};

struct StaticAlloc {
  const void* site;
  size_t offset;
  size_t bytes;
};

// Everything about the block now running; one block runs at a time per host thread.
struct Block {
  const LaunchConfig* config = nullptr;
  const std::function<void()>* body = nullptr;
  std::vector<Fiber*> threads;
  std::vector<Fiber*> runnable;
  int live = 0;
  int at_barrier = 0;
  std::vector<WarpOp> warps;
  unsigned char* arena = nullptr;  // [static area | redzone | dynamic | redzone]
  size_t dynamic_at = 0, arena_bytes = 0;
  size_t static_used = 0;
  std::vector<StaticAlloc> statics;
  Rng* rng = nullptr;
  std::string fault;
  Fiber* running = nullptr;
};

thread_local Block* g_block = nullptr;
thread_local void* g_scheduler_sp = nullptr;
#if defined(PTK_SIM_ASAN)
thread_local void* g_scheduler_fake_stack = nullptr;
thread_local const void* g_scheduler_stack_bottom = nullptr;
thread_local size_t g_scheduler_stack_size = 0;
#endif

void asan_poison(const void* p, size_t n) {
#if defined(PTK_SIM_ASAN)
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}
void asan_unpoison(const void* p, size_t n) {
#if defined(PTK_SIM_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

// Stacks are kept for the process: blocks of up to 1024 threads reuse them launch after launch.
class StackPool {
 public:
  char* get(size_t i) {
    while (stacks_.size() <= i) {
      const size_t page = size_t(sysconf(_SC_PAGESIZE));
      void* m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
      if (m == MAP_FAILED) {
        std::fprintf(stderr, "ptk sim: cannot map a fiber stack\n");
        std::abort();
      }
      mprotect(m, page, PROT_NONE);  // overflow faults instead of corrupting a neighbour
      stacks_.push_back(static_cast<char*>(m) + page);
      dirty_.push_back(false);
    }
    return stacks_[i];
  }
  // Whether stack i may hold the poisoned frames of a thread that did not return (a fault): only
  // then must the next thread's start unpoison it, which costs a pass over 128 KiB of shadow.
  // A thread that returns has unpoisoned its own frames on the way out.
  bool dirty(size_t i) const { return dirty_[i]; }
  void set_dirty(size_t i, bool dirty) { dirty_[i] = dirty; }

 private:
  std::vector<char*> stacks_;
  std::vector<bool> dirty_;
};

StackPool& stacks() {
  static StackPool pool;
  return pool;
}

std::string thread_name(const Fiber* f) {
  const Coords& c = f->coords;
  char buf[128];
  std::snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", c.block.x, c.block.y, c.block.z, c.thread.x,
                c.thread.y, c.thread.z);
  return buf;
}

std::string lanes_text(unsigned mask) {
  std::string s;
  for (int l = 0; l < 32; ++l) {
    if (!(mask >> l & 1u)) continue;
    int e = l;
    while (e + 1 < 32 && (mask >> (e + 1) & 1u)) ++e;
    if (!s.empty()) s += ",";
    s += std::to_string(l);
    if (e > l) s += "-" + std::to_string(e);
    l = e;
  }
  return s.empty() ? "none" : s;
}

// Switches from the running fiber back to the scheduler; `exiting` frees the fiber's fake stack.
void to_scheduler(Fiber* f, bool exiting) {
#if defined(PTK_SIM_ASAN)
  __sanitizer_start_switch_fiber(exiting ? nullptr : &f->fake_stack, g_scheduler_stack_bottom, g_scheduler_stack_size);
#endif
  ptk_sim_switch(&f->sp, g_scheduler_sp);
#if defined(PTK_SIM_ASAN)
  __sanitizer_finish_switch_fiber(f->fake_stack, nullptr, nullptr);
#endif
  (void)exiting;
}

[[noreturn]] void fault_now(const std::string& what) {
  Block& b = *g_block;
  Fiber* f = b.running;
  if (b.fault.empty()) b.fault = std::string(b.config->name) + ": " + thread_name(f) + ": " + what;
  to_scheduler(f, true);
  __builtin_unreachable();
}

void make_runnable(Fiber* f) {
  f->wait = Wait::kNone;
  g_block->runnable.push_back(f);
}

// cp.async copies of `f` in committed groups up to `group` land now.
void land_copies(Fiber* f, uint64_t up_to_group) {
  auto& c = f->copies;
  size_t kept = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i].group != 0 && c[i].group <= up_to_group) {
      std::memcpy(c[i].dst, c[i].data, 16);
    } else {
      c[kept++] = c[i];
    }
  }
  c.resize(kept);
}

// At a rendezvous a copy may already have landed: each committed one does so with probability 1/4.
void land_some_copies(Fiber* f) {
  auto& c = f->copies;
  size_t kept = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i].group != 0 && g_block->rng->next() % 4 == 0) {
      std::memcpy(c[i].dst, c[i].data, 16);
    } else {
      c[kept++] = c[i];
    }
  }
  c.resize(kept);
}

// Leaves the running fiber at its rendezvous (f->wait already set, or cleared by a release that
// happened on arrival) until make_runnable puts it back in the runnable set.
void park(Fiber* f) {
  land_some_copies(f);
  to_scheduler(f, false);
  current_coords = &f->coords;
}

void release_barrier() {
  Block& b = *g_block;
  for (Fiber* t : b.threads)
    if (t->wait == Wait::kBarrier) make_runnable(t);
  b.at_barrier = 0;
}

// The lane whose value `lane` receives; *own when the source falls outside its width segment.
int shuffle_source(const WarpOp& op, int lane, bool* own) {
  const int w = op.width;
  const int base = lane & ~(w - 1);
  int src = lane;
  *own = false;
  switch (op.kind) {
    case Shuffle::kIdx: src = base + (op.params[lane] & (w - 1)); break;
    case Shuffle::kUp: src = lane - op.params[lane]; *own = src < base; break;
    case Shuffle::kDown: src = lane + op.params[lane]; *own = src >= base + w; break;
    case Shuffle::kXor: src = lane ^ op.params[lane]; *own = src >= base + w || src < base; break;
  }
  return src;
}

void complete_warp_op(WarpOp& op, int warp) {
  Block& b = *g_block;
  if (op.combine != nullptr) op.combine(op.lane_data);
  for (int l = 0; l < 32; ++l) {
    if (!(op.mask >> l & 1u)) continue;
    bool own = false;
    const int src = shuffle_source(op, l, &own);
    if (own) {
      op.results[l] = op.values[l];
    } else if (src >= 0 && src < 32 && (op.mask >> src & 1u)) {
      op.results[l] = op.values[src];
    } else {
      op.results[l] = ~uint64_t(0);  // a lane outside the mask: undefined on a GPU, poison here
    }
    make_runnable(b.threads[size_t(warp) * 32 + size_t(l)]);
  }
  op.what = nullptr;
  op.arrived = 0;
  op.combine = nullptr;
}

uint64_t warp_rendezvous(const char* what, unsigned mask, uint64_t value, Shuffle kind, int param, int width,
                         void* lane_data = nullptr, void (*combine)(void* const*) = nullptr) {
  Block& b = *g_block;
  Fiber* f = b.running;
  const int warp = f->tid / 32, lane = f->tid % 32;
  if (!(mask >> lane & 1u)) fault_now(std::string(what) + " with mask 0x" + std::to_string(mask) + " that excludes its own lane");
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) fault_now(std::string(what) + ": width must be a power of two <= 32");
  const unsigned lanes_present = b.threads.size() >= size_t(warp + 1) * 32 ? 0xFFFFFFFFu
                                                                            : (1u << (b.threads.size() % 32)) - 1u;
  if (mask & ~lanes_present) fault_now(std::string(what) + ": mask names lanes the block does not have");
  WarpOp& op = b.warps[size_t(warp)];
  if (op.what == nullptr) {
    op.what = what;
    op.mask = mask;
    op.kind = kind;
    op.width = width;
    op.combine = combine;
  } else if (op.what != what || op.mask != mask || op.width != width || op.kind != kind) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "reached %s (mask 0x%08x) while lanes %s of its warp wait at %s (mask 0x%08x)", what,
                  mask, lanes_text(op.arrived).c_str(), op.what, op.mask);
    fault_now(buf);
  }
  op.values[lane] = value;
  op.params[lane] = param;
  op.lane_data[lane] = lane_data;
  op.arrived |= 1u << lane;
  f->wait = Wait::kWarp;
  if (op.arrived == op.mask) complete_warp_op(op, warp);
  park(f);
  return b.warps[size_t(warp)].results[lane];
}

std::string describe_deadlock() {
  Block& b = *g_block;
  std::string s = "no thread can go on (a barrier that cannot complete):";
  if (b.at_barrier > 0) {
    s += " " + std::to_string(b.at_barrier) + " of " + std::to_string(b.live) + " live threads wait at __syncthreads;";
  }
  for (size_t w = 0; w < b.warps.size(); ++w) {
    const WarpOp& op = b.warps[w];
    if (op.what == nullptr) continue;
    unsigned exited = 0, elsewhere = 0;
    for (int l = 0; l < 32; ++l) {
      if (!(op.mask >> l & 1u) || (op.arrived >> l & 1u)) continue;
      (b.threads[w * 32 + size_t(l)]->wait == Wait::kDone ? exited : elsewhere) |= 1u << l;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, " warp %zu: lanes %s wait at %s (mask 0x%08x), lanes %s exited, lanes %s wait elsewhere;",
                  w, lanes_text(op.arrived).c_str(), op.what, op.mask, lanes_text(exited).c_str(),
                  lanes_text(elsewhere).c_str());
    s += buf;
  }
  return s;
}

void check_canaries() {
  Block& b = *g_block;
  auto intact = [&](size_t at, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (b.arena[at + i] != kCanary) return false;
    return true;
  };
  const size_t dyn_end = b.dynamic_at + b.config->dynamic_smem;
  if (!intact(dyn_end, b.arena_bytes - dyn_end)) {
    b.fault = std::string(b.config->name) + ": block (" + std::to_string(b.threads[0]->coords.block.x) +
              ",...): a write past the end of dynamic shared memory (" + std::to_string(b.config->dynamic_smem) +
              " bytes as launched)";
    return;
  }
  for (size_t i = 0; i < b.statics.size(); ++i) {
    const size_t end = b.statics[i].offset + b.statics[i].bytes;
    const size_t next = i + 1 < b.statics.size() ? b.statics[i + 1].offset : kStaticSharedCapacity;
    if (!intact(end, std::min(next, kStaticSharedCapacity) - end)) {
      b.fault = std::string(b.config->name) + ": a write past the end of a static shared array (" +
                std::to_string(b.statics[i].bytes) + " bytes)";
      return;
    }
  }
}

}  // namespace

extern "C" __attribute__((used)) void ptk_sim_fiber_main() {
  Block& b = *g_block;
  Fiber* f = b.running;
#if defined(PTK_SIM_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, &g_scheduler_stack_bottom, &g_scheduler_stack_size);
#endif
  current_coords = &f->coords;
  (*b.body)();
  for (const PendingCopy& c : f->copies) std::memcpy(c.dst, c.data, 16);  // in flight at exit: they complete
  f->copies.clear();
  f->wait = Wait::kDone;
  --b.live;
  if (b.at_barrier > 0 && b.at_barrier == b.live) {
    fault_now("exited while " + std::to_string(b.at_barrier) +
              " threads of its block wait at __syncthreads (a barrier every thread must reach)");
  }
  stacks().set_dirty(size_t(f->tid), false);  // every frame of the body has returned
  to_scheduler(f, true);
  __builtin_unreachable();
}

namespace {

// Sets up fiber `f` to start in ptk_sim_fiber_main on its own stack.
void prepare(Fiber* f) {
  if (stacks().dirty(size_t(f->tid))) asan_unpoison(f->stack, kStackBytes);  // frames a faulted thread left
  stacks().set_dirty(size_t(f->tid), true);
  auto* top = reinterpret_cast<uint64_t*>(f->stack + kStackBytes);
  *--top = 0;                                              // alignment slot
  *--top = reinterpret_cast<uint64_t>(&ptk_sim_trampoline);  // ptk_sim_switch returns here
  for (int r = 0; r < 6; ++r) *--top = 0;                   // rbp rbx r12 r13 r14 r15
  uint32_t mxcsr = 0;
  uint16_t fpucw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpucw));
  *--top = uint64_t(mxcsr) | (uint64_t(fpucw) << 32);
  f->sp = top;
  f->wait = Wait::kNone;
  f->fake_stack = nullptr;
  f->copies.clear();
  f->fenced = false;
  f->committed = 0;
}

void run_fiber(Fiber* f) {
  g_block->running = f;
  current_coords = &f->coords;
#if defined(PTK_SIM_ASAN)
  __sanitizer_start_switch_fiber(&g_scheduler_fake_stack, f->stack, kStackBytes);
#endif
  ptk_sim_switch(&g_scheduler_sp, f->sp);
#if defined(PTK_SIM_ASAN)
  __sanitizer_finish_switch_fiber(g_scheduler_fake_stack, nullptr, nullptr);
#endif
  current_coords = nullptr;
}

}  // namespace

std::string run_grid(const LaunchConfig& config, const std::function<void()>& body, Rng& rng) {
  const size_t threads = size_t(config.block.x) * config.block.y * config.block.z;
  const size_t blocks = size_t(config.grid.x) * config.grid.y * config.grid.z;
  const size_t dyn = config.dynamic_smem;
  const size_t dynamic_at = kStaticSharedCapacity + kRedzone;
  const size_t arena_bytes = (dynamic_at + dyn + kRedzone + 15) / 16 * 16;
  std::vector<unsigned char> arena_storage(arena_bytes + 128);
  auto* arena = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(arena_storage.data()) + 127) / 128 * 128);

  std::vector<Fiber> fibers(threads);
  Block b;
  b.config = &config;
  b.body = &body;
  b.rng = &rng;
  b.arena = arena;
  b.arena_bytes = arena_bytes;
  b.dynamic_at = dynamic_at;
  b.warps.resize((threads + 31) / 32);
  for (size_t t = 0; t < threads; ++t) {
    fibers[t].stack = stacks().get(t);
    fibers[t].tid = int(t);
    b.threads.push_back(&fibers[t]);
  }

  std::vector<size_t> order(blocks);
  for (size_t i = 0; i < blocks; ++i) order[i] = i;
  for (size_t i = blocks; i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);

  Block* outer = g_block;
  g_block = &b;
  std::string fault;
  for (size_t bi : order) {
    const dim3 bidx(unsigned(bi % config.grid.x), unsigned(bi / config.grid.x % config.grid.y),
                    unsigned(bi / (size_t(config.grid.x) * config.grid.y)));
    // Fresh shared memory: canaries everywhere, poison in the dynamic area; ASan sees only what
    // the block was given.
    asan_unpoison(arena, arena_bytes);
    std::memset(arena, kCanary, arena_bytes);
    std::memset(arena + dynamic_at, kPoison, dyn);
    asan_poison(arena, arena_bytes);
    asan_unpoison(arena + dynamic_at, dyn);
    b.static_used = 0;
    b.statics.clear();
    b.runnable.clear();
    b.at_barrier = 0;
    b.fault.clear();
    for (WarpOp& w : b.warps) w = WarpOp{};
    for (size_t t = 0; t < threads; ++t) {
      Fiber* f = b.threads[t];
      prepare(f);
      f->coords = Coords{dim3(unsigned(t % config.block.x), unsigned(t / config.block.x % config.block.y),
                              unsigned(t / (size_t(config.block.x) * config.block.y))),
                         bidx, config.block, config.grid};
      b.runnable.push_back(f);
    }
    b.live = int(threads);
    while (!b.runnable.empty() && b.fault.empty()) {
      const size_t pick = size_t(rng.next() % b.runnable.size());
      Fiber* f = b.runnable[pick];
      b.runnable[pick] = b.runnable.back();
      b.runnable.pop_back();
      run_fiber(f);
    }
    if (b.fault.empty() && b.live > 0) {
      b.running = b.threads[0];
      b.fault = std::string(config.name) + ": block (" + std::to_string(bidx.x) + "," + std::to_string(bidx.y) + "," +
                std::to_string(bidx.z) + "): " + describe_deadlock();
    }
    asan_unpoison(arena, arena_bytes);
    if (b.fault.empty()) check_canaries();
    if (!b.fault.empty()) {
      fault = b.fault;
      break;
    }
  }
  g_block = outer;
  return fault;
}

void syncthreads() {
  Block& b = *g_block;
  Fiber* f = b.running;
  ++b.at_barrier;
  f->wait = Wait::kBarrier;
  if (b.at_barrier == b.live) release_barrier();
  park(f);
}

void threadfence() { g_block->running->fenced = true; }

int atomic_add(int* address, int value) {
  Block& b = *g_block;
  if (!is_device_range(address, sizeof(int))) fault_now("atomicAdd on an address outside device memory");
  for (Fiber* t : b.threads) {
    if (!t->fenced)
      fault_now("atomicAdd before " + thread_name(t) + " executed __threadfence: the block's global writes may not " +
                "be visible to the block that the atomic hands them to");
  }
  for (Fiber* t : b.threads) t->fenced = false;
  const int old = *address;
  *address = old + value;
  return old;
}

void reduce_add(unsigned long long* address, unsigned long long value) {
  Block& b = *g_block;
  auto* at = reinterpret_cast<unsigned char*>(address);
  const bool shared = at >= b.arena && at + sizeof(*address) <= b.arena + b.arena_bytes;
  if (!shared && !is_device_range(address, sizeof(*address)))
    fault_now("red.add on an address outside shared and device memory");
  if (reinterpret_cast<uintptr_t>(address) % sizeof(*address) != 0) fault_now("red.add.u64 on an address not 8-byte aligned");
  *address += value;
}

void syncwarp(unsigned mask) { warp_rendezvous("__syncwarp", mask, 0, Shuffle::kIdx, 0, 32); }

uint64_t shuffle(unsigned mask, uint64_t value, Shuffle kind, int param, int width) {
  static const char* const names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};
  return warp_rendezvous(names[int(kind)], mask, value, kind, param, width);
}

namespace {

struct MmaLane {
  float* d;
  const uint32_t* a;
  const uint32_t* b;
};

float bf16_value(uint32_t pair, int half) {
  const uint32_t bits = (half == 0 ? pair & 0xFFFFu : pair >> 16) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// The warp's tiles gathered from the lanes' fragments as the PTX ISA lays them out for
// m16n8k16 with bf16 inputs (lane = 4 group + t): A row g (+ 8 for registers 1 and 3), columns
// 2t, 2t + 1 (+ 8 for registers 2 and 3); B column g, rows 2t, 2t + 1 (+ 8 for register 1); C/D
// row g (+ 8 for elements 2 and 3), columns 2t + (element & 1). Then D = C + A B, each element's
// 16 exact products summed in order of k in f32 after C.
void mma_combine(void* const* lane_data) {
  float a[16][16], b[16][8], c[16][8];
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lane_data[l]);
    const int g = l / 4, t = l % 4;
    for (int r = 0; r < 4; ++r) {
      for (int h = 0; h < 2; ++h) a[g + (r % 2) * 8][2 * t + h + (r / 2) * 8] = bf16_value(x.a[r], h);
    }
    for (int r = 0; r < 2; ++r) {
      for (int h = 0; h < 2; ++h) b[2 * t + h + r * 8][g] = bf16_value(x.b[r], h);
    }
    for (int e = 0; e < 4; ++e) c[g + (e / 2) * 8][2 * t + e % 2] = x.d[e];
  }
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lane_data[l]);
    const int g = l / 4, t = l % 4;
    for (int e = 0; e < 4; ++e) {
      const int row = g + (e / 2) * 8, col = 2 * t + e % 2;
      float sum = c[row][col];
      for (int k = 0; k < 16; ++k) sum += a[row][k] * b[k][col];
      x.d[e] = sum;
    }
  }
}

}  // namespace

void mma_m16n8k16_bf16(float* d, const uint32_t* a, const uint32_t* b) {
  MmaLane lane{d, a, b};
  warp_rendezvous("mma.sync.m16n8k16", 0xFFFFFFFFu, 0, Shuffle::kIdx, 0, 32, &lane, mma_combine);
}

void* static_shared(const void* site, size_t bytes, size_t align) {
  Block& b = *g_block;
  for (const StaticAlloc& a : b.statics)
    if (a.site == site) return b.arena + a.offset;
  size_t at = b.statics.empty() ? 0 : b.static_used + kRedzone;
  at = (at + align - 1) / align * align;
  if (at + bytes > kStaticSharedCapacity)
    fault_now("static shared memory over " + std::to_string(kStaticSharedCapacity) + " bytes per block");
  const size_t limit = device_config().shared_per_block_optin;
  if (at + bytes + b.config->dynamic_smem > limit)
    fault_now("static (" + std::to_string(at + bytes) + ") and dynamic (" + std::to_string(b.config->dynamic_smem) +
              ") shared memory exceed the device's " + std::to_string(limit) + " bytes per block");
  asan_unpoison(b.arena + at, bytes);
  std::memset(b.arena + at, kPoison, bytes);
  b.statics.push_back(StaticAlloc{site, at, bytes});
  b.static_used = at + bytes;
  return b.arena + at;
}

void* dynamic_shared() { return g_block->arena + g_block->dynamic_at; }

void cp_async16(void* smem, const void* gmem, bool valid) {
  Block& b = *g_block;
  Fiber* f = b.running;
  auto* dst = static_cast<unsigned char*>(smem);
  if (dst < b.arena || dst + 16 > b.arena + b.arena_bytes) fault_now("cp.async destination is not shared memory");
  if (reinterpret_cast<uintptr_t>(smem) % 16 != 0 || reinterpret_cast<uintptr_t>(gmem) % 16 != 0)
    fault_now("cp.async of 16 bytes with an address not 16-byte aligned");
  PendingCopy c{dst, {}, 0};
  if (valid) {
    if (!is_device_range(gmem, 16)) fault_now("cp.async source is not device memory");
    std::memcpy(c.data, gmem, 16);  // read now, so that a bad source is reported in the kernel's frame
  } else {
    std::memset(c.data, 0, 16);  // src-size 0: the destination is zero-filled
  }
  f->copies.push_back(c);
}

void cp_async_commit() {
  Fiber* f = g_block->running;
  ++f->committed;
  for (PendingCopy& c : f->copies)
    if (c.group == 0) c.group = f->committed;
}

void cp_async_wait(int pending_groups) {
  Fiber* f = g_block->running;
  if (uint64_t(pending_groups) < f->committed) land_copies(f, f->committed - uint64_t(pending_groups));
}

}  // namespace ptk_sim
