package dev.ptk.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ptk.engine.ScoreInput;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.model.Json;
import dev.ptk.model.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@code score} input file: {@code {"prompt": [ids], "paths": [[ids], ...], "summary": [ids],
 * "summaryPosition": "engine"|"training"}} ({@code summaryPosition} is optional; null when absent).
 */
final class ScoreFile {
  private static final Set<String> FIELDS = Set.of("prompt", "paths", "summary", "summaryPosition");

  private ScoreFile() {}

  /** Reads a score file; a malformed one is a usage error naming the file and the field. */
  static ScoreInput read(Path file) {
    JsonObject o;
    try {
      o = Json.readObject(file);
    } catch (ModelFormatException e) {
      throw new UsageException(e.getMessage());
    }
    for (String key : o.keySet()) {
      if (!FIELDS.contains(key)) throw error(file, "unknown field \"" + key + "\" (fields: " + FIELDS + ")");
    }
    int[] prompt = ids(o.get("prompt"), file, "prompt");
    if (prompt.length == 0) throw error(file, "field \"prompt\" is empty");
    JsonElement p = o.get("paths");
    if (p == null || !p.isJsonArray()) throw error(file, "field \"paths\" must be an array of id arrays");
    List<int[]> paths = new ArrayList<>();
    JsonArray arr = p.getAsJsonArray();
    for (int i = 0; i < arr.size(); i++) {
      int[] path = ids(arr.get(i), file, "paths[" + i + "]");
      if (path.length == 0) throw error(file, "field \"paths[" + i + "]\" is empty");
      paths.add(path);
    }
    int[] summary = ids(o.get("summary"), file, "summary");
    SummaryPosition position = null;
    if (o.has("summaryPosition")) {
      JsonElement e = o.get("summaryPosition");
      String v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : "";
      position = switch (v) {
        case "engine" -> SummaryPosition.ENGINE;
        case "training" -> SummaryPosition.TRAINING;
        default -> throw error(file, "field \"summaryPosition\" must be \"engine\" or \"training\", got " + e);
      };
    }
    return new ScoreInput(prompt, List.copyOf(paths), summary, position);
  }

  private static int[] ids(JsonElement e, Path file, String field) {
    if (e == null || !e.isJsonArray()) throw error(file, "field \"" + field + "\" must be an array of token ids");
    JsonArray a = e.getAsJsonArray();
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      String element = field + "[" + i + "]";
      try {
        out[i] = Json.asInt(a.get(i), element, file.toString());
      } catch (ModelFormatException x) {
        throw new UsageException(x.getMessage());
      }
      if (out[i] < 0) throw error(file, "field \"" + element + "\" is not a token id: " + out[i]);
    }
    return out;
  }

  private static UsageException error(Path file, String what) {
    return new UsageException(file + ": " + what);
  }
}
