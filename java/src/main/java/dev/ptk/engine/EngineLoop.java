package dev.ptk.engine;

/**
 * Steps an engine on its own thread while requests are waiting or running, and sleeps otherwise:
 * what a server runs. Requests are submitted from any thread; their listeners are called on the
 * loop's thread, so they should hand events on rather than block. {@link #snapshot} is the state
 * after the last step, readable from any thread.
 */
public final class EngineLoop implements AutoCloseable {
  /** What the engine held after its last step. */
  public record Snapshot(int running, int waiting, int kvPagesInUse, int kvPages, long steps, long stepNanos) {}

  private final ParaThinkerEngine engine;
  private final Thread thread;
  private final Object wake = new Object();
  private volatile boolean closed;
  private volatile Snapshot snapshot;
  private long stepNanos;

  public EngineLoop(ParaThinkerEngine engine) {
    this.engine = engine;
    this.snapshot = take();
    this.thread = new Thread(this::run, "ptk-engine");
    thread.setDaemon(true);
    thread.start();
  }

  public ParaThinkerEngine engine() {
    return engine;
  }

  /** Queues a request (validated at once: a bad one throws here, naming the argument). */
  public RequestHandle submit(int[] prompt, GenerationOptions options, ProgressListener listener) {
    RequestHandle handle = engine.submit(prompt, options, listener);
    synchronized (wake) {
      wake.notifyAll();
    }
    return handle;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  private void run() {
    while (!closed) {
      if (engine.hasWork()) {
        long t0 = System.nanoTime();
        try {
          engine.step();  // a request's failure fails that request; nothing else is expected here
        } catch (RuntimeException | Error e) {
          System.err.println("ptk: engine step failed: " + e);
        }
        stepNanos += System.nanoTime() - t0;
        snapshot = take();
      } else {
        synchronized (wake) {
          try {
            if (!closed && !engine.hasWork()) wake.wait(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }
  }

  private Snapshot take() {
    Scheduler s = engine.scheduler();
    int pages = engine.backend().numPages();
    return new Snapshot(s.running(), s.waiting(), pages - engine.freeKvPages(), pages, s.steps(), stepNanos);
  }

  /** Stops stepping; requests still waiting or running are cancelled by the next user of the engine or dropped with it. */
  @Override
  public void close() {
    closed = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
