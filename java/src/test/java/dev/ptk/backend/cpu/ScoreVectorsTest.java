package dev.ptk.backend.cpu;

import static dev.ptk.backend.cpu.Vectors.assertClose;
import static dev.ptk.backend.cpu.Vectors.scalars;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.BatchChunks;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The model-level {@code score} cases through {@link CpuBackend#forward} on the tiny checkpoint:
 * prompt, P paths and summary with their positions, segment ids and attention rules, in one
 * forward, one token per forward, and as the engine steps (paths in lockstep); each must give the
 * reference logits of every token.
 */
class ScoreVectorsTest {
  static final int PAGE = 16;
  static final int PAGES = 64;

  static Stream<Arguments> scoreCases() {
    return Vectors.cases("score").stream().flatMap(c -> Stream.of("logits_engine", "logits_training")
        .map(which -> Arguments.of(c.get("name").getAsString() + " " + which, c, which)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void allTokensInOneForward(String name, JsonObject c, String which) throws IOException {
    Sequence seq = Sequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      int[] all = new int[seq.tokens.length];
      for (int i = 0; i < all.length; i++) all[i] = i;
      float[][] logits = backend.forward(new ForwardBatch(seq.tokens, seq.positions, seq.segments, seq.slots, seq.groups(), all));
      check(name + " batch", c, which, logits);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void oneTokenPerForward(String name, JsonObject c, String which) throws IOException {
    Sequence seq = Sequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      float[][] logits = new float[seq.tokens.length][];
      for (int t = 0; t < seq.tokens.length; t++) {
        ForwardBatch b = new ForwardBatch(new int[] {seq.tokens[t]}, new int[] {seq.positions[t]},
            new int[] {seq.segments[t]}, new int[] {seq.slots[t]}, List.of(seq.groupOf(t)), new int[] {0});
        logits[t] = backend.forward(b)[0];
      }
      check(name + " token by token", c, which, logits);
    }
  }

  /** The one-forward batch cut by {@link BatchChunks} into parts of 7 tokens, so that every segment is cut somewhere. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void allTokensInChunks(String name, JsonObject c, String which) throws IOException {
    Sequence seq = Sequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      int[] all = new int[seq.tokens.length];
      for (int i = 0; i < all.length; i++) all[i] = all.length - 1 - i;  // rows in reverse: the chunks map them back
      ForwardBatch whole = new ForwardBatch(seq.tokens, seq.positions, seq.segments, seq.slots, seq.groups(), all);
      List<BatchChunks.Chunk> chunks = BatchChunks.split(whole, 7, PAGE);
      assertEquals((all.length + 6) / 7, chunks.size());
      float[][] reversed = new float[all.length][];
      for (BatchChunks.Chunk chunk : chunks) {
        float[][] part = backend.forward(chunk.batch());
        for (int i = 0; i < part.length; i++) reversed[chunk.rows()[i]] = part[i];
      }
      float[][] logits = new float[all.length][];
      for (int i = 0; i < all.length; i++) logits[all[i]] = reversed[i];
      check(name + " in chunks", c, which, logits);
    }
  }

  /** As the engine runs: the prompt in one forward, then one token of every unfinished path per forward, then the summary. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void pathsInLockstep(String name, JsonObject c, String which) throws IOException {
    Sequence seq = Sequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      float[][] logits = new float[seq.tokens.length][];
      int paths = seq.ranges.size() - 2;
      forward(backend, seq, List.of(0), 0, logits);
      for (int k = 0; ; k++) {
        List<Integer> step = new ArrayList<>();
        for (int p = 1; p <= paths; p++) {
          if (k < seq.ranges.get(p)[1]) step.add(seq.ranges.get(p)[0] + k);
        }
        if (step.isEmpty()) break;
        forward(backend, seq, step, -1, logits);
      }
      forward(backend, seq, List.of(seq.ranges.get(paths + 1)[0]), paths + 1, logits);
      check(name + " lockstep", c, which, logits);
    }
  }

  /**
   * One forward: the whole segment {@code part} when {@code part >= 0} (starting at {@code tokens.get(0)}),
   * else the single tokens listed, each as its own group.
   */
  private static void forward(CpuBackend backend, Sequence seq, List<Integer> tokens, int part, float[][] logits) {
    int[] ids;
    List<AttentionGroup> groups = new ArrayList<>();
    if (part >= 0) {
      int first = seq.ranges.get(part)[0], n = seq.ranges.get(part)[1];
      ids = new int[n];
      for (int i = 0; i < n; i++) ids[i] = first + i;
      groups.add(new AttentionGroup(0, n, seq.visible(part), seq.segmentsInOrder.get(part)));
    } else {
      ids = tokens.stream().mapToInt(Integer::intValue).toArray();
      for (int i = 0; i < ids.length; i++) {
        AttentionGroup g = seq.groupOf(ids[i]);
        groups.add(new AttentionGroup(i, 1, g.visible(), g.own()));
      }
    }
    int n = ids.length;
    int[] tok = new int[n], pos = new int[n], seg = new int[n], slot = new int[n], rows = new int[n];
    for (int i = 0; i < n; i++) {
      tok[i] = seq.tokens[ids[i]];
      pos[i] = seq.positions[ids[i]];
      seg[i] = seq.segments[ids[i]];
      slot[i] = seq.slots[ids[i]];
      rows[i] = i;
    }
    float[][] out = backend.forward(new ForwardBatch(tok, pos, seg, slot, groups, rows));
    for (int i = 0; i < n; i++) logits[ids[i]] = out[i];
  }

  private static CpuBackend backend(JsonObject c) {
    Checkpoint ck = Checkpoint.open(Vectors.DIR.resolve(c.get("model_dir").getAsString()));
    ModelConfig config = ck.config();
    JsonObject s = scalars(c);
    if (s.get("yarn_factor").getAsDouble() > 1) {
      config = config.withRopeScaling(RopeScaling.yarn(s.get("yarn_factor").getAsDouble(), s.get("yarn_original_max").getAsInt(),
          s.get("beta_fast").getAsDouble(), s.get("beta_slow").getAsDouble()));
    }
    return new CpuBackend(config, ck.weights(), PAGE, PAGES);
  }

  private static void check(String what, JsonObject c, String which, float[][] logits) {
    float[] want = SafeTensors.open(Vectors.DIR.resolve(c.get("file").getAsString())).tensor(which).toFloats();
    int v = want.length / logits.length;
    float[] got = new float[want.length];
    for (int t = 0; t < logits.length; t++) System.arraycopy(logits[t], 0, got, t * v, v);
    assertClose(what, want, got, Vectors.rtol(c), Vectors.atol(c));
  }

  /**
   * prompt | path 1..P | summary as the engine lays them out: prompt positions 0..Lp-1 (segment 0),
   * path i at Lp + k (segment i), summary at base + t (segment 0); every segment on pages taken
   * from a shuffled pool.
   */
  static final class Sequence {
    int[] tokens, positions, segments, slots;
    final List<KvSegment> segmentsInOrder = new ArrayList<>(); // prompt, paths, summary
    final List<int[]> ranges = new ArrayList<>(); // [first token, count] of each segment

    static Sequence of(JsonObject c, String which) throws IOException {
      JsonObject ids = JsonParser.parseString(Files.readString(Vectors.DIR.resolve(c.get("tokens").getAsString()))).getAsJsonObject();
      JsonObject s = scalars(c);
      int base = s.get(which.equals("logits_engine") ? "summary_base_engine" : "summary_base_training").getAsInt();
      List<Integer> free = new ArrayList<>();
      for (int p = 0; p < PAGES; p++) free.add(p);
      Collections.shuffle(free, new Random(7));
      Sequence seq = new Sequence();
      List<int[]> parts = new ArrayList<>();
      parts.add(ints(ids.getAsJsonArray("prompt")));
      for (JsonElement p : ids.getAsJsonArray("paths")) parts.add(ints(p.getAsJsonArray()));
      parts.add(ints(ids.getAsJsonArray("summary")));
      int lp = parts.get(0).length;
      int total = parts.stream().mapToInt(a -> a.length).sum();
      seq.tokens = new int[total];
      seq.positions = new int[total];
      seq.segments = new int[total];
      seq.slots = new int[total];
      int t = 0;
      for (int part = 0; part < parts.size(); part++) {
        int[] p = parts.get(part);
        int[] pages = new int[(p.length + PAGE - 1) / PAGE];
        for (int i = 0; i < pages.length; i++) pages[i] = free.remove(free.size() - 1);
        seq.segmentsInOrder.add(new KvSegment(pages, p.length));
        seq.ranges.add(new int[] {t, p.length});
        boolean summary = part == parts.size() - 1;
        for (int k = 0; k < p.length; k++, t++) {
          seq.tokens[t] = p[k];
          seq.positions[t] = part == 0 ? k : summary ? base + k : lp + k;
          seq.segments[t] = part == 0 || summary ? 0 : part;
          seq.slots[t] = pages[k / PAGE] * PAGE + k % PAGE;
        }
      }
      return seq;
    }

    /** What segment {@code part} sees in full: nothing (prompt), the prompt (paths), everything before (summary). */
    List<KvSegment> visible(int part) {
      if (part == 0) return List.of();
      if (part < segmentsInOrder.size() - 1) return List.of(segmentsInOrder.get(0));
      return segmentsInOrder.subList(0, part);
    }

    List<AttentionGroup> groups() {
      List<AttentionGroup> g = new ArrayList<>();
      for (int part = 0; part < ranges.size(); part++) {
        g.add(new AttentionGroup(ranges.get(part)[0], ranges.get(part)[1], visible(part), segmentsInOrder.get(part)));
      }
      return g;
    }

    /** Token t alone: its own segment holds the tokens up to and including it. */
    AttentionGroup groupOf(int t) {
      int part = 0;
      while (t >= ranges.get(part)[0] + ranges.get(part)[1]) part++;
      KvSegment own = segmentsInOrder.get(part);
      return new AttentionGroup(0, 1, visible(part), new KvSegment(own.pages(), t - ranges.get(part)[0] + 1));
    }

    private static int[] ints(JsonArray a) {
      int[] out = new int[a.size()];
      for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
      return out;
    }
  }
}
