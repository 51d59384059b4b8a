package dev.ptk.backend.cuda;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One step's metadata packed into one int array, copied into one pinned host buffer per step.
 *
 * <p>The first {@link #deviceInts()} ints (token ids, then logit row ids) are what the kernels
 * read from device memory: one copy per step. The rest are the host arrays of the rope and
 * attention plan calls (positions, segment ids, slots, and the ragged tables of
 * ptk_attention_plan_ragged), passed as pointers into the same pinned buffer; the plans validate
 * them and upload their own work lists.
 *
 * <p>The ragged tables: {@code qoIndptr} the groups' token ranges; group g's segments are
 * {@code groupSegments[groupIndptr[g] .. groupIndptr[g + 1])}, its visible ones then its own, as
 * rows of one segment table ({@code segIndptr}, {@code indices}, {@code lastPageLen}). A segment
 * that several groups see (a prompt and its paths, the paths a summary sees) is one row, listed
 * by each. A segment contributes only the pages that hold its tokens; its {@code lastPageLen} is
 * the last page's token count (0 for an empty segment).
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
    int groupIndptrAt,
    int groupSegmentsAt,
    int segIndptrAt,
    int indicesAt,
    int lastPageLenAt,
    int numGroups,
    int numSegments) {

  public static StepMetadata pack(ForwardBatch batch, int pageSize) {
    List<AttentionGroup> groups = batch.groups();
    // Segment rows: one per distinct segment (KvSegment equality: the same pages array and length).
    Map<KvSegment, Integer> rowOf = new HashMap<>();
    List<KvSegment> rows = new ArrayList<>();
    Ints listed = new Ints();
    for (AttentionGroup g : groups) {
      for (KvSegment s : g.visible()) listed.add(row(s, rowOf, rows));
      listed.add(row(g.own(), rowOf, rows));
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
    for (AttentionGroup g : groups) out.add(g.firstToken() + g.numTokens());
    int groupIndptrAt = out.size;
    out.add(0);
    int listedSoFar = 0;
    for (AttentionGroup g : groups) out.add(listedSoFar += g.visible().size() + 1);
    int groupSegmentsAt = out.put(listed.toArray());
    int segIndptrAt = out.size;
    out.add(0);
    int total = 0;
    for (KvSegment s : rows) out.add(total += KvSegment.pagesFor(s.length(), pageSize));
    int indicesAt = out.size;
    for (KvSegment s : rows) {
      for (int p = 0; p < KvSegment.pagesFor(s.length(), pageSize); p++) out.add(s.pages()[p]);
    }
    int lastPageLenAt = out.size;
    for (KvSegment s : rows) out.add(s.length() == 0 ? 0 : s.length() - (KvSegment.pagesFor(s.length(), pageSize) - 1) * pageSize);
    return new StepMetadata(out.toArray(), tokensAt, logitRowsAt, deviceInts, positionsAt, segmentIdsAt, slotsAt,
        qoIndptrAt, groupIndptrAt, groupSegmentsAt, segIndptrAt, indicesAt, lastPageLenAt, groups.size(), rows.size());
  }

  /** Page-table entries in the segment table (what the attention plan's max_pages must hold). */
  public int numIndices() {
    return lastPageLenAt - indicesAt;
  }

  private static int row(KvSegment s, Map<KvSegment, Integer> rowOf, List<KvSegment> rows) {
    return rowOf.computeIfAbsent(s, k -> {
      rows.add(k);
      return rows.size() - 1;
    });
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
