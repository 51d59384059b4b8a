package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.Sampler;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A backend without a model: its "KV cache" records which token was written to each slot, and its
 * logits put 1 on the token a script chooses (0 elsewhere), so a test decides what is sampled.
 * Tokens are drawn from those logits by the shared {@link Sampler}. It checks the batch contract on
 * every call (slots inside the own segment, groups covering the batch) and keeps every batch and
 * sampling request for later assertions.
 */
final class ScriptedBackend implements Backend {
  /** Chooses the token "sampled" after the token at {@code position} with segment id {@code segment}. */
  interface Script {
    int next(int segment, int position, int token);
  }

  static final int VOCAB = 64;
  private final int pageSize;
  private final int numPages;
  private final ModelConfig config;
  private final Script script;
  private final Map<Integer, Integer> cache = new HashMap<>();
  final List<ForwardBatch> batches = new ArrayList<>();
  final List<SamplingRequest> requests = new ArrayList<>();

  ScriptedBackend(int pageSize, int numPages, int maxSegments, Script script) {
    this.pageSize = pageSize;
    this.numPages = numPages;
    this.config = new ModelConfig(8, 1, 1, 1, 8, VOCAB, 4096, 10000, RopeScaling.NONE, 1e-6, false, maxSegments, 1, 2);
    this.script = script;
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public int pageSize() {
    return pageSize;
  }

  @Override
  public int numPages() {
    return numPages;
  }

  @Override
  public float[][] forward(ForwardBatch batch) {
    batches.add(batch);
    int covered = 0;
    for (AttentionGroup g : batch.groups()) {
      assertEquals(covered, g.firstToken(), "groups cover the batch in order");
      covered += g.numTokens();
      KvSegment own = g.own();
      for (int j = 0; j < g.numTokens(); j++) {
        int i = g.firstToken() + j;
        int slot = batch.slots()[i];
        int index = own.length() - g.numTokens() + j;
        assertEquals(own.pages()[index / pageSize] * pageSize + index % pageSize, slot, "slot of token " + i);
        cache.put(slot, batch.tokens()[i]);
      }
    }
    assertEquals(batch.size(), covered, "groups cover every token");
    float[][] logits = new float[batch.logitRows().length][];
    for (int r = 0; r < logits.length; r++) {
      int i = batch.logitRows()[r];
      int chosen = script.next(batch.segmentIds()[i], batch.positions()[i], batch.tokens()[i]);
      assertTrue(chosen >= 0 && chosen < VOCAB, "script token " + chosen);
      logits[r] = new float[VOCAB];
      logits[r][chosen] = 1;
    }
    return logits;
  }

  @Override
  public int[] sample(ForwardBatch batch, SamplingRequest request) {
    request.requireRowsOf(batch);
    requests.add(request);
    return Sampler.sample(forward(batch), request);
  }

  /** The tokens this backend's cache holds for a segment, in order. */
  int[] read(KvSegment s) {
    int[] out = new int[s.length()];
    for (int i = 0; i < out.length; i++) out[i] = cache.get(s.pages()[i / pageSize] * pageSize + i % pageSize);
    return out;
  }

  @Override
  public String describe() {
    return "scripted";
  }

  @Override
  public void close() {}
}
