package dev.ptk.model;

/** A checkpoint, config or tokenizer file that is missing or malformed; the message names the file. */
public class ModelFormatException extends RuntimeException {
  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
