package dev.ptk.nativelib;

/** A failed ptk call: the C ABI's status code and the message naming what was wrong. */
public class PtkException extends RuntimeException {
  private final int status;

  public PtkException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The {@code ptk_status} code ({@code ptk.PTK_ERR_*}). */
  public int status() {
    return status;
  }
}
