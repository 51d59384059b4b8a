package dev.ptk.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one place a {@link ForwardBatch} is put together: groups are added in order, each a run of
 * tokens at consecutive positions of one segment id that attend alike (to {@code visible} in full,
 * to {@code own} causally, {@code own} ending with these tokens), with the logits wanted of none,
 * the last or all of them; a sampled group also records its draw key, so that {@link #sampling()}
 * lines up with the batch's logit rows.
 */
public final class BatchBuilder {
  /** Which of a group's tokens get a logit row. */
  public enum Logits { NONE, LAST, ALL }

  private int[] tokens = new int[16];
  private int[] positions = new int[16];
  private int[] segmentIds = new int[16];
  private int[] slots = new int[16];
  private int size;
  private final List<AttentionGroup> groups = new ArrayList<>();
  private int[] logitRows = new int[16];
  private int rows;
  private final List<SamplingParams> draws = new ArrayList<>();
  private int[] pathIds = new int[16];
  private int[] steps = new int[16];

  /** Tokens in the batch so far. */
  public int size() {
    return size;
  }

  /** Logit rows asked for so far. */
  public int logitRows() {
    return rows;
  }

  /**
   * Adds {@code ids} at positions {@code firstPosition, firstPosition + 1, …}, all of segment
   * {@code segmentId}, their K/V written to {@code slots}.
   */
  public BatchBuilder add(List<KvSegment> visible, KvSegment own, int segmentId, int firstPosition, int[] ids,
      int[] slots, Logits logits) {
    if (ids.length == 0) throw new IllegalArgumentException("a group needs at least one token");
    if (slots.length != ids.length) {
      throw new IllegalArgumentException(ids.length + " token ids but " + slots.length + " slots");
    }
    int first = size;
    reserve(size + ids.length);
    for (int i = 0; i < ids.length; i++, size++) {
      tokens[size] = ids[i];
      positions[size] = firstPosition + i;
      segmentIds[size] = segmentId;
      this.slots[size] = slots[i];
    }
    groups.add(new AttentionGroup(first, ids.length, visible, own));
    switch (logits) {
      case LAST -> row(size - 1);
      case ALL -> {
        for (int t = first; t < size; t++) row(t);
      }
      case NONE -> {}
    }
    return this;
  }

  /** As {@link #add} with the last token's logits, drawn with {@code params} and key (pathId, step). */
  public BatchBuilder addSampled(List<KvSegment> visible, KvSegment own, int segmentId, int firstPosition, int[] ids,
      int[] slots, SamplingParams params, int pathId, int step) {
    add(visible, own, segmentId, firstPosition, ids, slots, Logits.LAST);
    int r = rows - 1;
    while (draws.size() < r) draws.add(null);  // rows of unsampled groups: sampling() rejects them
    draws.add(params);
    pathIds = grow(pathIds, rows);
    steps = grow(steps, rows);
    pathIds[r] = pathId;
    steps[r] = step;
    return this;
  }

  /** A one-token group: the shape of every decode row. */
  public BatchBuilder addSampled(List<KvSegment> visible, KvSegment own, int segmentId, int position, int id, int slot,
      SamplingParams params, int pathId, int step) {
    return addSampled(visible, own, segmentId, position, new int[] {id}, new int[] {slot}, params, pathId, step);
  }

  public ForwardBatch batch() {
    return new ForwardBatch(Arrays.copyOf(tokens, size), Arrays.copyOf(positions, size), Arrays.copyOf(segmentIds, size),
        Arrays.copyOf(slots, size), List.copyOf(groups), Arrays.copyOf(logitRows, rows));
  }

  /** The draw keys of the logit rows, in order; every logit row must come from an addSampled group. */
  public SamplingRequest sampling() {
    if (draws.size() != rows || draws.contains(null)) {
      throw new IllegalStateException("every logit row needs a draw key: a group was added with logits but not sampled");
    }
    return new SamplingRequest(draws.toArray(new SamplingParams[0]), Arrays.copyOf(pathIds, rows),
        Arrays.copyOf(steps, rows));
  }

  private void row(int token) {
    logitRows = grow(logitRows, rows + 1);
    logitRows[rows++] = token;
  }

  private void reserve(int n) {
    tokens = grow(tokens, n);
    positions = grow(positions, n);
    segmentIds = grow(segmentIds, n);
    slots = grow(slots, n);
  }

  private static int[] grow(int[] a, int n) {
    return n <= a.length ? a : Arrays.copyOf(a, Math.max(n, 2 * a.length));
  }
}
