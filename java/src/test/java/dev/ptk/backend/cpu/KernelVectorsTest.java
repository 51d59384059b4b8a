package dev.ptk.backend.cpu;

import static dev.ptk.backend.cpu.Vectors.bits;
import static dev.ptk.backend.cpu.Vectors.widen;
import static dev.ptk.testing.TestVectors.scalars;
import static dev.ptk.testing.Tolerance.assertClose;
import static dev.ptk.testing.Tolerance.atol;
import static dev.ptk.testing.Tolerance.rtol;

import com.google.gson.JsonObject;
import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.KvSegment;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.SafeTensors;
import dev.ptk.testing.TestVectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kernel-level reference case (test-vectors/kernels) through the CPU ops. */
class KernelVectorsTest {
  static final int HQ = 12, HKV = 2, D = 128;
  static final WorkerPool POOL = new WorkerPool(2);

  @AfterAll
  static void closePool() {
    POOL.close();
  }

  static Stream<Arguments> cases(String kind) {
    return TestVectors.cases(kind).stream().map(c -> Arguments.of(c.get("name").getAsString(), c));
  }

  static Stream<Arguments> ropeAppend() {
    return cases("rope_append");
  }

  static Stream<Arguments> decode() {
    return cases("decode");
  }

  static Stream<Arguments> prefill() {
    return cases("prefill");
  }

  static Stream<Arguments> summary() {
    return cases("summary");
  }

  static Stream<Arguments> phase1() {
    return cases("phase1");
  }

