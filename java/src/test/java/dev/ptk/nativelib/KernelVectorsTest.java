package dev.ptk.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.google.gson.JsonObject;
import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.global.ptk;
import dev.ptk.testing.TestVectors;
import dev.ptk.testing.Tolerance;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * Every kernel-level reference case of test-vectors/ through the C ABI, as a Java program
 * embedding libptk sees it. On any machine the plan calls must accept each case's tables (and
 * reject corrupted copies, naming the argument); on a CUDA device (the device tests: the sim
 * device, or a GPU) the kernels run and their outputs must match the reference within the case's
 * tolerance.
 */
class KernelVectorsTest {
  private static CudaEnvironment env;

  @BeforeAll
  static void load() {
    env = CudaEnvironment.query();
  }

  /**
   * What a plan call returns once the host arrays passed validation: it then copies the plan to
   * the device, which needs CUDA in the build and a device on the machine.
   */
  private static int plannedStatus() {
    if (!env.builtWithCuda()) return ptk.PTK_ERR_NO_CUDA;
    return env.hasDevice() ? ptk.PTK_OK : ptk.PTK_ERR_NO_DEVICE;
  }

  private static Stream<DynamicTest> perCase(Stream<JsonObject> entries, Consumer<KernelCase> body) {
    return entries.map(e -> dynamicTest(KernelCase.name(e), () -> body.accept(KernelCase.open(e))));
  }

  // ---------------------------------------------------------------------------------------------
  // Host validation: any machine

  /**
   * Every case's tables pass the plan calls' host validation, with limits that fit them exactly;
   * the plan then reports the case's query rows. (merge has no plan: it takes device buffers only.)
   */
  @TestFactory
  Stream<DynamicTest> planCallsAcceptEveryCase() {
    return perCase(KernelCase.manifestEntries().filter(e -> !e.get("kind").getAsString().equals("merge")),
        c -> {
          if (c.kind().equals("rope_append")) ropePlanAccepts(c);
          else for (PageTables t : plans(c)) attentionPlanAccepts(c, t);
        });
  }

  private static void ropePlanAccepts(KernelCase c) {
    try (ptk.ptk_kv_layout layout = c.layout(); ptk.ptk_rope_config rope = c.ropeConfig()) {
      ptk.ptk_rope_plan plan = new ptk.ptk_rope_plan();
      Native.check(ptk.ptk_rope_plan_create(layout, rope, c.tensor("thought_table").dim(0), c.queries(), plan));
      try {
        assertStatus(plannedStatus(), ropeUpdate(c, plan, c.ints("slot_mapping"), null), c + ": rope plan update");
      } finally {
        ptk.ptk_rope_plan_destroy(plan);
      }
    }
  }

  private static void attentionPlanAccepts(KernelCase c, PageTables t) {
    try (ptk.ptk_kv_layout layout = c.layout(); AttentionPlan plan = new AttentionPlan(layout, t)) {
      assertStatus(plannedStatus(), t.plan(plan.handle, null), c + ": " + t.call() + " plan");
      try (ptk.ptk_attention_plan_info info = new ptk.ptk_attention_plan_info()) {
        Native.check(ptk.ptk_attention_plan_info_get(plan.handle, info));
        assertEquals(c.queries(), info.num_queries(), c + ": planned query rows");
        assertEquals(expectedVariant(c, t), info.variant(), c + ": kernel variant (attention.h)");
        assertTrue(info.num_work_items() > 0, c + ": a plan with keys has work items");
      }
    }
  }

  /**
   * Decode for decode, single-query summaries, prefills and ragged batches, prefills and ragged
   * batches with one query per group; else wide.
   */
  private static int expectedVariant(KernelCase c, PageTables t) {
    boolean groups = t.call() == PageTables.Call.PREFILL || t.call() == PageTables.Call.RAGGED;
    boolean oneEach = groups && t.qoIndptr().length > 1;
    for (int b = 0; oneEach && b + 1 < t.qoIndptr().length; ++b) oneEach = t.qoIndptr()[b + 1] - t.qoIndptr()[b] == 1;
    if (t.call() == PageTables.Call.DECODE) return ptk.PTK_ATTENTION_DECODE;
    if (t.call() == PageTables.Call.SUMMARY) return c.queries() <= 1 ? ptk.PTK_ATTENTION_DECODE : ptk.PTK_ATTENTION_WIDE;
    return c.queries() == 1 || oneEach ? ptk.PTK_ATTENTION_DECODE : ptk.PTK_ATTENTION_WIDE;
  }

