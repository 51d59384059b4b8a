package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.engine.ScoreInput;
import dev.ptk.engine.Scorer;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ptk score}: teacher-forced logits of a whole ParaThinker sequence, written as .npy. */
final class ScoreCommand implements Command {
  static final String USAGE = """
      usage: ptk score --model DIR --input SEQ.json --out LOGITS.npy [options]
        --model DIR                checkpoint directory
        --input SEQ.json           {"prompt": [ids], "paths": [[ids], ...], "summary": [ids],
                                   "summaryPosition": "engine"|"training" (optional)}
        --out LOGITS.npy           float32 [N, vocab] rows: prompt, path 1..P, summary
        --summary-position engine|training   overrides the file's (default engine: 2*Lp+n; training: Lp+n;
                                   n = the longest path)
        --yarn off|F               RoPE: off = config.json's (default), F = YaRN factor F (original length 9280)
        --kv-pages N               KV pool size in pages of 16 tokens (default: what the sequence needs)
        --backend cpu|cuda|sim|auto  default auto (CUDA when a GPU is present); sim: the
                                   simulated device (the kernels on the host, for validation; slow)
      """;

  @Override
  public String name() {
    return "score";
  }

  @Override
  public String summary() {
    return "teacher-forced logits of a prompt, paths and summary, as .npy";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = ModelFiles.modelDir(options);
    Path inputFile = options.existingPath("--input");
    Path outFile = Path.of(options.required("--out"));
    String positionText = options.string("--summary-position", null);
    String yarn = options.string("--yarn", "off");
    String kvPages = options.string("--kv-pages", null);
    String backendName = Backends.choose(options.string("--backend", "auto"));
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("unexpected argument '" + options.positional().get(0) + "'");
    Path parent = outFile.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) throw new UsageException("--out: directory " + parent + " does not exist");

    ScoreInput input = ScoreFile.read(inputFile);
    SummaryPosition position = positionText != null ? CommonFlags.summaryPosition(positionText)
        : input.summaryPosition() != null ? input.summaryPosition() : SummaryPosition.ENGINE;
    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model)) {
      RopeScaling scaling = Backends.yarn(yarn, checkpoint.config().ropeScaling(), null);
      int pages = kvPages != null ? CommonFlags.kvPages(kvPages) : input.pagesNeeded(Backends.PAGE_SIZE);
      float[][] logits;
      try (Backend backend = Backends.open(backendName, checkpoint, scaling, pages)) {
        try {
          logits = new Scorer(backend).score(input, position);
        } catch (IllegalArgumentException e) {
          throw new UsageException(inputFile + ": " + e.getMessage());
        }
      }
      try {
        Npy.write(outFile, logits);
      } catch (IOException e) {
        throw new UncheckedIOException(outFile + ": cannot write (" + e.getMessage() + ")", e);
      }
      out.printf("wrote %d x %d float32 logits to %s (prompt %d, paths %d, summary %d tokens; summary position %s)%n",
          logits.length, logits.length == 0 ? 0 : logits[0].length, outFile, input.prompt().length, input.paths().size(),
          input.summary().length, position.name().toLowerCase());
    }
    return 0;
  }
}
