package dev.ptk.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.ptk.engine.FinishReason;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.PathOutput;
import java.util.function.Function;

/**
 * The OpenAI API's response shapes, for chat ({@code chat.completion}, {@code chat.completion.chunk})
 * and text completions ({@code text_completion}). The answer is the summary, in {@code content}
 * ({@code text} for completions); the paths are {@code reasoning_content}, as vLLM's reasoning
 * parsers return it, with ParaThinker's extensions: {@code path} (1..P) on every reasoning delta,
 * {@code paths} in a full response, and per-path counts in {@code usage}.
 */
final class Responses {
  private final String model;
  private final Function<int[], String> text;

  /** @param text token ids to the text a reader sees (special tokens dropped) */
  Responses(String model, Function<int[], String> text) {
    this.model = model;
    this.text = text;
  }

  static String finishReason(FinishReason f) {
    return f == FinishReason.STOP ? "stop" : "length";
  }

  /** The whole answer of a request that did not stream. */
  JsonObject complete(String id, long created, boolean chat, GenerationResult r) {
    JsonObject choice = new JsonObject();
    choice.addProperty("index", 0);
    String summary = text.apply(r.summaryTokens());
    StringBuilder reasoning = new StringBuilder();
    JsonArray paths = new JsonArray();
    for (PathOutput p : r.paths()) {
      String t = text.apply(p.tokens());
      if (reasoning.length() > 0) reasoning.append("\n\n");
      reasoning.append(t);
      JsonObject path = new JsonObject();
      path.addProperty("index", p.index());
      path.addProperty("text", t);
      path.addProperty("finish_reason", p.finish().name().toLowerCase());
      path.addProperty("tokens", p.tokens().length);
      paths.add(path);
    }
    if (chat) {
      JsonObject message = new JsonObject();
      message.addProperty("role", "assistant");
      message.addProperty("content", summary);
      message.addProperty("reasoning_content", reasoning.toString());
      message.add("paths", paths);
      choice.add("message", message);
    } else {
      choice.addProperty("text", summary);
      choice.addProperty("reasoning_content", reasoning.toString());
      choice.add("paths", paths);
      choice.add("logprobs", JsonNull.INSTANCE);
    }
    choice.addProperty("finish_reason", finishReason(r.summaryFinish()));
    JsonObject body = envelope(id, created, chat ? "chat.completion" : "text_completion");
    JsonArray choices = new JsonArray();
    choices.add(choice);
    body.add("choices", choices);
    body.add("usage", usage(r));
    body.addProperty("seed", r.seed());
    return body;
  }

  /** A streamed chunk with one choice: {@code delta} (chat) or the fields of a text choice. */
  JsonObject chunk(String id, long created, boolean chat, JsonObject delta, String finishReason) {
    JsonObject choice = new JsonObject();
    choice.addProperty("index", 0);
    if (chat) {
      choice.add("delta", delta);
    } else {
      if (!delta.has("text")) choice.addProperty("text", "");
      for (var e : delta.entrySet()) choice.add(e.getKey(), e.getValue());
      choice.add("logprobs", JsonNull.INSTANCE);
    }
    if (finishReason == null) choice.add("finish_reason", JsonNull.INSTANCE);
    else choice.addProperty("finish_reason", finishReason);
    JsonObject body = envelope(id, created, chat ? "chat.completion.chunk" : "text_completion");
    JsonArray choices = new JsonArray();
    choices.add(choice);
    body.add("choices", choices);
    return body;
  }

  /** The last chunk when the client asked for usage: no choices, the counts. */
  JsonObject usageChunk(String id, long created, boolean chat, GenerationResult r) {
    JsonObject body = envelope(id, created, chat ? "chat.completion.chunk" : "text_completion");
    body.add("choices", new JsonArray());
    body.add("usage", usage(r));
    return body;
  }

  /** The delta of text for path {@code path} (0: the summary, which is the content). */
  static JsonObject delta(boolean chat, int path, String piece) {
    JsonObject d = new JsonObject();
    if (path == 0) {
      d.addProperty(chat ? "content" : "text", piece);
    } else {
      d.addProperty("reasoning_content", piece);
      d.addProperty("path", path);
    }
    return d;
  }

  static JsonObject usage(GenerationResult r) {
    JsonObject u = new JsonObject();
    int pathTokens = 0;
    JsonArray perPath = new JsonArray();
    for (PathOutput p : r.paths()) {
      pathTokens += p.tokens().length;
      perPath.add(p.tokens().length);
    }
    int completion = pathTokens + r.summaryTokens().length;
    u.addProperty("prompt_tokens", r.promptLength());
    u.addProperty("completion_tokens", completion);
    u.addProperty("total_tokens", r.promptLength() + completion);
    JsonObject details = new JsonObject();
    details.addProperty("reasoning_tokens", pathTokens);
    u.add("completion_tokens_details", details);
    u.add("path_tokens", perPath);
    u.addProperty("summary_tokens", r.summaryTokens().length);
    return u;
  }

  private JsonObject envelope(String id, long created, String object) {
    JsonObject body = new JsonObject();
    body.addProperty("id", id);
    body.addProperty("object", object);
    body.addProperty("created", created);
    body.addProperty("model", model);
    return body;
  }
}
