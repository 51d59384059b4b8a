package dev.ptk.eval;

import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code results.jsonl}: every finished run, one line each, appended and flushed as soon as it
 * is done so that an interrupted evaluation resumes where it stopped. A line that cannot be read
 * back (the half-written last line of a killed run) is reported and its run done again.
 */
public final class ResultLog implements AutoCloseable {
  private final Path file;
  private final Map<RunResult.Key, RunResult> done = new LinkedHashMap<>();
  private BufferedWriter out;

  private ResultLog(Path file) {
    this.file = file;
  }

  /** Opens (creating when absent) the log and reads the runs already in it. */
  public static ResultLog open(Path file, PrintStream warnings) {
    ResultLog log = new ResultLog(file);
    try {
      String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
      String[] lines = text.split("\n");
      for (int i = 0; i < lines.length; i++) {
        if (lines[i].isBlank()) continue;
        try {
          RunResult r = RunResult.fromJson(JsonParser.parseString(lines[i]).getAsJsonObject());
          log.done.put(r.key(), r);
        } catch (IllegalArgumentException | IllegalStateException | JsonParseException e) {
          warnings.println(file + ":" + (i + 1) + ": unreadable result, the run will be repeated: " + e.getMessage());
        }
      }
      log.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      if (!text.isEmpty() && !text.endsWith("\n")) log.out.newLine(); // finish a half-written line
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
    }
    return log;
  }

  /** The run with this key, or null when it has not been done. */
  public RunResult get(RunResult.Key key) {
    return done.get(key);
  }

  public void append(RunResult r) {
    try {
      out.write(r.toJson().toString());
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    done.put(r.key(), r);
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }
}
