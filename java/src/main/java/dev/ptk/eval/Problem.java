package dev.ptk.eval;

/** One benchmark problem: its id (unique in its file), statement and gold answer. */
public record Problem(String id, String problem, String answer) {}
