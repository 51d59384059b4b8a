package dev.ptk.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json} run by the Hugging Face tokenizers library (through DJL,
 * which bundles the native library): no truncation, no padding, and no special tokens added except
 * the BOS that {@link #encode} is asked for. Added tokens such as {@code <think1>} are matched in
 * the text and stay visible in {@link #decode}.
 */
public final class Tokenizer implements AutoCloseable {
  static {
    // Use the CPU build bundled in the jar: never look for (or download) a CUDA flavour.
    if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
    if (System.getProperty("RUST_FLAVOR") == null) System.setProperty("RUST_FLAVOR", "cpu");
  }

  private final Path file;
  private final HuggingFaceTokenizer hf;
  private SpecialTokens special;

  private Tokenizer(Path file, HuggingFaceTokenizer hf) {
    this.file = file;
    this.hf = hf;
  }

  /** Loads {@code tokenizer.json}, or the one inside a checkpoint directory. */
  public static Tokenizer load(Path fileOrDir) {
    Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve(Checkpoint.TOKENIZER) : fileOrDir;
    if (!Files.isRegularFile(file)) throw new ModelFormatException(file + ": missing");
    Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(file, options);
    } catch (IOException | RuntimeException e) {
      throw new ModelFormatException(file + ": cannot load tokenizer (" + e.getMessage() + ")", e);
    }
    return new Tokenizer(file, hf);
  }

  public Path file() {
    return file;
  }

  /**
   * The DeepSeek-distill and ParaThinker control tokens of this tokenizer, looked up on first use
   * (a base-model tokenizer without ParaThinker's tokens still encodes and decodes).
   */
  public synchronized SpecialTokens special() {
    if (special == null) special = SpecialTokens.lookUp(this);
    return special;
  }

  /**
   * Token ids of {@code text}. With {@code addBos} the BOS id comes first, as the released
   * tokenizer's post-processor does for {@code add_special_tokens=True}; special-token text inside
   * {@code text} (e.g. {@code <｜User｜>}) always maps to its id.
   */
  public int[] encode(String text, boolean addBos) {
    long[] ids = hf.encode(text, false, false).getIds();
    int offset = addBos ? 1 : 0;
    int[] out = new int[ids.length + offset];
    if (addBos) out[0] = id(SpecialTokens.BOS);
    for (int i = 0; i < ids.length; i++) out[i + offset] = Math.toIntExact(ids[i]);
    return out;
  }

  /** Text of {@code ids}, special tokens included verbatim. */
  public String decode(int[] ids) {
    return hf.decode(longs(ids), false);
  }

  /**
   * Text of {@code ids} as a reader sees it: without the tokens the tokenizer marks special (the
   * path and summary markers, BOS/EOS, pads).
   */
  public String decodeText(int[] ids) {
    return hf.decode(longs(ids), true);
  }

  private static long[] longs(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) l[i] = ids[i];
    return l;
  }

  /** The id of a token given by its text (an added token such as {@code <think3>}, or one vocabulary entry). */
  public int id(String token) {
    long[] ids = hf.encode(token, false, false).getIds();
    if (ids.length != 1) {
      throw new ModelFormatException(file + ": token \"" + token + "\" is not in the vocabulary (it encodes to " + ids.length + " ids)");
    }
    return Math.toIntExact(ids[0]);
  }

  @Override
  public void close() {
    hf.close();
  }
}
