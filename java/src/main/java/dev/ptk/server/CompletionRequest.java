package dev.ptk.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.ptk.backend.SamplingParams;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.model.Json;
import dev.ptk.model.ModelFormatException;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A chat or text completion request, read from its JSON body and checked field by field: every
 * error names its field. ParaThinker's own fields ({@code paths}, {@code termination},
 * {@code summary_position}, {@code summary_max_tokens}) sit beside OpenAI's; absent fields take
 * the released example's values (temperature 0.5, top-p 1, first-finish, engine position, 128
 * summary tokens). {@code max_tokens} is per path, rounded up to whole KV pages.
 *
 * @param question what the model is asked: a chat's user message (after its system message, if
 *     any) or a completion's prompt; the engine wraps it in the ParaThinker template
 */
record CompletionRequest(String model, String question, boolean stream, boolean includeUsage, GenerationOptions options) {
  /** What a request may ask for on this server. */
  record Limits(String modelName, int pageSize, int maxPaths, int maxTokens) {}

  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool", "developer");

  static CompletionRequest parse(String body, boolean chat, Limits limits) {
    JsonObject o = object(body);
    String model = o.has("model") ? string(o, "model") : limits.modelName();
    if (!model.equals(limits.modelName())) {
      throw new ApiError(400, "invalid_request_error", "model", "model_not_found",
          "The model '" + model + "' does not exist; this server serves '" + limits.modelName() + "'");
    }
    String question = chat ? question(o) : prompt(o);
    boolean stream = o.has("stream") && bool(o, "stream");
    boolean includeUsage = false;
    if (o.has("stream_options") && !o.get("stream_options").isJsonNull()) {
      if (!o.get("stream_options").isJsonObject()) throw ApiError.invalid("stream_options", "stream_options must be an object");
      JsonObject so = o.getAsJsonObject("stream_options");
      includeUsage = so.has("include_usage") && bool(so, "include_usage");
    }
    if (o.has("n") && integer(o, "n") != 1) throw ApiError.invalid("n", "n must be 1: one answer per request (its paths come with it)");

    int paths = o.has("paths") ? integer(o, "paths") : 1;
    if (paths < 1 || paths > limits.maxPaths()) {
      throw ApiError.invalid("paths", "paths must be in [1, " + limits.maxPaths() + "], got " + paths);
    }
    String tokensField = o.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    int maxTokens = o.has(tokensField) ? integer(o, tokensField) : limits.maxTokens();
    if (maxTokens < 1 || maxTokens > limits.maxTokens()) {
      throw ApiError.invalid(tokensField, tokensField + " (per path) must be in [1, " + limits.maxTokens()
          + "] (the server's --max-tokens), got " + maxTokens);
    }
    maxTokens = (maxTokens + limits.pageSize() - 1) / limits.pageSize() * limits.pageSize();
    double temperature = o.has("temperature") ? number(o, "temperature") : GenerationOptions.DEFAULT_TEMPERATURE;
    if (!(temperature >= 0 && temperature <= 2)) throw ApiError.invalid("temperature", "temperature must be in [0, 2], got " + temperature);
    double topP = o.has("top_p") ? number(o, "top_p") : 1;
    if (!(topP > 0 && topP <= 1)) throw ApiError.invalid("top_p", "top_p must be in (0, 1], got " + topP);
    int topK = o.has("top_k") ? integer(o, "top_k") : 0;
    if (topK == -1) topK = 0;  // vLLM's "off"
    if (topK < 0) throw ApiError.invalid("top_k", "top_k must be >= 0 (0 or -1 = off), got " + topK);
    long seed = o.has("seed") ? longInteger(o, "seed") : ThreadLocalRandom.current().nextLong(1L << 53);
    Termination termination = Termination.FIRST_FINISH;
    if (o.has("termination")) {
      termination = Termination.parse(string(o, "termination"));
      if (termination == null) {
        throw ApiError.invalid("termination", "termination must be first, all or ratio:R with 0 < R <= 1, got "
            + o.get("termination"));
      }
    }
    SummaryPosition position = SummaryPosition.ENGINE;
    if (o.has("summary_position")) {
      position = SummaryPosition.parse(string(o, "summary_position"));
      if (position == null) {
        throw ApiError.invalid("summary_position", "summary_position must be engine or training, got " + o.get("summary_position"));
      }
    }
    int summaryMax = o.has("summary_max_tokens") ? integer(o, "summary_max_tokens") : GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS;
    if (summaryMax < 2) throw ApiError.invalid("summary_max_tokens", "summary_max_tokens must be at least 2 (it counts <summary>), got " + summaryMax);
    SamplingParams sampling = new SamplingParams(temperature, topP, topK, seed);
    return new CompletionRequest(model, question, stream, includeUsage,
        new GenerationOptions(paths, maxTokens, sampling, termination, position, summaryMax));
  }

