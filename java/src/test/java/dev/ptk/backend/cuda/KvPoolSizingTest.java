package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import org.junit.jupiter.api.Test;

class KvPoolSizingTest {
  private static final long GIB = 1L << 30;
  // ParaThinker-1.5B: 28 layers, 2 kv heads of 128.
  private static final ModelConfig MODEL = new ModelConfig(1536, 28, 12, 2, 8960, 151936, 131072, 10000,
      RopeScaling.NONE, 1e-6, false, 32, 151643, 151645);

  @Test
  void pageBytesCountKAndVInEveryLayer() {
    // 2 (K, V) x 28 layers x 16 tokens x 2 heads x 128 dims x 2 bytes.
    assertEquals(458_752, KvPoolSizing.bytesPerPage(MODEL, 16));
  }

  @Test
  void fillsWhatIsLeftAfterWeightsActivationsAndReserve() {
    // 10 GiB free - 3 - 1 - 1 = 5 GiB = 5368709120 bytes; / 458752 = 11702.86.
    assertEquals(11_702, KvPoolSizing.pages(10 * GIB, 3 * GIB, GIB, GIB, 458_752, 0));
  }

  @Test
  void requestedPagesMustFit() {
    assertEquals(11_702, KvPoolSizing.pages(10 * GIB, 3 * GIB, GIB, GIB, 458_752, 11_702));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> KvPoolSizing.pages(10 * GIB, 3 * GIB, GIB, GIB, 458_752, 11_703));
    assertTrue(e.getMessage().contains("not enough GPU memory for 11703 KV pages (11702 fit)"), e.getMessage());
    assertTrue(e.getMessage().contains("10.00 GiB free on the device, 3.00 GiB weights"), e.getMessage());
  }

  @Test
  void modelThatDoesNotFitIsAClearError() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> KvPoolSizing.pages(4 * GIB, 3 * GIB, GIB, GIB, 458_752, 0));
    assertTrue(e.getMessage().startsWith("not enough GPU memory for the model and one KV page"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KvPoolSizing.pages(GIB, 0, 0, 0, 0, 0));
  }
}
