package dev.ptk.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.Test;

/**
 * The attention ABI as Java sees it through the generated bindings: plans are built and checked on
 * the host before anything reaches a device, so these run on any machine.
 */
class AttentionBindingsTest {

  private static ptk.ptk_kv_layout layout(int headDim, int numPages) {
    ptk.ptk_kv_layout l = new ptk.ptk_kv_layout();
    l.num_qo_heads(12).num_kv_heads(2).head_dim(headDim).page_size(16).num_pages(numPages);
    return l;
  }

  private static ptk.ptk_plan_limits limits() {
    ptk.ptk_plan_limits l = new ptk.ptk_plan_limits();
    l.max_queries(8).max_sequences(8).max_pages(64).max_work_items(0).num_multiprocessors(0);
    return l;
  }

  @Test
  void nullLayoutIsNamed() {
    Native.load();
    try (ptk.ptk_plan_limits limits = limits(); ptk.ptk_attention_plan plan = new ptk.ptk_attention_plan()) {
      PtkException e = assertThrows(PtkException.class,
          () -> Native.check(ptk.ptk_attention_plan_create(null, limits, plan)));
      assertEquals(ptk.PTK_ERR_INVALID_ARGUMENT, e.status());
      assertTrue(e.getMessage().contains("layout"), e.getMessage());
    }
  }

  @Test
  void unsupportedHeadDimIsNamed() {
    Native.load();
    try (ptk.ptk_kv_layout layout = layout(96, 32); ptk.ptk_plan_limits limits = limits();
        ptk.ptk_attention_plan plan = new ptk.ptk_attention_plan()) {
      PtkException e = assertThrows(PtkException.class,
          () -> Native.check(ptk.ptk_attention_plan_create(layout, limits, plan)));
      assertEquals(ptk.PTK_ERR_UNSUPPORTED, e.status());
      assertTrue(e.getMessage().contains("head_dim"), e.getMessage());
    }
  }

  @Test
  void pageIdPastThePoolIsRejectedBeforeAnyLaunch() {
    Native.load();
    try (ptk.ptk_kv_layout layout = layout(128, 32); ptk.ptk_plan_limits limits = limits();
        ptk.ptk_attention_plan plan = new ptk.ptk_attention_plan()) {
      Native.check(ptk.ptk_attention_plan_create(layout, limits, plan));
      try (IntPointer indptr = new IntPointer(0, 2, 3);
          IntPointer indices = new IntPointer(5, 7, 32);
          IntPointer lastPageLen = new IntPointer(16, 4)) {
        PtkException e = assertThrows(PtkException.class,
            () -> Native.check(ptk.ptk_attention_plan_decode(plan, 2, indptr, indices, lastPageLen, null)));
        assertEquals(ptk.PTK_ERR_INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("32"), e.getMessage());
      } finally {
        ptk.ptk_attention_plan_destroy(plan);
      }
    }
  }
}
