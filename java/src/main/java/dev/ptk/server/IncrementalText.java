package dev.ptk.server;

import java.util.Arrays;
import java.util.function.Function;

/**
 * One output's text as its tokens arrive: each token yields the text it completes. A token that
 * ends inside a multi-byte character yields nothing until the character is whole, and text is
 * decoded over a short window of recent tokens only (the tokens since the last piece of text), so
 * a long path costs the same per token as a short one: one decode per token, one more per piece. The pieces add up to the decoded output.
 */
final class IncrementalText {
  private final Function<int[], String> decode;
  private int[] tokens = new int[64];
  private int size;
  private int prefixOffset;  // decoding starts here (context for the tokenizer's spacing rules)
  private int readOffset;  // text up to here was handed out
  private String handedOut = "";  // the text of [prefixOffset, readOffset), decoded once per move

  IncrementalText(Function<int[], String> decode) {
    this.decode = decode;
  }

  /** The new text that {@code token} completes ("" while a character is still incomplete). */
  String add(int token) {
    if (size == tokens.length) tokens = Arrays.copyOf(tokens, 2 * size);
    tokens[size++] = token;
    String now = decode.apply(Arrays.copyOfRange(tokens, prefixOffset, size));
    if (now.length() <= handedOut.length() || now.endsWith("\uFFFD")) return "";
    String piece = now.substring(handedOut.length());
    prefixOffset = readOffset;
    readOffset = size;
    handedOut = decode.apply(Arrays.copyOfRange(tokens, prefixOffset, readOffset));
    return piece;
  }

  /** What is left once the output ends (a final incomplete character, as the decoder renders it). */
  String flush() {
    String now = decode.apply(Arrays.copyOfRange(tokens, prefixOffset, size));
    String rest = now.length() > handedOut.length() ? now.substring(handedOut.length()) : "";
    prefixOffset = readOffset = size;
    handedOut = "";
    return rest;
  }
}
