package dev.ptk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code ptk serve}'s server over a real socket, with the JDK's HTTP client, on the tiny
 * checkpoint (CPU backend): every answer is checked against the same request run directly on the
 * engine, token for token.
 */
class ServerTest {
  static final Path TINY = Path.of("..", "test-vectors", "tiny-model");
  static final String MODEL = "tiny";
  static final int PAGES = 2048;
  private static Tokenizer tokenizer;
  private static Checkpoint checkpoint;
  private static CpuBackend served;
  private static EngineLoop loop;
  private static OpenAiServer server;
  private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    tokenizer = Tokenizer.load(TINY);
    checkpoint = Checkpoint.open(TINY);
    served = backend();
    loop = new EngineLoop(ParaThinkerEngine.of(served, tokenizer, 4));
    server = new OpenAiServer(loop, tokenizer, new OpenAiServer.Config("127.0.0.1", 0, MODEL, 4, 8, 4096));
  }

  @AfterAll
  static void stop() {
    server.close();
    loop.close();
    served.close();
    checkpoint.close();
    tokenizer.close();
  }

  static CpuBackend backend() {
    return new CpuBackend(checkpoint.config().withRopeScaling(RopeScaling.NONE), checkpoint.weights(),
        CpuBackend.DEFAULT_PAGE_SIZE, PAGES);
  }

  /** The request run directly on an engine of its own: what the server must answer. */
  static GenerationResult direct(String question, GenerationOptions options) {
    try (CpuBackend b = backend()) {
      int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, question, b.pageSize());
      return ParaThinkerEngine.of(b, tokenizer).generate(prompt, options, ProgressListener.NONE);
    }
  }

  static GenerationOptions greedy(int paths, int maxTokens) {
    return new GenerationOptions(paths, maxTokens, new SamplingParams(0, 1, 0, 7), Termination.FIRST_FINISH,
        SummaryPosition.ENGINE, GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS);
  }

  static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(String s) {
    return JsonParser.parseString(s).getAsJsonObject();
  }

  static String chatBody(String question, int paths, int maxTokens, boolean stream) {
    return chat(question, paths, maxTokens, stream).toString();
  }

  static JsonObject chat(String question, int paths, int maxTokens, boolean stream) {
    JsonObject b = new JsonObject();
    b.addProperty("model", MODEL);
    JsonArray messages = new JsonArray();
    JsonObject m = new JsonObject();
    m.addProperty("role", "user");
    m.addProperty("content", question);
    messages.add(m);
    b.add("messages", messages);
    b.addProperty("max_tokens", maxTokens);
    b.addProperty("temperature", 0);
    b.addProperty("seed", 7);
    b.addProperty("paths", paths);
    b.addProperty("stream", stream);
    if (stream) {
      JsonObject so = new JsonObject();
      so.addProperty("include_usage", true);
      b.add("stream_options", so);
    }
    return b;
  }

  /** A long sampled run: every path decodes to its budget unless it stops. */
  static String longRun(String question, int paths, int maxTokens) {
    JsonObject b = chat(question, paths, maxTokens, true);
    b.addProperty("temperature", 1);
    b.addProperty("termination", "all");
    return b.toString();
  }

  @Test
  void aChatCompletionAnswersWithTheSummaryAndEveryPath() throws Exception {
    String q = "What is 7 times 6?";
    GenerationResult want = direct(q, greedy(3, 32));
    HttpResponse<String> r = post("/v1/chat/completions", chatBody(q, 3, 32, false));
    assertEquals(200, r.statusCode(), r.body());
    JsonObject body = json(r.body());
    assertEquals("chat.completion", body.get("object").getAsString());
    assertEquals(MODEL, body.get("model").getAsString());
    JsonObject choice = body.getAsJsonArray("choices").get(0).getAsJsonObject();
    JsonObject message = choice.getAsJsonObject("message");
    assertEquals("assistant", message.get("role").getAsString());
    assertEquals(tokenizer.decodeText(want.summaryTokens()), message.get("content").getAsString());
    JsonArray paths = message.getAsJsonArray("paths");
    assertEquals(3, paths.size());
    for (int p = 0; p < 3; p++) {
      assertEquals(tokenizer.decodeText(want.paths().get(p).tokens()), paths.get(p).getAsJsonObject().get("text").getAsString());
    }
    assertEquals(want.summaryFinish() == dev.ptk.engine.FinishReason.STOP ? "stop" : "length",
        choice.get("finish_reason").getAsString());
    JsonObject usage = body.getAsJsonObject("usage");
    int pathTokens = want.paths().stream().mapToInt(p -> p.tokens().length).sum();
    assertEquals(want.promptLength(), usage.get("prompt_tokens").getAsInt());
    assertEquals(pathTokens + want.summaryTokens().length, usage.get("completion_tokens").getAsInt());
    assertEquals(pathTokens, usage.getAsJsonObject("completion_tokens_details").get("reasoning_tokens").getAsInt());
    assertEquals(want.summaryTokens().length, usage.get("summary_tokens").getAsInt());
  }

  /** The data events of a stream, each parsed, up to {@code [DONE]} (which must come last). */
  static List<JsonObject> events(InputStream body) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      boolean done = false;
      for (String line; (line = in.readLine()) != null; ) {
        if (!line.startsWith("data: ")) continue;
        assertFalse(done, "nothing after [DONE]");
        String data = line.substring(6);
        if (data.equals("[DONE]")) done = true;
        else out.add(json(data));
      }
      assertTrue(done, "the stream ends with [DONE]");
    }
    return out;
  }

  @Test
  void aStreamedChatCarriesEveryPathByIndexThenTheSummary() throws Exception {
    String q = "Name a prime above 50.";
    GenerationResult want = direct(q, greedy(2, 48));
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(chatBody(q, 2, 48, true))).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    List<JsonObject> events = events(r.body());
    StringBuilder content = new StringBuilder();
    Map<Integer, StringBuilder> reasoning = new HashMap<>();
    String finish = null;
    JsonObject usage = null;
    for (JsonObject e : events) {
      assertEquals("chat.completion.chunk", e.get("object").getAsString());
      if (e.has("usage")) usage = e.getAsJsonObject("usage");
      for (JsonElement c : e.getAsJsonArray("choices")) {
        JsonObject choice = c.getAsJsonObject();
        JsonObject delta = choice.getAsJsonObject("delta");
        if (delta.has("content")) content.append(delta.get("content").getAsString());
        if (delta.has("reasoning_content")) {
          reasoning.computeIfAbsent(delta.get("path").getAsInt(), k -> new StringBuilder())
              .append(delta.get("reasoning_content").getAsString());
        }
        if (!choice.get("finish_reason").isJsonNull()) finish = choice.get("finish_reason").getAsString();
      }
    }
    assertEquals("assistant", events.get(0).getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("delta")
        .get("role").getAsString());
    assertEquals(tokenizer.decodeText(want.summaryTokens()), content.toString());
    for (int p = 1; p <= 2; p++) {
      assertEquals(tokenizer.decodeText(want.paths().get(p - 1).tokens()), reasoning.get(p).toString(), "path " + p);
    }
    assertNotNull(finish, "a finish reason");
    assertNotNull(usage, "usage, as stream_options asked");
    assertEquals(want.promptLength(), usage.get("prompt_tokens").getAsInt());
  }

  @Test
  void aTextCompletionAnswersStreamedAndWhole() throws Exception {
    String q = "2 + 2 = ?";
    GenerationResult want = direct(q, greedy(2, 32));
    String body = "{\"model\":\"tiny\",\"prompt\":\"" + q + "\",\"max_tokens\":32,\"temperature\":0,\"seed\":7,\"paths\":2}";
    HttpResponse<String> whole = post("/v1/completions", body);
    assertEquals(200, whole.statusCode(), whole.body());
    JsonObject choice = json(whole.body()).getAsJsonArray("choices").get(0).getAsJsonObject();
    assertEquals("text_completion", json(whole.body()).get("object").getAsString());
    assertEquals(tokenizer.decodeText(want.summaryTokens()), choice.get("text").getAsString());

    HttpResponse<InputStream> streamed = http.send(HttpRequest.newBuilder(uri("/v1/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(body.replace("}", ",\"stream\":true}"))).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    StringBuilder text = new StringBuilder();
    for (JsonObject e : events(streamed.body())) {
      for (JsonElement c : e.getAsJsonArray("choices")) {
        JsonObject ch = c.getAsJsonObject();
        if (!ch.has("path")) text.append(ch.get("text").getAsString());
      }
    }
    assertEquals(tokenizer.decodeText(want.summaryTokens()), text.toString());
  }

  private static void assertError(HttpResponse<String> r, int status, String param, String messagePart) {
    assertEquals(status, r.statusCode(), r.body());
    JsonObject error = json(r.body()).getAsJsonObject("error");
    assertTrue(error.get("message").getAsString().contains(messagePart), error.toString());
    if (param == null) assertTrue(error.get("param").isJsonNull(), error.toString());
    else assertEquals(param, error.get("param").getAsString(), error.toString());
    assertFalse(r.body().contains("at dev.ptk"), "no stack trace");
  }

  @Test
  void badRequestsGetAnOpenAiErrorNamingTheFieldAndDisturbNothing() throws Exception {
    assertError(post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": ["), 400, null, "malformed JSON");
    assertError(post("/v1/chat/completions", "[1, 2]"), 400, null, "not a JSON object");
    assertError(post("/v1/chat/completions", "{\"messages\": [], \"messages\": []}"), 400, null, "duplicate key");
    assertError(post("/v1/chat/completions", "{\"model\": \"gpt-9\", \"messages\": []}"), 400, "model", "gpt-9");
    assertEquals("model_not_found", json(post("/v1/chat/completions", "{\"model\": \"gpt-9\"}").body())
        .getAsJsonObject("error").get("code").getAsString());
    assertError(post("/v1/chat/completions", "{\"model\": \"tiny\"}"), 400, "messages", "required");
    assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}"), 400,
        "messages[0].content", "must be a string");
    assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
        + "{\"role\": \"user\", \"content\": \"b\"}]}"), 400, "messages[1]", "one user message");
    String hi = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], ";
    assertError(post("/v1/chat/completions", hi + "\"temperature\": \"hot\"}"), 400, "temperature", "must be a number");
    assertError(post("/v1/chat/completions", hi + "\"temperature\": 3}"), 400, "temperature", "[0, 2]");
    assertError(post("/v1/chat/completions", hi + "\"paths\": 0}"), 400, "paths", "paths must be in [1, ");
    assertError(post("/v1/chat/completions", hi + "\"paths\": 99}"), 400, "paths", "got 99");
    assertError(post("/v1/chat/completions", hi + "\"paths\": 1.5}"), 400, "paths", "must be an integer");
    assertError(post("/v1/chat/completions", hi + "\"max_tokens\": 100000}"), 400, "max_tokens", "--max-tokens");
    assertError(post("/v1/chat/completions", hi + "\"top_p\": 0}"), 400, "top_p", "(0, 1]");
    assertError(post("/v1/chat/completions", hi + "\"stream\": \"yes\"}"), 400, "stream", "true or false");
    assertError(post("/v1/chat/completions", hi + "\"termination\": \"never\"}"), 400, "termination", "first, all or ratio");
    assertError(post("/v1/chat/completions", hi + "\"summary_position\": 3}"), 400, "summary_position", "must be a string");
    assertError(post("/v1/chat/completions", hi + "\"n\": 2}"), 400, "n", "n must be 1");
    String longQuestion = "word ".repeat(5000);
    assertError(post("/v1/chat/completions", chatBody(longQuestion, 1, 16, false)), 400, "messages",
        "does not fit the model's context");
    assertError(post("/v1/completions", "{\"prompt\": [1, 2]}"), 400, "prompt", "must be a string");
    assertError(get("/v1/chat/completions"), 405, null, "use POST");
    assertError(get("/v2/nothing"), 404, null, "no route");

    HttpResponse<String> ok = post("/v1/chat/completions", chatBody("What is 7 times 6?", 2, 16, false));
    assertEquals(200, ok.statusCode(), "a good request after the bad ones: " + ok.body());
  }

  @Test
  void modelsHealthAndMetricsAnswer() throws Exception {
    JsonObject models = json(get("/v1/models").body());
    assertEquals("list", models.get("object").getAsString());
    assertEquals(MODEL, models.getAsJsonArray("data").get(0).getAsJsonObject().get("id").getAsString());
    assertEquals("ok", json(get("/health").body()).get("status").getAsString());
    assertEquals(200, post("/v1/chat/completions", chatBody("Sort 3, 1, 2.", 1, 16, false)).statusCode());
    HttpResponse<String> metrics = get("/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    Map<String, Double> m = Prometheus.parse(metrics.body());
    assertTrue(m.get("ptk_requests_total{outcome=\"completed\"}") >= 1, metrics.body());
    assertTrue(m.get("ptk_generated_tokens_total") > 0, metrics.body());
    assertEquals((double) PAGES, m.get("ptk_kv_pages"));
    assertTrue(m.get("ptk_steps_total") > 0);
    for (String name : List.of("ptk_requests_running", "ptk_requests_waiting", "ptk_kv_pages_in_use", "ptk_step_seconds_total")) {
      assertTrue(m.containsKey(name), name + " in " + metrics.body());
    }
  }

  @Test
  void aClientThatLeavesMidStreamCancelsItsRequestAndFreesItsPages() throws Exception {
    String body = longRun("Is 91 prime? Explain your reasoning step by step before answering.", 4, 4096);
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    int seen = 0;
    for (String line; seen < 5 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) seen++;
    assertEquals(5, seen, "the stream started");
    assertTrue(loop.snapshot().kvPagesInUse() > 0, "the request holds pages while it runs");
    in.close();  // the client goes away
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline && (loop.snapshot().kvPagesInUse() > 0 || loop.snapshot().running() > 0)) {
      Thread.sleep(20);
    }
    assertEquals(0, loop.snapshot().kvPagesInUse(), "every page free once the request is cancelled");
    Map<String, Double> m = Prometheus.parse(get("/metrics").body());
    assertTrue(m.get("ptk_requests_total{outcome=\"cancelled\"}") >= 1);
  }

  @Test
  void pastTheQueueARequestGets429WithRetryAfter() throws Exception {
    try (CpuBackend b = backend();
        EngineLoop small = new EngineLoop(ParaThinkerEngine.of(b, tokenizer, 1));
        OpenAiServer busy = new OpenAiServer(small, tokenizer, new OpenAiServer.Config("127.0.0.1", 0, MODEL, 1, 0, 4096))) {
      URI u = URI.create("http://127.0.0.1:" + busy.port() + "/v1/chat/completions");
      String body = longRun("Is 91 prime? Explain your reasoning step by step.", 4, 4096);
      HttpResponse<InputStream> first = http.send(HttpRequest.newBuilder(u).POST(HttpRequest.BodyPublishers.ofString(body))
          .build(), HttpResponse.BodyHandlers.ofInputStream());
      BufferedReader in = new BufferedReader(new InputStreamReader(first.body(), StandardCharsets.UTF_8));
      assertTrue(in.readLine().startsWith("data: "), "the first request streams");
      HttpResponse<String> second = http.send(HttpRequest.newBuilder(u)
          .POST(HttpRequest.BodyPublishers.ofString(chatBody("hi", 1, 16, false))).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(429, second.statusCode(), second.body());
      assertEquals("1", second.headers().firstValue("Retry-After").orElse(null));
      assertEquals("rate_limit_error", json(second.body()).getAsJsonObject("error").get("type").getAsString());
      in.close();
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (System.nanoTime() < deadline && small.snapshot().kvPagesInUse() > 0) Thread.sleep(20);
      assertEquals(0, small.snapshot().kvPagesInUse());
    }
  }
}
