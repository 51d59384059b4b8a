package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.TestVectors;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A malformed batch is refused with an IllegalArgumentException naming the field. */
class BadArgumentsTest {
  static final int PAGES = 8;
  static CpuBackend backend;

  @BeforeAll
  static void open() {
    Checkpoint ck = Checkpoint.open(TestVectors.tinyModel());
    backend = new CpuBackend(ck.config(), ck.weights(), 16, PAGES);
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  /** A valid 3-token prompt on page 5, mutated by {@code change}. */
  private static ForwardBatch batch(Consumer<Parts> change) {
    Parts p = new Parts();
    change.accept(p);
    return new ForwardBatch(p.tokens, p.positions, p.segments, p.slots,
        List.of(new AttentionGroup(p.first, p.count, p.visible, p.own)), p.logitRows);
  }

  static final class Parts {
    int[] tokens = {1, 2, 3};
    int[] positions = {0, 1, 2};
    int[] segments = {0, 0, 0};
    int[] slots = {80, 81, 82};
    int first = 0;
    int count = 3;
    List<KvSegment> visible = List.of();
    KvSegment own = new KvSegment(new int[] {5}, 3);
    int[] logitRows = {2};
  }

  private static void refused(String field, Consumer<Parts> change) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.forward(batch(change)));
    assertTrue(e.getMessage().contains(field), "message names " + field + ": " + e.getMessage());
  }

  @Test
  void validBatchRuns() {
    float[][] logits = backend.forward(batch(p -> {}));
    assertEquals(1, logits.length);
    assertEquals(backend.config().vocabSize(), logits[0].length);
  }

  @Test
  void slotOutsideThePool() {
    refused("slots", p -> p.slots = new int[] {80, 81, PAGES * 16});
  }

  @Test
  void negativeSlot() {
    refused("slots", p -> p.slots = new int[] {-1, 81, 82});
  }

  @Test
  void slotNotWhereTheOwnSegmentHoldsTheToken() {
    refused("slots", p -> p.slots = new int[] {80, 82, 81});
  }

  @Test
  void pagePastThePool() {
    refused("pages", p -> p.own = new KvSegment(new int[] {PAGES}, 3));
  }

  @Test
  void visiblePagePastThePool() {
    refused("visible[0].pages", p -> p.visible = List.of(new KvSegment(new int[] {1, PAGES + 3}, 20)));
  }

  @Test
  void segmentLongerThanItsPages() {
    refused("own", p -> p.own = new KvSegment(new int[] {5}, 17));
  }

  @Test
  void groupNotCoveringEveryToken() {
    refused("groups", p -> {
      p.count = 2;
      p.own = new KvSegment(new int[] {5}, 2);
      p.slots = new int[] {80, 81, 82};
    });
  }

  @Test
  void groupPastTheBatch() {
    refused("groups", p -> p.first = 1);
  }

  @Test
  void segmentIdPastMaxSegments() {
    refused("segmentIds", p -> p.segments = new int[] {0, backend.config().maxSegments(), 0});
  }

  @Test
  void negativePosition() {
    refused("positions", p -> p.positions = new int[] {0, -1, 2});
  }

  @Test
  void logitRowOutOfRange() {
    refused("logitRows", p -> p.logitRows = new int[] {3});
  }

  @Test
  void logitRowAskedForTwice() {
    refused("logitRows[1] = 2 is asked for twice", p -> p.logitRows = new int[] {2, 2});
  }

  @Test
  void tokenOutsideTheVocabulary() {
    refused("tokens", p -> p.tokens = new int[] {1, backend.config().vocabSize(), 3});
  }

  @Test
  void perTokenArraysOfDifferentLengths() {
    refused("positions", p -> p.positions = new int[] {0, 1});
  }
}
