package dev.ptk.backend;

import java.util.List;

/**
 * One forward pass over a ragged batch of tokens. Per token: id, RoPE position, segment id (the
 * thought-embedding row: 0 for prompt and summary, i for path i) and the KV-cache slot
 * ({@code page * pageSize + offset}) its K/V are written to. {@code groups} cover every token once.
 * {@code logitRows} are the token indices whose logits are wanted, in the order returned.
 */
public record ForwardBatch(
    int[] tokens, int[] positions, int[] segmentIds, int[] slots, List<AttentionGroup> groups, int[] logitRows) {

  public int size() {
    return tokens.length;
  }
}
