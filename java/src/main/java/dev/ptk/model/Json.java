package dev.ptk.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Strict JSON reading for the checkpoint's and the CLI's files. Duplicate object keys are an error
 * (Gson's tree parser would keep the last one silently), and every typed getter names the file and
 * the field.
 */
public final class Json {
  private Json() {}

  public static JsonObject readObject(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ModelFormatException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    return parseObject(text, file.toString());
  }

  /** Parses one JSON object; {@code where} names the source in error messages. */
  public static JsonObject parseObject(String text, String where) {
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      JsonElement root = read(reader, where);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new ModelFormatException(where + ": text after the JSON value");
      }
      if (!root.isJsonObject()) throw new ModelFormatException(where + ": not a JSON object");
      return root.getAsJsonObject();
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new ModelFormatException(where + ": malformed JSON (" + e.getMessage() + ")", e);
    }
  }

  private static JsonElement read(JsonReader r, String where) throws IOException {
    switch (r.peek()) {
      case BEGIN_OBJECT -> {
        JsonObject o = new JsonObject();
        r.beginObject();
        while (r.hasNext()) {
          String name = r.nextName();
          if (o.has(name)) throw new ModelFormatException(where + ": duplicate key \"" + name + "\"");
          o.add(name, read(r, where));
        }
        r.endObject();
        return o;
      }
      case BEGIN_ARRAY -> {
        JsonArray a = new JsonArray();
        r.beginArray();
        while (r.hasNext()) a.add(read(r, where));
        r.endArray();
        return a;
      }
      case STRING -> {
        return new JsonPrimitive(r.nextString());
      }
      case NUMBER -> {
        return new JsonPrimitive(new BigDecimal(r.nextString()));
      }
      case BOOLEAN -> {
        return new JsonPrimitive(r.nextBoolean());
      }
      case NULL -> {
        r.nextNull();
        return JsonNull.INSTANCE;
      }
      default -> throw new ModelFormatException(where + ": malformed JSON at " + r.getPath());
    }
  }

  static boolean has(JsonObject o, String field) {
    return o.has(field) && !o.get(field).isJsonNull();
  }

  static JsonElement required(JsonObject o, String field, String where) {
    if (!has(o, field)) throw new ModelFormatException(where + ": missing field \"" + field + "\"");
    return o.get(field);
  }

  static long asLong(JsonElement e, String field, String where) {
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      try {
        return e.getAsBigDecimal().longValueExact();
      } catch (ArithmeticException ignored) {
        // falls through to the error below
      }
    }
    throw new ModelFormatException(where + ": field \"" + field + "\" must be an integer, got " + e);
  }

  public static int asInt(JsonElement e, String field, String where) {
    long v = asLong(e, field, where);
    if (v != (int) v) throw new ModelFormatException(where + ": field \"" + field + "\" out of range: " + v);
    return (int) v;
  }

  static int integer(JsonObject o, String field, String where) {
    return asInt(required(o, field, where), field, where);
  }

  static int integer(JsonObject o, String field, int fallback, String where) {
    return has(o, field) ? integer(o, field, where) : fallback;
  }

  static double real(JsonObject o, String field, String where) {
    JsonElement e = required(o, field, where);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) return e.getAsDouble();
    throw new ModelFormatException(where + ": field \"" + field + "\" must be a number, got " + e);
  }

  static double real(JsonObject o, String field, double fallback, String where) {
    return has(o, field) ? real(o, field, where) : fallback;
  }

  static boolean bool(JsonObject o, String field, boolean fallback, String where) {
    if (!has(o, field)) return fallback;
    JsonElement e = o.get(field);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) return e.getAsBoolean();
    throw new ModelFormatException(where + ": field \"" + field + "\" must be true or false, got " + e);
  }

  static String string(JsonObject o, String field, String where) {
    JsonElement e = required(o, field, where);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) return e.getAsString();
    throw new ModelFormatException(where + ": field \"" + field + "\" must be a string, got " + e);
  }

  static JsonObject object(JsonObject o, String field, String where) {
    JsonElement e = required(o, field, where);
    if (e.isJsonObject()) return e.getAsJsonObject();
    throw new ModelFormatException(where + ": field \"" + field + "\" must be an object, got " + e);
  }
}
