package dev.ptk.nativelib;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Page tables of an attention case in the form the plan calls take them: host int32 arrays, CSR
 * ({@code indptr}, {@code indices}, {@code lastPageLen}), plus the query rows and shared prefix of
 * a prefill, or the query rows and segment lists of a ragged batch's groups.
 */
record PageTables(Call call, int[] indptr, int[] indices, int[] lastPageLen, int[] qoIndptr, int[] prefixIndices,
    int prefixLen, int[] groupIndptr, int[] groupSegments, int queries) {

  /** Which plan function takes the tables. */
  enum Call { DECODE, PREFILL, SUMMARY, RAGGED }

  /**
   * The tables of a decode, prefill, summary, phase1 or ragged case. Phase 1 is a prefill with one query
   * per path and the prompt as the shared prefix.
   */
  static PageTables of(KernelCase c) {
    int queries = c.queries();
    return switch (c.kind()) {
      case "decode" -> new PageTables(Call.DECODE, c.ints("indptr"), c.ints("indices"), c.ints("last_page_len"),
          null, null, 0, null, null, queries);
      case "summary" -> new PageTables(Call.SUMMARY, c.ints("seg_indptr"), c.ints("indices"),
          c.ints("last_page_len"), null, null, 0, null, null, queries);
      case "prefill" -> new PageTables(Call.PREFILL, c.ints("indptr"), c.ints("indices"), c.ints("last_page_len"),
          c.ints("qo_indptr"), c.ints("prefix_indices"), (int) c.scalar("prefix_len"), null, null, queries);
      case "ragged" -> new PageTables(Call.RAGGED, c.ints("seg_indptr"), c.ints("indices"), c.ints("last_page_len"),
          c.ints("qo_indptr"), null, 0, c.ints("group_indptr"), c.ints("group_segments"), queries);
      case "phase1" -> {
        int[] last = c.ints("last_page_len");
        int[] onePerPath = new int[last.length + 1];
        for (int p = 0; p <= last.length; p++) onePerPath[p] = p;
        yield new PageTables(Call.PREFILL, c.ints("indptr"), c.ints("indices"), last, onePerPath,
            c.ints("prompt_indices"), (int) c.scalar("prompt_len"), null, null, queries);
      }
      default -> throw new IllegalArgumentException(c + ": kind " + c.kind() + " has no page tables");
    };
  }

  /** Phase 1 piece by piece: every path's query over the prompt alone, as a decode. */
  PageTables promptAsDecode(int pageSize) {
    int paths = lastPageLen.length, n = prefixIndices.length;
    int[] ptr = new int[paths + 1], pages = new int[paths * n], last = new int[paths];
    for (int p = 0; p < paths; p++) {
      ptr[p + 1] = (p + 1) * n;
      System.arraycopy(prefixIndices, 0, pages, p * n, n);
      last[p] = n == 0 ? 0 : prefixLen - (n - 1) * pageSize;
    }
    return new PageTables(Call.DECODE, ptr, pages, last, null, null, 0, null, null, queries);
  }

  /** Phase 1 piece by piece: every path's query over its own pages alone, as a decode. */
  PageTables ownAsDecode() {
    return new PageTables(Call.DECODE, indptr, indices, lastPageLen, null, null, 0, null, null, queries);
  }

  /** The same tables with other CSR arrays (for corrupted copies). */
  PageTables withCsr(int[] newIndptr, int[] newIndices, int[] newLastPageLen) {
    return new PageTables(call, newIndptr, newIndices, newLastPageLen, qoIndptr, prefixIndices, prefixLen, groupIndptr,
        groupSegments, queries);
  }

  /** The CSR offsets' name in the plan call's signature. */
  String indptrName() {
    return call == Call.SUMMARY || call == Call.RAGGED ? "seg_indptr" : "indptr";
  }

  /** Sequences, requests or segments: the table's entries (and a ragged batch's groups). */
  int sequences() {
    return call == Call.RAGGED ? Math.max(lastPageLen.length, groups()) : lastPageLen.length;
  }

  /** The ragged batch's groups. */
  int groups() {
    return qoIndptr.length - 1;
  }

  /** Page-table entries the plan holds: the CSR table and the shared prefix. */
  int pages() {
    return indices.length + (prefixIndices == null ? 0 : prefixIndices.length);
  }

  /** Limits that fit exactly: a plan sized for the case must take it. */
  ptk.ptk_plan_limits limits() {
    return new ptk.ptk_plan_limits().max_queries(queries).max_sequences(sequences()).max_pages(pages())
        .max_work_items(0).num_multiprocessors(0);
  }

  /** Calls the plan function of {@link #call} and returns its status. */
  int plan(ptk.ptk_attention_plan plan, Pointer stream) {
    try (IntPointer ptr = new IntPointer(indptr); IntPointer pages = new IntPointer(indices);
        IntPointer last = new IntPointer(lastPageLen)) {
      return switch (call) {
        case DECODE -> ptk.ptk_attention_plan_decode(plan, sequences(), ptr, pages, last, stream);
        case SUMMARY -> ptk.ptk_attention_plan_summary(plan, sequences(), ptr, pages, last, queries, stream);
        case PREFILL -> {
          try (IntPointer qo = new IntPointer(qoIndptr); IntPointer prefix = new IntPointer(prefixIndices)) {
            yield ptk.ptk_attention_plan_prefill(plan, sequences(), qo, prefix, prefixLen, ptr, pages, last, stream);
          }
        }
        case RAGGED -> {
          try (IntPointer qo = new IntPointer(qoIndptr); IntPointer gi = new IntPointer(groupIndptr);
              IntPointer gs = new IntPointer(groupSegments)) {
            yield ptk.ptk_attention_plan_ragged(plan, groups(), qo, gi, gs, lastPageLen.length, ptr, pages, last, stream);
          }
        }
      };
    }
  }
}