  static Stream<Arguments> ragged() {
    return cases("ragged");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ropeAppend")
  void ropeAppend(String name, JsonObject c) {
    JsonObject s = scalars(c);
    SafeTensors f = TestVectors.open(c);
    float[] qkv = f.tensor("qkv").toFloats();
    int[] positions = f.tensor("positions").toInts();
    int[] segs = f.tensor("segment_ids").toInts();
    int[] slots = f.tensor("slot_mapping").toInts();
    float[] table = s.get("thought_embeddings").getAsBoolean() ? f.tensor("thought_table").toFloats() : null;
    short[] k = bits(f.tensor("k_cache_in"));
    short[] v = bits(f.tensor("v_cache_in"));
    double factor = s.get("yarn_factor").getAsDouble();
    RopeScaling scaling = factor > 1
        ? RopeScaling.yarn(factor, s.get("yarn_original_max").getAsInt(), s.get("beta_fast").getAsDouble(), s.get("beta_slow").getAsDouble())
        : RopeScaling.NONE;
    Rotary rotary = new Rotary(D, s.get("theta").getAsDouble(), scaling);
    int t = positions.length;
    float[] cos = new float[t * D / 2], sin = new float[t * D / 2];
    for (int i = 0; i < t; i++) rotary.angles(positions[i], cos, sin, i * D / 2);

    KvCache cache = KvCache.fromNhd(k, v, s.get("page_size").getAsInt(), HKV, D);
    new RopeAppend(POOL, HQ, HKV, D, rotary).apply(qkv, t, segs, table, cos, sin, slots, cache, 0);

    int width = (HQ + 2 * HKV) * D;
    float[] q = new float[t * HQ * D];
    for (int i = 0; i < t; i++) System.arraycopy(qkv, i * width, q, i * HQ * D, HQ * D);
    assertClose(name + " q_out", f.tensor("q_out").toFloats(), q, rtol(c), atol(c));
    assertClose(name + " k_cache_out", f.tensor("k_cache_out").toFloats(), widen(cache.toNhd(0, false)), rtol(c), atol(c));
    assertClose(name + " v_cache_out", f.tensor("v_cache_out").toFloats(), widen(cache.toNhd(0, true)), rtol(c), atol(c));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decode")
  void decode(String name, JsonObject c) {
    SafeTensors f = TestVectors.open(c);
    Csr csr = Csr.of(f, "indptr", c);
    float[] q = f.tensor("q").toFloats();
    int b = csr.count();
    List<AttentionGroup> groups = new ArrayList<>();
    for (int i = 0; i < b; i++) groups.add(new AttentionGroup(i, 1, List.of(), csr.segment(i)));
    check(name, c, f, groups, q, b);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("prefill")
  void prefill(String name, JsonObject c) {
    SafeTensors f = TestVectors.open(c);
    Csr csr = Csr.of(f, "indptr", c);
    int[] qo = f.tensor("qo_indptr").toInts();
    int prefixLen = scalars(c).get("prefix_len").getAsInt();
    List<KvSegment> visible = prefixLen == 0 ? List.of() : List.of(new KvSegment(f.tensor("prefix_indices").toInts(), prefixLen));
    List<AttentionGroup> groups = new ArrayList<>();
    for (int i = 0; i < csr.count(); i++) groups.add(new AttentionGroup(qo[i], qo[i + 1] - qo[i], visible, csr.segment(i)));
    check(name, c, f, groups, f.tensor("q").toFloats(), qo[qo.length - 1]);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("summary")
  void summary(String name, JsonObject c) {
    SafeTensors f = TestVectors.open(c);
    Csr csr = Csr.of(f, "seg_indptr", c);
    List<KvSegment> visible = new ArrayList<>();
    for (int i = 0; i + 1 < csr.count(); i++) visible.add(csr.segment(i));
    float[] q = f.tensor("q").toFloats();
    int nq = q.length / (HQ * D);
    check(name, c, f, List.of(new AttentionGroup(0, nq, visible, csr.segment(csr.count() - 1))), q, nq);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("phase1")
  void phase1(String name, JsonObject c) {
    SafeTensors f = TestVectors.open(c);
    Csr csr = Csr.of(f, "indptr", c);
    KvSegment prompt = new KvSegment(f.tensor("prompt_indices").toInts(), scalars(c).get("prompt_len").getAsInt());
    float[] q = f.tensor("q").toFloats();
    int p = csr.count();
    KvCache cache = KvCache.fromNhd(bits(f.tensor("k_cache")), bits(f.tensor("v_cache")), csr.pageSize(), HKV, D);
    float scale = (float) scalars(c).get("sm_scale").getAsDouble();
    SegmentAttention att = new SegmentAttention(POOL, HQ, HKV, D, csr.pageSize());

    // the prompt's states of all P queries in one pass, then each path's own
    AttentionStates promptStates = new AttentionStates(p, HQ, D);
    int[] rows = new int[p];
    int[] limits = new int[p];
    for (int i = 0; i < p; i++) {
      rows[i] = i;
      limits[i] = prompt.length();
    }
    att.run(q, HQ * D, rows, limits, p, cache, 0, prompt.pages(), prompt.length(), scale, promptStates);
    assertClose(name + " o_prompt", f.tensor("o_prompt").toFloats(), promptStates.o, rtol(c), atol(c));
    assertClose(name + " lse_prompt", f.tensor("lse_prompt").toFloats(), promptStates.lse, rtol(c), atol(c));
    AttentionStates own = new AttentionStates(p, HQ, D);
    for (int i = 0; i < p; i++) {
      KvSegment s = csr.segment(i);
      att.run(q, HQ * D, new int[] {i}, new int[] {s.length()}, 1, cache, 0, s.pages(), s.length(), scale, own);
    }
    assertClose(name + " o_own", f.tensor("o_own").toFloats(), own.o, rtol(c), atol(c));
    assertClose(name + " lse_own", f.tensor("lse_own").toFloats(), own.lse, rtol(c), atol(c));

    List<AttentionGroup> groups = new ArrayList<>();
    for (int i = 0; i < p; i++) groups.add(new AttentionGroup(i, 1, List.of(prompt), csr.segment(i)));
    check(name, c, f, groups, q, p);
  }

  /** Groups of several requests in one batch, each over its own list of the segment table's rows. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("ragged")
  void ragged(String name, JsonObject c) {
    SafeTensors f = TestVectors.open(c);
    Csr csr = Csr.of(f, "seg_indptr", c);
    int[] qo = f.tensor("qo_indptr").toInts(), gi = f.tensor("group_indptr").toInts(), gs = f.tensor("group_segments").toInts();
    List<KvSegment> segments = new ArrayList<>();
    for (int i = 0; i < csr.count(); i++) segments.add(csr.segment(i));
    List<AttentionGroup> groups = new ArrayList<>();
    for (int g = 0; g + 1 < qo.length; g++) {
      List<KvSegment> visible = new ArrayList<>();
      for (int i = gi[g]; i + 1 < gi[g + 1]; i++) visible.add(segments.get(gs[i]));
      groups.add(new AttentionGroup(qo[g], qo[g + 1] - qo[g], visible, segments.get(gs[gi[g + 1] - 1])));
    }
    check(name, c, f, groups, f.tensor("q").toFloats(), qo[qo.length - 1]);
  }

  @Test
  void merge() {
    for (JsonObject c : TestVectors.cases("merge")) {
      String name = c.get("name").getAsString();
      SafeTensors f = TestVectors.open(c);
      AttentionStates a = new AttentionStates(f.tensor("o_a").toFloats(), f.tensor("lse_a").toFloats(), HQ, D);
      AttentionStates b = new AttentionStates(f.tensor("o_b").toFloats(), f.tensor("lse_b").toFloats(), HQ, D);
      int rows = a.lse.length / HQ;
      for (int r = 0; r < rows; r++) a.merge(b, r);
      assertClose(name + " o", f.tensor("o").toFloats(), a.o, rtol(c), atol(c));
      assertClose(name + " lse", f.tensor("lse").toFloats(), a.lse, rtol(c), atol(c));
    }
  }

  /** Runs the groups through PagedAttention and compares the merged o and lse with the case's. */
  private static void check(String name, JsonObject c, SafeTensors f, List<AttentionGroup> groups, float[] q, int tokens) {
    int pageSize = scalars(c).get("page_size").getAsInt();
    PagedAttention att = new PagedAttention(POOL, HQ, HKV, D, pageSize);
    KvCache cache = KvCache.fromNhd(bits(f.tensor("k_cache")), bits(f.tensor("v_cache")), pageSize, HKV, D);
    AttentionStates out = att.run(PagedAttention.plan(groups), tokens, q, HQ * D, cache, 0);
    assertClose(name + " o", f.tensor("o").toFloats(), Arrays.copyOf(out.o, tokens * HQ * D), rtol(c), atol(c));
    assertClose(name + " lse", f.tensor("lse").toFloats(), Arrays.copyOf(out.lse, tokens * HQ), rtol(c), atol(c));
  }

  /** A CSR page table: sequence b holds pages {@code indices[indptr[b], indptr[b+1])}. */
  record Csr(int[] indptr, int[] indices, int[] lastPageLen, int pageSize) {
    static Csr of(SafeTensors f, String indptr, JsonObject c) {
      return new Csr(f.tensor(indptr).toInts(), f.tensor("indices").toInts(), f.tensor("last_page_len").toInts(),
          scalars(c).get("page_size").getAsInt());
    }

    int count() {
      return indptr.length - 1;
    }

    KvSegment segment(int b) {
      int[] pages = Arrays.copyOfRange(indices, indptr[b], indptr[b + 1]);
      return new KvSegment(pages, pages.length == 0 ? 0 : (pages.length - 1) * pageSize + lastPageLen[b]);
    }
  }
}
