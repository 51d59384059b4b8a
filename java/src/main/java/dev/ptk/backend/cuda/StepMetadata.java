package dev.ptk.backend.cuda;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One step's metadata packed into one int array, copied into one pinned host buffer per step.
 *
 * <p>The first {@link #deviceInts()} ints (token ids, then logit row ids) are what the kernels
 * read from device memory: one copy per step. The rest are the host arrays of the rope and
 * attention plan calls (positions, segment ids, slots, and the page tables as CSR), passed as
 * pointers into the same pinned buffer; the plans validate them and upload their own work lists.
 *
 * <p>PREFILL tables: one row per group (its own segment), {@code qoIndptr} the groups' token
 * ranges, the shared prefix as a plain page list. SUMMARY tables: one row per visible segment,
 * then the own segment last. A segment contributes only the pages that hold its tokens;
 * {@code lastPageLen} is the last page's token count (0 for an empty segment).
 */
public record StepMetadata(
    int[] data,
    int tokensAt,
    int logitRowsAt,
    int deviceInts,
    int positionsAt,
    int segmentIdsAt,
    int slotsAt,
    int qoIndptrAt,
    int prefixAt,
    int prefixLen,
    int indptrAt,
    int indicesAt,
    int lastPageLenAt,
    int numTables) {

  public static StepMetadata pack(ForwardBatch batch, StepShape shape, int pageSize) {
    List<AttentionGroup> groups = batch.groups();
    List<KvSegment> tables = new ArrayList<>();
    KvSegment prefix = null;
    if (shape.kind() == StepShape.Kind.PREFILL) {
      for (AttentionGroup g : groups) tables.add(g.own());
      if (!groups.get(0).visible().isEmpty()) prefix = groups.get(0).visible().get(0);
    } else {
      tables.addAll(groups.get(0).visible());
      tables.add(groups.get(0).own());
    }
    Ints out = new Ints();
    int tokensAt = out.put(batch.tokens());
    int logitRowsAt = out.put(batch.logitRows());
    int deviceInts = out.size;
    int positionsAt = out.put(batch.positions());
    int segmentIdsAt = out.put(batch.segmentIds());
    int slotsAt = out.put(batch.slots());
    int qoIndptrAt = out.size;
    out.add(0);
    if (shape.kind() == StepShape.Kind.PREFILL) {
      for (AttentionGroup g : groups) out.add(g.firstToken() + g.numTokens());
    }
    int prefixAt = out.size;
    int prefixLen = prefix == null ? 0 : prefix.length();
    for (int p = 0; p < KvSegment.pagesFor(prefixLen, pageSize); p++) out.add(prefix.pages()[p]);
    int indptrAt = out.size;
    out.add(0);
    int total = 0;
    for (KvSegment s : tables) out.add(total += KvSegment.pagesFor(s.length(), pageSize));
    int indicesAt = out.size;
    for (KvSegment s : tables) {
      for (int p = 0; p < KvSegment.pagesFor(s.length(), pageSize); p++) out.add(s.pages()[p]);
    }
    int lastPageLenAt = out.size;
    for (KvSegment s : tables) out.add(s.length() == 0 ? 0 : s.length() - (KvSegment.pagesFor(s.length(), pageSize) - 1) * pageSize);
    return new StepMetadata(out.toArray(), tokensAt, logitRowsAt, deviceInts, positionsAt, segmentIdsAt, slotsAt,
        qoIndptrAt, prefixAt, prefixLen, indptrAt, indicesAt, lastPageLenAt, tables.size());
  }

  /** Page-table entries in all tables (what the attention plan's max_pages must hold). */
  public int numIndices() {
    return lastPageLenAt - indicesAt;
  }

  /** A growing int array. */
  private static final class Ints {
    int[] a = new int[64];
    int size;

    void add(int v) {
      if (size == a.length) a = java.util.Arrays.copyOf(a, 2 * size);
      a[size++] = v;
    }

    int put(int[] values) {
      int at = size;
      for (int v : values) add(v);
      return at;
    }

    int[] toArray() {
      return java.util.Arrays.copyOf(a, size);
    }
  }
}
