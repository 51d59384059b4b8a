package dev.ptk.backend.cpu;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import dev.ptk.testing.TestVectors;
import dev.ptk.testing.Tolerance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * A model-level {@code score} case of test-vectors/ laid out as the engine lays it out: prompt
 * positions 0..Lp-1 (segment 0), path i at Lp + k (segment i), summary at base + t (segment 0);
 * every segment on pages taken from a shuffled pool of {@link #PAGES}. With the ways to run it
 * through any backend and the check of its logits against the reference.
 */
public final class ScoreSequence {
  public static final int PAGE = 16;
  public static final int PAGES = 64;

  final JsonObject manifestCase;
  final String which;
  int[] tokens, positions, segments, slots;
  final List<KvSegment> segmentsInOrder = new ArrayList<>(); // prompt, paths, summary
  final List<int[]> ranges = new ArrayList<>(); // [first token, count] of each segment

  private ScoreSequence(JsonObject manifestCase, String which) {
    this.manifestCase = manifestCase;
    this.which = which;
  }

  /** Every score case with each summary position: (display name, manifest case, "logits_engine" or "logits_training"). */
  public static Stream<Arguments> cases() {
    return TestVectors.cases("score").stream().flatMap(c -> Stream.of("logits_engine", "logits_training")
        .map(which -> Arguments.of(c.get("name").getAsString() + " " + which, c, which)));
  }

  /** The case's sequence for the summary position {@code which}. */
  public static ScoreSequence of(JsonObject c, String which) {
    JsonObject ids;
    try {
      ids = JsonParser.parseString(Files.readString(TestVectors.file(c.get("tokens").getAsString()))).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonObject s = TestVectors.scalars(c);
    int base = s.get(which.equals("logits_engine") ? "summary_base_engine" : "summary_base_training").getAsInt();
    List<Integer> free = new ArrayList<>();
    for (int p = 0; p < PAGES; p++) free.add(p);
    Collections.shuffle(free, new Random(7));
    ScoreSequence seq = new ScoreSequence(c, which);
    List<int[]> parts = new ArrayList<>();
    parts.add(TestVectors.ints(ids.getAsJsonArray("prompt")));
    for (JsonElement p : ids.getAsJsonArray("paths")) parts.add(TestVectors.ints(p.getAsJsonArray()));
    parts.add(TestVectors.ints(ids.getAsJsonArray("summary")));
    int lp = parts.get(0).length;
    int total = parts.stream().mapToInt(a -> a.length).sum();
    seq.tokens = new int[total];
    seq.positions = new int[total];
    seq.segments = new int[total];
    seq.slots = new int[total];
    int t = 0;
    for (int part = 0; part < parts.size(); part++) {
      int[] p = parts.get(part);
      int[] pages = new int[KvSegment.pagesFor(p.length, PAGE)];
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

  /** The tiny checkpoint's config with the case's RoPE (YaRN where the case has a factor above 1). */
  public static ModelConfig config(JsonObject c, Checkpoint checkpoint) {
    JsonObject s = TestVectors.scalars(c);
    if (s.get("yarn_factor").getAsDouble() <= 1) return checkpoint.config();
    return checkpoint.config().withRopeScaling(RopeScaling.yarn(s.get("yarn_factor").getAsDouble(),
        s.get("yarn_original_max").getAsInt(), s.get("beta_fast").getAsDouble(), s.get("beta_slow").getAsDouble()));
  }

  /** The case's checkpoint (test-vectors/tiny-model). */
  public static Checkpoint checkpoint(JsonObject c) {
    return Checkpoint.open(TestVectors.file(c.get("model_dir").getAsString()));
  }

  public int size() {
    return tokens.length;
  }

  public int promptLength() {
    return ranges.get(0)[1];
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

  /**
   * Every token in one forward, each group as the engine would never batch them, with the logit
   * rows in any order (so that a test can check rows are returned as asked): hence no BatchBuilder.
   */
  ForwardBatch whole(int[] logitRows) {
    return new ForwardBatch(tokens, positions, segments, slots, groups(), logitRows);
  }

  /** The logits of every token, one token per forward. */
  public float[][] oneTokenPerForward(Backend backend) {
    float[][] logits = new float[tokens.length][];
    for (int t = 0; t < tokens.length; t++) logits[t] = backend.forward(alone(new BatchBuilder(), t).batch())[0];
    return logits;
  }

  /** Adds token t as a group of its own, with its logits. */
  private BatchBuilder alone(BatchBuilder b, int t) {
    AttentionGroup g = groupOf(t);
    return b.add(g.visible(), g.own(), segments[t], positions[t], new int[] {tokens[t]}, new int[] {slots[t]}, Logits.LAST);
  }

  /** As the engine runs: the prompt in one forward, then one token of every unfinished path per forward, then the summary. */
  public float[][] pathsInLockstep(Backend backend) {
    float[][] logits = new float[tokens.length][];
    int paths = ranges.size() - 2;
    forward(backend, List.of(0), 0, logits);
    for (int k = 0; ; k++) {
      List<Integer> step = new ArrayList<>();
      for (int p = 1; p <= paths; p++) {
        if (k < ranges.get(p)[1]) step.add(ranges.get(p)[0] + k);
      }
      if (step.isEmpty()) break;
      forward(backend, step, -1, logits);
    }
    forward(backend, List.of(ranges.get(paths + 1)[0]), paths + 1, logits);
    return logits;
  }

  /**
   * One forward: the whole segment {@code part} when {@code part >= 0}, else the single tokens
   * listed, each as its own group.
   */
  private void forward(Backend backend, List<Integer> listed, int part, float[][] logits) {
    BatchBuilder b = new BatchBuilder();
    int[] ids;
    if (part >= 0) {
      int first = ranges.get(part)[0], n = ranges.get(part)[1];
      ids = new int[n];
      for (int i = 0; i < n; i++) ids[i] = first + i;
      b.add(visible(part), segmentsInOrder.get(part), segments[first], positions[first],
          Arrays.copyOfRange(tokens, first, first + n), Arrays.copyOfRange(slots, first, first + n), Logits.ALL);
    } else {
      ids = listed.stream().mapToInt(Integer::intValue).toArray();
      for (int t : ids) alone(b, t);
    }
    float[][] out = backend.forward(b.batch());
    for (int i = 0; i < ids.length; i++) logits[ids[i]] = out[i];
  }

  /** The reference logits of every token within the manifest's tolerance (what a float32 forward meets). */
  public void check(String what, float[][] logits) {
    Tolerance.assertClose(what, reference(), flat(logits), manifestCase);
  }

  /** The reference logits of every token, row after row. */
  public float[] reference() {
    return TestVectors.open(manifestCase).tensor(which).toFloats();
  }

  /** Rows of logits as one array, row after row. */
  public static float[] flat(float[][] rows) {
    int v = rows[0].length;
    float[] out = new float[rows.length * v];
    for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, out, r * v, v);
    return out;
  }

}