  /** A chat's question: its one user message, after an optional system message. */
  private static String question(JsonObject o) {
    if (!o.has("messages")) throw ApiError.invalid("messages", "messages is required");
    if (!o.get("messages").isJsonArray()) throw ApiError.invalid("messages", "messages must be an array");
    JsonArray messages = o.getAsJsonArray("messages");
    String system = null;
    String user = null;
    for (int i = 0; i < messages.size(); i++) {
      String field = "messages[" + i + "]";
      if (!messages.get(i).isJsonObject()) throw ApiError.invalid(field, field + " must be an object");
      JsonObject m = messages.get(i).getAsJsonObject();
      String role = string(m, "role", field + ".role");
      if (!ROLES.contains(role)) throw ApiError.invalid(field + ".role", field + ".role '" + role + "' is not a chat role");
      String content = string(m, "content", field + ".content");
      if (role.equals("system") || role.equals("developer")) {
        if (i != 0) throw ApiError.invalid(field, "a system message may only come first");
        system = content;
      } else if (role.equals("user") && user == null) {
        user = content;
      } else {
        throw ApiError.invalid(field, "ParaThinker answers one question: messages holds one user message, after an "
            + "optional system message (" + field + " is a further " + role + " message)");
      }
    }
    if (user == null) throw ApiError.invalid("messages", "messages must hold a user message");
    return system == null ? user : system + "\n\n" + user;
  }

  private static String prompt(JsonObject o) {
    if (!o.has("prompt")) throw ApiError.invalid("prompt", "prompt is required");
    JsonElement p = o.get("prompt");
    if (p.isJsonArray() && p.getAsJsonArray().size() == 1) p = p.getAsJsonArray().get(0);
    if (!(p.isJsonPrimitive() && p.getAsJsonPrimitive().isString())) {
      throw ApiError.invalid("prompt", "prompt must be a string (or an array of one string)");
    }
    return p.getAsString();
  }

  private static JsonObject object(String body) {
    try {
      return Json.parseObject(body, "the request body");
    } catch (ModelFormatException e) {
      throw ApiError.invalid(null, e.getMessage());
    }
  }

  private static String string(JsonObject o, String key) {
    return string(o, key, key);
  }

  private static String string(JsonObject o, String key, String field) {
    JsonElement e = o.get(key);
    if (e == null || !(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
      throw ApiError.invalid(field, field + " must be a string");
    }
    return e.getAsString();
  }

  private static boolean bool(JsonObject o, String key) {
    JsonElement e = o.get(key);
    if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean())) throw ApiError.invalid(key, key + " must be true or false");
    return e.getAsBoolean();
  }

  private static double number(JsonObject o, String key) {
    JsonElement e = o.get(key);
    if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) throw ApiError.invalid(key, key + " must be a number");
    return e.getAsDouble();
  }

  private static long longInteger(JsonObject o, String key) {
    JsonElement e = o.get(key);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      JsonPrimitive p = e.getAsJsonPrimitive();
      try {
        return p.getAsBigDecimal().longValueExact();
      } catch (ArithmeticException notWhole) {
        // reported below
      }
    }
    throw ApiError.invalid(key, key + " must be an integer, got " + e);
  }

  private static int integer(JsonObject o, String key) {
    long v = longInteger(o, key);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw ApiError.invalid(key, key + " is out of range: " + v);
    return (int) v;
  }
}
