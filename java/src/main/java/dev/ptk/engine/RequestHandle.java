package dev.ptk.engine;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A submitted request: its result when it completes, and a way to cancel it (from any thread). A
 * cancelled request leaves the batch at the next step and frees its pages; its result then fails
 * with a {@link CancellationException}.
 */
public final class RequestHandle {
  private final long id;
  private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
  private volatile boolean cancelled;

  RequestHandle(long id) {
    this.id = id;
  }

  /** Submission order: 0, 1, 2, ... per engine. */
  public long id() {
    return id;
  }

  public CompletableFuture<GenerationResult> result() {
    return result;
  }

  public void cancel() {
    cancelled = true;
  }

  boolean isCancelled() {
    return cancelled;
  }

  public boolean isDone() {
    return result.isDone();
  }

  /** The result; a failure is rethrown as it was raised (a bad request's IllegalArgumentException, say). */
  public GenerationResult join() {
    try {
      return result.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw e;
    }
  }
}
