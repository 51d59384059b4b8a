package dev.ptk.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code results.jsonl}: one problem solved once in one mode at P paths. {@code
 * tokensPerPath} has one entry per decoded path (per member run in majority mode, its path's
 * tokens); {@code totalTokens} also counts the summaries. {@code votes} holds the member answers in
 * majority mode and is empty otherwise.
 */
public record RunResult(String id, Mode mode, int paths, int sample, String answer, String gold, boolean correct,
    List<Integer> tokensPerPath, int totalTokens, double latencyMs, List<String> votes) {

  /** What identifies a run for resuming. */
  public record Key(String id, Mode mode, int paths, int sample) {}

  public RunResult {
    tokensPerPath = List.copyOf(tokensPerPath);
    votes = new ArrayList<>(votes); // member runs may have no answer (null)
    latencyMs = Math.round(latencyMs * 1000) / 1000.0; // as written to the log, so a resumed summary is the same
  }

  public Key key() {
    return new Key(id, mode, paths, sample);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("id", id);
    o.addProperty("mode", mode.label());
    o.addProperty("paths", paths);
    o.addProperty("sample", sample);
    o.addProperty("answer", answer);
    o.addProperty("gold", gold);
    o.addProperty("correct", correct);
    JsonArray tokens = new JsonArray();
    tokensPerPath.forEach(tokens::add);
    o.add("tokens_per_path", tokens);
    o.addProperty("total_tokens", totalTokens);
    o.addProperty("latency_ms", latencyMs);
    if (!votes.isEmpty()) {
      JsonArray v = new JsonArray();
      votes.forEach(v::add);
      o.add("votes", v);
    }
    return o;
  }

  /** Reads a line written by {@link #toJson}; throws IllegalArgumentException naming a bad field. */
  public static RunResult fromJson(JsonObject o) {
    try {
      List<Integer> tokens = new ArrayList<>();
      for (JsonElement e : array(o, "tokens_per_path")) tokens.add(e.getAsInt());
      List<String> votes = new ArrayList<>();
      if (o.has("votes")) {
        for (JsonElement e : array(o, "votes")) votes.add(e.isJsonNull() ? null : e.getAsString());
      }
      JsonElement answer = field(o, "answer");
      return new RunResult(field(o, "id").getAsString(), Mode.parse(field(o, "mode").getAsString()),
          field(o, "paths").getAsInt(), field(o, "sample").getAsInt(), answer.isJsonNull() ? null : answer.getAsString(),
          field(o, "gold").getAsString(), field(o, "correct").getAsBoolean(), tokens, field(o, "total_tokens").getAsInt(),
          field(o, "latency_ms").getAsDouble(), votes);
    } catch (UnsupportedOperationException | IllegalStateException | NumberFormatException e) {
      throw new IllegalArgumentException("a field has the wrong type (" + e.getMessage() + ")");
    }
  }

  private static JsonElement field(JsonObject o, String name) {
    JsonElement e = o.get(name);
    if (e == null) throw new IllegalArgumentException("missing field '" + name + "'");
    return e;
  }

  private static JsonArray array(JsonObject o, String name) {
    JsonElement e = field(o, name);
    if (!e.isJsonArray()) throw new IllegalArgumentException("field '" + name + "' must be an array");
    return e.getAsJsonArray();
  }
}
