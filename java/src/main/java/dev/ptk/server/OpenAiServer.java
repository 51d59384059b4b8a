package dev.ptk.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server over one engine: {@code POST /v1/chat/completions} and
 * {@code POST /v1/completions} (streamed as server-sent events or whole), {@code GET /v1/models},
 * {@code GET /health} and {@code GET /metrics}. It runs on the JDK's own HTTP server, a thread per
 * open exchange, with the engine stepping every request on its own thread ({@link EngineLoop}).
 * Beyond {@code maxConcurrency + maxQueue} requests in flight a request gets 429 with
 * {@code Retry-After}. Every refusal is an OpenAI error body naming the field; nothing a client
 * sends produces a 500 or a stack trace.
 */
public final class OpenAiServer implements AutoCloseable {
  /**
   * @param maxConcurrency requests decoded together (the engine's batch)
   * @param maxQueue requests waiting beyond those
   * @param maxTokens the most tokens per path a request may ask for (the engine's RoPE scaling follows it)
   */
  public record Config(String host, int port, String modelName, int maxConcurrency, int maxQueue, int maxTokens) {}

  private static final int MAX_BODY_BYTES = 1 << 20;

  private final EngineLoop loop;
  private final Tokenizer tokenizer;
  private final Config config;
  private final HttpServer http;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "ptk-http");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong ids = new AtomicLong();
  private final ServerMetrics metrics = new ServerMetrics();
  private final Responses responses;
  private final CompletionRequest.Limits limits;

  public OpenAiServer(EngineLoop loop, Tokenizer tokenizer, Config config) throws IOException {
    this.loop = loop;
    this.tokenizer = tokenizer;
    this.config = config;
    this.responses = new Responses(config.modelName(), tokenizer::decodeText);
    this.limits = new CompletionRequest.Limits(config.modelName(), loop.engine().backend().pageSize(),
        GenerationOptions.maxPaths(loop.engine().backend().config()), config.maxTokens());
    this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
    http.setExecutor(threads);
    http.createContext("/", this::handle);
    http.start();
  }

  /** The port it listens on (the one chosen when started on port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  private void handle(HttpExchange ex) {
    try {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/v1/chat/completions" -> completion(ex, method, true);
        case "/v1/completions" -> completion(ex, method, false);
        case "/v1/models" -> {
          requireMethod(method, "GET");
          sendJson(ex, 200, models());
        }
        case "/health" -> {
          requireMethod(method, "GET");
          JsonObject ok = new JsonObject();
          ok.addProperty("status", "ok");
          sendJson(ex, 200, ok);
        }
        case "/metrics" -> {
          requireMethod(method, "GET");
          byte[] body = metrics.render(loop.snapshot()).getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
        }
        default -> throw new ApiError(404, "invalid_request_error", null, "not_found", "no route " + method + " " + path);
      }
    } catch (ApiError e) {
      if (e.status == 400) metrics.invalid.incrementAndGet();
      trySend(ex, e);
    } catch (IOException e) {
      // the client went away before its answer was written: nothing to answer
    } catch (RuntimeException e) {
      trySend(ex, new ApiError(500, "server_error", null, null, "internal error: " + e.getClass().getSimpleName()));
    } finally {
      ex.close();
    }
  }

  private void completion(HttpExchange ex, String method, boolean chat) throws IOException {
    requireMethod(method, "POST");
    CompletionRequest request = CompletionRequest.parse(body(ex), chat, limits);
    if (inFlight.incrementAndGet() > config.maxConcurrency() + config.maxQueue()) {
      inFlight.decrementAndGet();
      metrics.rejected.incrementAndGet();
      ex.getResponseHeaders().set("Retry-After", "1");
      throw new ApiError(429, "rate_limit_error", null, "queue_full", "the server is busy: " + config.maxConcurrency()
          + " requests running and " + config.maxQueue() + " queued; retry later");
    }
    try {
      int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, request.question(), loop.engine().backend().pageSize());
      String id = (chat ? "chatcmpl-" : "cmpl-") + ids.incrementAndGet();
      new CompletionExchange(ex, request, chat, responses, tokenizer::decodeText, metrics, id).run(loop, prompt);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private JsonObject models() {
    JsonObject model = new JsonObject();
    model.addProperty("id", config.modelName());
    model.addProperty("object", "model");
    model.addProperty("created", 0);
    model.addProperty("owned_by", "ptk");
    JsonArray data = new JsonArray();
    data.add(model);
    JsonObject list = new JsonObject();
    list.addProperty("object", "list");
    list.add("data", data);
    return list;
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", "use " + allowed + ", not " + method);
    }
  }

  private static String body(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) throw ApiError.invalid(null, "the body exceeds " + MAX_BODY_BYTES + " bytes");
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  static void sendJson(HttpExchange ex, int status, JsonObject body) throws IOException {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  private static void trySend(HttpExchange ex, ApiError e) {
    try {
      sendJson(ex, e.status, e.body());
    } catch (IOException | RuntimeException ignored) {
      // headers already sent (a stream that failed mid-way) or the client is gone
    }
  }

  @Override
  public void close() {
    http.stop(0);
    threads.shutdownNow();
    try {
      threads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
