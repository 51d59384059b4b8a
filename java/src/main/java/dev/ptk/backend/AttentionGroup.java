package dev.ptk.backend;

import java.util.List;

/**
 * Consecutive batch tokens {@code [firstToken, firstToken + numTokens)} that attend alike: to every
 * segment of {@code visible} in full, and to {@code own} causally. The group's tokens are the last
 * {@code numTokens} of {@code own} (their K/V are appended by the same forward pass before
 * attention), so token {@code j} of the group sees own tokens {@code 0 .. own.length() - numTokens + j}.
 *
 * <p>Phase 1: one group per path, visible = [prompt], own = the path. Summary: visible = [prompt,
 * path 1, …, path P], own = the summary. Prompt prefill: visible = [], own = the prompt. Groups that
 * see equal visible segments ({@link KvSegment#equals}) share their reads (the prompt is read once for all paths).
 */
public record AttentionGroup(int firstToken, int numTokens, List<KvSegment> visible, KvSegment own) {}
