package dev.ptk.server;

import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.PathOutput;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.RequestHandle;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One completion on its HTTP exchange. The engine's thread only queues events (tokens, the end);
 * this thread turns them into text and writes them, so a slow client never slows the batch. A
 * streamed answer is a server-sent event per piece of text; a client that goes away is noticed at
 * the next write (a comment line every second keeps writing while the request waits) and its
 * request is cancelled, which frees its pages at the next step.
 */
final class CompletionExchange {
  private sealed interface Event {}

  private record Token(int path, int id) implements Event {}

  private record Finished(GenerationResult result) implements Event {}

  private record Failed(Throwable error) implements Event {}

  private static final long KEEP_ALIVE_MILLIS = 1000;

  private final HttpExchange exchange;
  private final CompletionRequest request;
  private final boolean chat;
  private final Responses responses;
  private final Function<int[], String> text;
  private final ServerMetrics metrics;
  private final String id;
  private final long created = System.currentTimeMillis() / 1000;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

  CompletionExchange(HttpExchange exchange, CompletionRequest request, boolean chat, Responses responses,
      Function<int[], String> text, ServerMetrics metrics, String id) {
    this.exchange = exchange;
    this.request = request;
    this.chat = chat;
    this.responses = responses;
    this.text = text;
    this.metrics = metrics;
    this.id = id;
  }

  /** Submits the request (a bad one throws ApiError before anything is written) and answers it. */
  void run(EngineLoop loop, int[] prompt) throws IOException {
    try {
      loop.engine().validatePrompt(prompt);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(chat ? "messages" : "prompt", e.getMessage());
    }
    RequestHandle handle;
    try {
      handle = loop.submit(prompt, request.options(), new ProgressListener() {
        @Override
        public void onStep(Progress progress) {}

        @Override
        public void onToken(int path, int token) {
          if (request.stream()) events.add(new Token(path, token));
        }
      });
    } catch (IllegalArgumentException e) {  // fields are checked already: what is left is the KV pool's room
      throw ApiError.invalid(null, e.getMessage());
    }
    handle.result().whenComplete((r, e) -> events.add(r != null ? new Finished(r) : new Failed(e)));
    if (request.stream()) stream(handle);
    else answer(handle);
  }

  private void answer(RequestHandle handle) throws IOException {
    Event end;
    try {
      do {
        end = events.take();
      } while (end instanceof Token);
    } catch (InterruptedException e) {
      handle.cancel();
      Thread.currentThread().interrupt();
      return;
    }
    if (end instanceof Failed f) throw failure(f.error());
    GenerationResult r = ((Finished) end).result();
    count(r);
    OpenAiServer.sendJson(exchange, 200, responses.complete(id, created, chat, r));
  }

  private void stream(RequestHandle handle) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    IncrementalText[] outputs = new IncrementalText[request.options().paths() + 1];  // [0] the summary
    for (int i = 0; i < outputs.length; i++) outputs[i] = new IncrementalText(text);
    try {
      JsonObject role = new JsonObject();
      if (chat) {
        role.addProperty("role", "assistant");
        role.addProperty("content", "");
      }
      send(out, responses.chunk(id, created, chat, role, null).toString());
      while (true) {
        Event e = events.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
        if (e == null) {
          write(out, ": keep-alive\n\n");
        } else if (e instanceof Token t) {
          String piece = outputs[t.path()].add(t.id());
          if (!piece.isEmpty()) send(out, responses.chunk(id, created, chat, Responses.delta(chat, t.path(), piece), null).toString());
        } else if (e instanceof Finished f) {
          finish(out, outputs, f.result());
          return;
        } else {
          Throwable error = ((Failed) e).error();
          ApiError api = failure(error);
          send(out, api.body().toString());
          write(out, "data: [DONE]\n\n");
          return;
        }
      }
    } catch (IOException gone) {  // the client left: its request leaves the batch at the next step
      handle.cancel();
      metrics.cancelled.incrementAndGet();
    } catch (InterruptedException e) {
      handle.cancel();
      Thread.currentThread().interrupt();
    } finally {
      exchange.close();
    }
  }

  private void finish(OutputStream out, IncrementalText[] outputs, GenerationResult r) throws IOException {
    for (int p = 1; p < outputs.length; p++) {
      String rest = outputs[p].flush();
      if (!rest.isEmpty()) send(out, responses.chunk(id, created, chat, Responses.delta(chat, p, rest), null).toString());
    }
    String rest = outputs[0].flush();
    JsonObject last = rest.isEmpty() ? new JsonObject() : Responses.delta(chat, 0, rest);
    send(out, responses.chunk(id, created, chat, last, Responses.finishReason(r.summaryFinish())).toString());
    if (request.includeUsage()) send(out, responses.usageChunk(id, created, chat, r).toString());
    write(out, "data: [DONE]\n\n");
    count(r);
  }

  private void count(GenerationResult r) {
    metrics.completed.incrementAndGet();
    metrics.promptTokens.addAndGet(r.promptLength());
    long generated = r.summaryTokens().length;
    for (PathOutput p : r.paths()) generated += p.tokens().length;
    metrics.generatedTokens.addAndGet(generated);
  }

  /** A request that ended without a result: cancelled, or the engine failed it. */
  private ApiError failure(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof CancellationException) {
      metrics.cancelled.incrementAndGet();
      return new ApiError(499, "cancelled", null, null, "the request was cancelled");
    }
    metrics.failed.incrementAndGet();
    return new ApiError(500, "server_error", null, null, "the engine failed the request: " + cause.getMessage());
  }

  private static void send(OutputStream out, String json) throws IOException {
    write(out, "data: " + json + "\n\n");
  }

  private static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
