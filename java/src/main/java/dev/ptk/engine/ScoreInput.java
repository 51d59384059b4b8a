package dev.ptk.engine;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A whole ParaThinker sequence to score, as in a {@code score} JSON file:
 * {@code {"prompt": [ids], "paths": [[ids], ...], "summary": [ids], "summaryPosition": "engine"|"training"}}
 * ({@code summaryPosition} is optional; null when absent).
 */
public record ScoreInput(int[] prompt, List<int[]> paths, int[] summary, SummaryPosition summaryPosition) {
  private static final Set<String> FIELDS = Set.of("prompt", "paths", "summary", "summaryPosition");

  /** Reads a score file; a malformed one is an IllegalArgumentException naming the file and field. */
  public static ScoreInput read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException(file + ": malformed JSON (" + e.getMessage() + ")", e);
    }
    if (!root.isJsonObject()) throw new IllegalArgumentException(file + ": not a JSON object");
    JsonObject o = root.getAsJsonObject();
    for (String key : o.keySet()) {
      if (!FIELDS.contains(key)) throw new IllegalArgumentException(file + ": unknown field \"" + key + "\" (fields: " + FIELDS + ")");
    }
    int[] prompt = ids(o.get("prompt"), file, "prompt");
    if (prompt.length == 0) throw new IllegalArgumentException(file + ": field \"prompt\" is empty");
    JsonElement p = o.get("paths");
    if (p == null || !p.isJsonArray()) throw new IllegalArgumentException(file + ": field \"paths\" must be an array of id arrays");
    List<int[]> paths = new ArrayList<>();
    JsonArray arr = p.getAsJsonArray();
    for (int i = 0; i < arr.size(); i++) {
      int[] path = ids(arr.get(i), file, "paths[" + i + "]");
      if (path.length == 0) throw new IllegalArgumentException(file + ": field \"paths[" + i + "]\" is empty");
      paths.add(path);
    }
    int[] summary = ids(o.get("summary"), file, "summary");
    SummaryPosition position = null;
    if (o.has("summaryPosition")) {
      JsonElement e = o.get("summaryPosition");
      String v = e.isJsonPrimitive() ? e.getAsString() : e.toString();
      position = switch (v) {
        case "engine" -> SummaryPosition.ENGINE;
        case "training" -> SummaryPosition.TRAINING;
        default -> throw new IllegalArgumentException(file + ": field \"summaryPosition\" must be \"engine\" or \"training\", got " + e);
      };
    }
    return new ScoreInput(prompt, List.copyOf(paths), summary, position);
  }

  private static int[] ids(JsonElement e, Path file, String field) {
    if (e == null || !e.isJsonArray()) throw new IllegalArgumentException(file + ": field \"" + field + "\" must be an array of token ids");
    JsonArray a = e.getAsJsonArray();
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement x = a.get(i);
      double d = x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber() ? x.getAsDouble() : Double.NaN;
      if (d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(file + ": field \"" + field + "\"[" + i + "] is not a token id: " + x);
      }
      out[i] = (int) d;
    }
    return out;
  }

  /** Rows the scorer returns: prompt, every path, summary. */
  public int length() {
    int n = prompt.length + summary.length;
    for (int[] p : paths) n += p.length;
    return n;
  }

  /** KV pages the sequence occupies: prompt, each path and the summary each start on a fresh page. */
  public int pagesNeeded(int pageSize) {
    int pages = PagePool.pagesFor(prompt.length, pageSize) + PagePool.pagesFor(summary.length, pageSize);
    for (int[] p : paths) pages += PagePool.pagesFor(p.length, pageSize);
    return pages;
  }

  /** n, the longest path. */
  public int pathLength() {
    int n = 0;
    for (int[] p : paths) n = Math.max(n, p.length);
    return n;
  }
}
