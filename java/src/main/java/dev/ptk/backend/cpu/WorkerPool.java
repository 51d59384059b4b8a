package dev.ptk.backend.cpu;

/**
 * A fixed set of threads that split a range {@code [0, n)} into one contiguous share each (the
 * caller runs share 0). Nothing is allocated per call: the hot path runs a few hundred parallel
 * regions per decode step, so workers spin briefly before parking.
 */
final class WorkerPool implements AutoCloseable {
  /** Work on {@code [from, to)} by worker {@code worker} (0 = the calling thread). */
  interface RangeTask {
    void run(int worker, int from, int to);
  }

  private static final int SPINS = 1 << 16;

  private final int size;
  private final Thread[] threads;
  private final Object lock = new Object();
  private volatile int generation;
  private volatile int pending;
  private volatile boolean closed;
  private RangeTask task;
  private int count;
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
    failure = null;
    synchronized (lock) {
      pending = size - 1;
      generation++;
      lock.notifyAll();
    }
    share(0);
    while (pending != 0) Thread.onSpinWait();
    this.task = null;
    Throwable f = failure;
    if (f instanceof RuntimeException e) throw e;
    if (f instanceof Error e) throw e;
  }

  private void share(int worker) {
    long n = count;
    task.run(worker, (int) (n * worker / size), (int) (n * (worker + 1) / size));
  }

  private void loop(int worker) {
    int seen = 0;
    while (true) {
      for (int i = 0; i < SPINS && generation == seen && !closed; i++) Thread.onSpinWait();
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
