package dev.ptk.cli.bench;

import dev.ptk.engine.Timings;

/**
 * Independent sequences of one prompt (see {@link IndependentSequences}).
 *
 * @param tokens each sequence's tokens
 * @param timings the prefill of every prompt copy, then the decoding ({@code pathTokens}: all sequences' tokens)
 */
public record IndependentResult(int[][] tokens, Timings timings) {}
