package dev.ptk.cli;

import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelFormatException;
import dev.ptk.model.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** The checkpoint a command's {@code --model} names; a missing or malformed file is a usage error. */
final class ModelFiles {
  private ModelFiles() {}

  static Path modelDir(Options options) {
    Path model = options.existingPath("--model");
    if (!Files.isDirectory(model)) throw new UsageException("--model: " + model + " is not a directory");
    return model;
  }

  static Checkpoint openCheckpoint(Path dir) {
    try {
      return Checkpoint.open(dir);
    } catch (ModelFormatException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** The checkpoint's tokenizer, its control tokens looked up now so that a missing one fails here. */
  static Tokenizer openTokenizer(Checkpoint checkpoint) {
    try {
      Tokenizer t = Tokenizer.load(checkpoint.tokenizerFile());
      t.special();
      return t;
    } catch (ModelFormatException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