  /** The plans each attention case needs: phase 1 also piece by piece (prompt alone, own pages alone). */
  private static List<PageTables> plans(KernelCase c) {
    PageTables t = PageTables.of(c);
    if (!c.kind().equals("phase1")) return List.of(t);
    return List.of(t, t.promptAsDecode((int) c.scalar("page_size")), t.ownAsDecode());
  }

  /** A corrupted copy of the first case of each attention kind: rejected, the argument named. */
  @TestFactory
  Stream<DynamicTest> corruptedTablesAreRejected() {
    Stream<DynamicTest> attention = Stream.of("decode", "prefill", "summary", "phase1", "ragged").flatMap(kind -> {
      KernelCase c = KernelCase.open(TestVectors.cases(kind).get(0));
      PageTables t = PageTables.of(c);
      int pageSize = (int) c.scalar("page_size"), numPages = (int) c.scalar("num_pages");
      int[] indices = t.indices().clone();
      indices[0] = numPages;
      int[] zero = t.lastPageLen().clone();
      zero[0] = 0;  // every table's first entry has pages
      int[] over = t.lastPageLen().clone();
      over[0] = pageSize + 1;
      int[] decreasing = t.indptr().clone();
      decreasing[decreasing.length - 1] = decreasing[decreasing.length - 2] - 1;
      return Stream.of(
          rejected(c, "page id past the pool", t.withCsr(t.indptr(), indices, t.lastPageLen()), "indices"),
          rejected(c, "last_page_len 0", t.withCsr(t.indptr(), t.indices(), zero), "last_page_len"),
          rejected(c, "last_page_len past the page", t.withCsr(t.indptr(), t.indices(), over), "last_page_len"),
          rejected(c, t.indptrName() + " decreasing", t.withCsr(decreasing, t.indices(), t.lastPageLen()),
              t.indptrName()));
    });
    KernelCase rope = KernelCase.open(TestVectors.cases("rope_append").get(0));
    int[] slots = rope.ints("slot_mapping").clone();
    slots[0] = (int) (rope.scalar("page_size") * rope.tensor("k_cache_in").dim(0));
    return Stream.concat(attention, Stream.of(dynamicTest(rope + ": slot past the pool", () -> {
      try (ptk.ptk_kv_layout layout = rope.layout(); ptk.ptk_rope_config config = rope.ropeConfig()) {
        ptk.ptk_rope_plan plan = new ptk.ptk_rope_plan();
        Native.check(ptk.ptk_rope_plan_create(layout, config, rope.tensor("thought_table").dim(0), rope.queries(), plan));
        try {
          assertRejected(ropeUpdate(rope, plan, slots, null), "slot_mapping");
        } finally {
          ptk.ptk_rope_plan_destroy(plan);
        }
      }
    })));
  }

  private static DynamicTest rejected(KernelCase c, String what, PageTables corrupt, String argument) {
    return dynamicTest(c + ": " + what, () -> {
      try (ptk.ptk_kv_layout layout = c.layout(); AttentionPlan plan = new AttentionPlan(layout, corrupt)) {
        assertRejected(corrupt.plan(plan.handle, null), argument);
      }
    });
  }

  private static void assertRejected(int status, String argument) {
    String message = ptk.ptk_last_error().getString();
    assertEquals(ptk.PTK_ERR_INVALID_ARGUMENT, status, () -> "status (" + message + ")");
    // The name as a whole word: "indices" is not "prefix_indices", "indptr" not "qo_indptr".
    assertTrue(Pattern.compile("(?<![\\w])" + argument + "(?![\\w])").matcher(message).find(),
        "the message names " + argument + ": " + message);
  }

