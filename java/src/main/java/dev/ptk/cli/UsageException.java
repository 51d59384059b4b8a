package dev.ptk.cli;

/** A wrong flag, a missing file, a value out of range: one line for the user, exit code 2. */
public class UsageException extends RuntimeException {
  public UsageException(String message) {
    super(message);
  }
}
