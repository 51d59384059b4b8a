package dev.ptk.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a benchmark file: one JSON object per line with {@code problem} (string), {@code answer}
 * (string or number) and an optional {@code id} (string or number; the 1-based line number when
 * absent). Blank lines are ignored. A bad line (not JSON, a missing or empty field, a duplicate
 * id) is reported as {@code FILE:LINE: reason} and skipped; every good line is kept.
 */
public final class ProblemSet {
  private ProblemSet() {}

  public static List<Problem> read(Path file, PrintStream warnings) {
    List<Problem> problems = new ArrayList<>();
    Map<String, Integer> firstLine = new HashMap<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int lineNo = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNo++;
        if (line.isBlank()) continue;
        try {
          Problem p = parse(line, lineNo);
          Integer earlier = firstLine.putIfAbsent(p.id(), lineNo);
          if (earlier != null) throw new IllegalArgumentException("duplicate id '" + p.id() + "' (first on line " + earlier + ")");
          problems.add(p);
        } catch (IllegalArgumentException e) {
          warnings.println(file + ":" + lineNo + ": skipped: " + e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return problems;
  }

  private static Problem parse(String line, int lineNo) {
    JsonElement json;
    try {
      JsonReader reader = new JsonReader(new StringReader(line));
      reader.setStrictness(Strictness.STRICT);
      json = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) throw new JsonParseException("text after the JSON value");
    } catch (JsonParseException | IOException e) {
      throw new IllegalArgumentException("not valid JSON (" + rootCause(e) + ")");
    }
    if (!json.isJsonObject()) throw new IllegalArgumentException("not a JSON object");
    JsonObject o = json.getAsJsonObject();
    String problem = scalar(o, "problem", false);
    String answer = scalar(o, "answer", true);
    String id = o.has("id") ? scalar(o, "id", true) : Integer.toString(lineNo);
    return new Problem(id, problem, answer);
  }

  /** A non-empty string field, or a number when {@code numberOk}, as text. */
  private static String scalar(JsonObject o, String field, boolean numberOk) {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) throw new IllegalArgumentException("missing field '" + field + "'");
    if (!e.isJsonPrimitive()) throw new IllegalArgumentException("field '" + field + "' must be a string" + (numberOk ? " or a number" : ""));
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (!(p.isString() || (numberOk && p.isNumber()))) {
      throw new IllegalArgumentException("field '" + field + "' must be a string" + (numberOk ? " or a number" : ""));
    }
    String s = p.getAsString();
    if (s.isBlank()) throw new IllegalArgumentException("field '" + field + "' is empty");
    return s;
  }

  /** Gson's message as one line, without its advice to parse leniently; "column" is within the line. */
  private static String rootCause(Throwable e) {
    while (e.getCause() != null) e = e.getCause();
    String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
    return first.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept ", "").replace(" line 1 column ", " column ");
  }
}