  private static void assertStatus(int want, int got, String what) {
    String message = ptk.ptk_last_error().getString();
    assertEquals(ptk.ptk_status_string(want).getString(), ptk.ptk_status_string(got).getString(),
        () -> what + " (" + message + ")");
  }

  private static int ropeUpdate(KernelCase c, ptk.ptk_rope_plan plan, int[] slotMapping, Pointer stream) {
    try (IntPointer positions = new IntPointer(c.ints("positions"));
        IntPointer segments = new IntPointer(c.ints("segment_ids"));
        IntPointer slots = new IntPointer(slotMapping)) {
      return ptk.ptk_rope_plan_update(plan, c.queries(), positions, segments, slots, stream);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The kernels: a device test, which fails without a device

  @Tag("device")
  @TestFactory
  Stream<DynamicTest> kernelsMatchTheReference() {
    return perCase(KernelCase.manifestEntries(), c -> {
      assertTrue(env.hasDevice(), "no CUDA device: the device tests need one (" + env.describe().trim() + ")");
      try (DeviceBuffers gpu = new DeviceBuffers()) {
        switch (c.kind()) {
          case "rope_append" -> runRope(c, gpu);
          case "merge" -> runMerge(c, gpu);
          default -> runAttention(c, gpu);
        }
      }
    });
  }

  private static void runRope(KernelCase c, DeviceBuffers gpu) {
    try (ptk.ptk_kv_layout layout = c.layout(); ptk.ptk_rope_config config = c.ropeConfig()) {
      int tokens = c.queries();
      long qOutElems = (long) tokens * layout.num_qo_heads() * layout.head_dim();
      Pointer qOut = gpu.allocate(2 * qOutElems);
      Pointer k = gpu.upload(c.tensor("k_cache_in"));
      Pointer v = gpu.upload(c.tensor("v_cache_in"));
      // Without thought embeddings the ABI takes a null table (the case's table is all zero).
      Pointer table = c.scalars().get("thought_embeddings").getAsBoolean() ? gpu.upload(c.tensor("thought_table")) : null;
      Pointer qkv = gpu.upload(c.tensor("qkv"));
      ptk.ptk_rope_plan plan = new ptk.ptk_rope_plan();
      Native.check(ptk.ptk_rope_plan_create(layout, config, c.tensor("thought_table").dim(0), tokens, plan));
      try {
        Native.check(ropeUpdate(c, plan, c.ints("slot_mapping"), gpu.stream()));
        gpu.poison(qOut, 2 * qOutElems);
        Native.check(ptk.ptk_rope_append(plan, qkv, table, qOut, k, v, gpu.stream()));
        gpu.synchronize();
      } finally {
        ptk.ptk_rope_plan_destroy(plan);
      }
      compare(c, "q_out", "q_out", gpu, qOut, DType.BF16);
      compare(c, "k_cache_out", "k_cache_out", gpu, k, DType.BF16);
      compare(c, "v_cache_out", "v_cache_out", gpu, v, DType.BF16);
    }
  }

  private static void runMerge(KernelCase c, DeviceBuffers gpu) {
    Tensor oA = c.tensor("o_a");
    int rows = oA.dim(0) * oA.dim(1), headDim = oA.dim(2);
    // Views of device blocks that gpu owns (nothing to close here).
    FloatPointer a = new FloatPointer(gpu.upload(oA)), lseA = new FloatPointer(gpu.upload(c.tensor("lse_a")));
    FloatPointer b = new FloatPointer(gpu.upload(c.tensor("o_b"))), lseB = new FloatPointer(gpu.upload(c.tensor("lse_b")));
    FloatPointer o = new FloatPointer(gpu.allocate(4L * rows * headDim)), lse = new FloatPointer(gpu.allocate(4L * rows));
    gpu.poison(o, 4L * rows * headDim);
    gpu.poison(lse, 4L * rows);
    Native.check(ptk.ptk_merge_states(a, lseA, b, lseB, o, lse, rows, headDim, gpu.stream()));
    gpu.synchronize();
    compare(c, "o", "o", gpu, o, DType.F32);
    compare(c, "lse", "lse", gpu, lse, DType.F32);
  }

  /**
   * Runs the case's plan in both output dtypes; phase 1 also piece by piece: the prompt and own
   * partial states as decodes, then their merge, which must give the same o and lse.
   */
  private static void runAttention(KernelCase c, DeviceBuffers gpu) {
    Pointer q = gpu.upload(c.tensor("q"));
    Pointer k = gpu.upload(c.tensor("k_cache"));
    Pointer v = gpu.upload(c.tensor("v_cache"));
    List<PageTables> plans = plans(c);
    try (ptk.ptk_kv_layout layout = c.layout()) {
      Attention whole = new Attention(layout, c, gpu, q, k, v);
      whole.run(plans.get(0), DType.F32, "o", "lse");
      whole.run(plans.get(0), DType.BF16, "o", "lse");
      if (!c.kind().equals("phase1")) return;
      Attention.Result prompt = whole.run(plans.get(1), DType.F32, "o_prompt", "lse_prompt");
      Attention.Result own = whole.run(plans.get(2), DType.F32, "o_own", "lse_own");
      int rows = c.queries() * layout.num_qo_heads(), headDim = layout.head_dim();
      FloatPointer o = new FloatPointer(gpu.allocate(4L * rows * headDim)), lse = new FloatPointer(gpu.allocate(4L * rows));
      gpu.poison(o, 4L * rows * headDim);
      gpu.poison(lse, 4L * rows);
      Native.check(ptk.ptk_merge_states(prompt.o(), prompt.lse(), own.o(), own.lse(), o, lse, rows, headDim,
          gpu.stream()));
      gpu.synchronize();
      compare(c, "o", "o (prompt merged with own)", gpu, o, DType.F32);
      compare(c, "lse", "lse (prompt merged with own)", gpu, lse, DType.F32);
    }
  }

  /** One attention case on the device: plan, poison the outputs, run, compare. */
  private record Attention(ptk.ptk_kv_layout layout, KernelCase c, DeviceBuffers gpu, Pointer q, Pointer k,
      Pointer v) {
    record Result(FloatPointer o, FloatPointer lse) {}

    Result run(PageTables t, DType oType, String oName, String lseName) {
      int rows = c.queries() * layout.num_qo_heads();
      long oBytes = (long) rows * layout.head_dim() * oType.size();
      FloatPointer o = new FloatPointer(gpu.allocate(oBytes));
      FloatPointer lse = new FloatPointer(gpu.allocate(4L * rows));
      int dtype = oType == DType.F32 ? ptk.PTK_DTYPE_F32 : ptk.PTK_DTYPE_BF16;
      try (AttentionPlan plan = new AttentionPlan(layout, t)) {
        Native.check(t.plan(plan.handle, gpu.stream()));
        gpu.poison(o, oBytes);
        gpu.poison(lse, 4L * rows);
        Native.check(ptk.ptk_attention_run(plan.handle, q, k, v, (float) c.scalar("sm_scale"), o, dtype, lse,
            gpu.stream()));
        gpu.synchronize();
      }
      String label = " (" + t.call().name().toLowerCase() + ", o " + oType + ")";
      compare(c, oName, oName + label, gpu, o, oType);
      compare(c, lseName, lseName + label, gpu, lse, DType.F32);
      return new Result(o, lse);
    }
  }

  private static void compare(KernelCase c, String expected, String label, DeviceBuffers gpu, Pointer got, DType dtype) {
    float[] want = c.tensor(expected).toFloats();
    Tolerance.assertClose(c + " " + label, want, gpu.download(got, dtype, want.length), c.rtol(), c.atol());
  }

  /** An attention plan sized exactly for its tables, destroyed on close. */
  private static final class AttentionPlan implements AutoCloseable {
    final ptk.ptk_attention_plan handle = new ptk.ptk_attention_plan();

    AttentionPlan(ptk.ptk_kv_layout layout, PageTables t) {
      try (ptk.ptk_plan_limits limits = t.limits()) {
        Native.check(ptk.ptk_attention_plan_create(layout, limits, handle));
      }
    }

    @Override
    public void close() {
      ptk.ptk_attention_plan_destroy(handle);
    }
  }
}
