package dev.ptk.cli;

import dev.ptk.model.Checkpoint;
import dev.ptk.model.RandomCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ptk init-random --config FILE --out DIR --seed S [--tokenizer DIR|FILE]}: a random-weight checkpoint. */
final class InitRandomCommand implements Command {
  @Override
  public String name() {
    return "init-random";
  }

  @Override
  public String summary() {
    return "write a checkpoint of a config.json's shape with random BF16 weights";
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path config = options.existingPath("--config");
    Path dir = Path.of(options.required("--out"));
    options.required("--seed");
    int seed = options.integer("--seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
    String tok = options.string("--tokenizer", null);
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("init-random takes no positional arguments");
    if (!Files.isRegularFile(config)) throw new UsageException("--config: " + config + " is not a file");
    Path tokenizer = tok == null ? null : Path.of(tok);
    if (tokenizer != null && !Files.exists(tokenizer)) throw new UsageException("--tokenizer: " + tokenizer + " does not exist");
    if (Files.exists(dir.resolve(Checkpoint.SINGLE_FILE)) || Files.exists(dir.resolve(Checkpoint.CONFIG))) {
      throw new UsageException("--out: " + dir + " already holds a checkpoint");
    }
    try {
      RandomCheckpoint.write(config, dir, seed, tokenizer);
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
    }
    out.println("wrote " + dir.resolve(Checkpoint.SINGLE_FILE));
    return 0;
  }
}
