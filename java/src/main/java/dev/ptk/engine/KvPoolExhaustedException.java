package dev.ptk.engine;

/** The KV pool has fewer free pages than a sequence needs. */
public final class KvPoolExhaustedException extends RuntimeException {
  public KvPoolExhaustedException(int needed, int free, int total, int pageSize) {
    super("KV cache pool exhausted: " + needed + " pages needed, " + free + " free of " + total
        + " (" + pageSize + " tokens per page)");
  }
}
