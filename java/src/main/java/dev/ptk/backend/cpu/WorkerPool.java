package dev.ptk.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads (the caller is worker 0) that share a range {@code [0, n)}: each takes the
 * next contiguous piece until none is left, so a worker slowed by another process takes fewer.
 * Nothing is allocated per call. The hot path runs a few hundred parallel regions per decode step,
 * so a waiting thread first spins, then yields its core (another process may need it to run the
 * very thread being waited for), and an idle worker finally parks.
 */
final class WorkerPool implements AutoCloseable {
  /** Work on {@code [from, to)} by worker {@code worker} (0 = the calling thread). */
  interface RangeTask {
    void run(int worker, int from, int to);
  }

  private static final int SPINS = 1 << 10;
  private static final int YIELDS = 1 << 12;
  /** Pieces per worker: small enough to balance, large enough to stream weight rows in long runs. */
  private static final int PIECES = 8;

  private final int size;
  private final Thread[] threads;
  private final Object lock = new Object();
  private volatile int generation;
  private volatile int pending;
  private volatile boolean closed;
  private RangeTask task;
  private int count;
  private int grain;
  private final AtomicInteger next = new AtomicInteger();
  private volatile Throwable failure;

  WorkerPool(int size) {
    if (size < 1) throw new IllegalArgumentException("threads must be >= 1, got " + size);
    this.size = size;
    threads = new Thread[size - 1];
    for (int i = 1; i < size; i++) {
      int worker = i;
      Thread t = new Thread(() -> loop(worker), "ptk-cpu-" + i);
      t.setDaemon(true);
      threads[i - 1] = t;
      t.start();
    }
  }

  int size() {
    return size;
  }

  /** Runs {@code task} over {@code [0, n)} on every worker and returns when all are done. */
  void run(int n, RangeTask task) {
    if (size == 1 || n < 2) {
      task.run(0, 0, n);
      return;
    }
    this.task = task;
    this.count = n;
    this.grain = Math.max(1, n / (size * PIECES));
    next.set(0);
    failure = null;
    synchronized (lock) {
      pending = size - 1;
      generation++;
      lock.notifyAll();
    }
    share(0);
    for (int i = 0; pending != 0; i++) pause(i);
    this.task = null;
    Throwable f = failure;
    if (f instanceof RuntimeException e) throw e;
    if (f instanceof Error e) throw e;
  }

  private static void pause(int round) {
    if (round < SPINS) Thread.onSpinWait();
    else Thread.yield();
  }

  private void share(int worker) {
    for (int from = next.getAndAdd(grain); from < count; from = next.getAndAdd(grain)) {
      task.run(worker, from, Math.min(count, from + grain));
    }
  }

  private void loop(int worker) {
    int seen = 0;
    while (true) {
      for (int i = 0; i < SPINS + YIELDS && generation == seen && !closed; i++) pause(i);
      synchronized (lock) {
        while (generation == seen && !closed) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) return;
        seen = generation;
      }
      try {
        share(worker);
      } catch (Throwable t) {
        failure = t;
      } finally {
        synchronized (lock) {
          pending--;
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
  }
}
