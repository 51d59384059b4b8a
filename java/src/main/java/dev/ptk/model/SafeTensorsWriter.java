package dev.ptk.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Streams a safetensors file to disk: the header is written first from the declared tensors, then
 * each tensor's bytes in declaration order, in as many chunks as the caller likes, so a file of any
 * size is written with a small buffer. {@link #close()} checks that every declared byte came.
 */
public final class SafeTensorsWriter implements AutoCloseable {
  /** A tensor to be written: name, dtype and shape. */
  public record Entry(String name, DType dtype, long[] shape) {
    long bytes() {
      long n = dtype.size();
      for (long d : shape) n = Math.multiplyExact(n, d);
      return n;
    }
  }

  private final Path file;
  private final FileChannel out;
  private final List<Entry> entries;
  private int current;
  private long remaining;

  private SafeTensorsWriter(Path file, FileChannel out, List<Entry> entries) {
    this.file = file;
    this.out = out;
    this.entries = entries;
    this.remaining = entries.isEmpty() ? 0 : entries.get(0).bytes();
  }

  /** Creates (or replaces) {@code file} and writes its header. */
  public static SafeTensorsWriter create(Path file, List<Entry> entries) throws IOException {
    JsonObject header = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("format", "pt");
    header.add("__metadata__", meta);
    long offset = 0;
    for (Entry e : entries) {
      JsonObject o = new JsonObject();
      o.addProperty("dtype", e.dtype().name());
      JsonArray shape = new JsonArray();
      for (long d : e.shape()) shape.add(d);
      o.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset += e.bytes());
      o.add("data_offsets", offsets);
      if (header.has(e.name())) throw new IllegalArgumentException("duplicate tensor name " + e.name());
      header.add(e.name(), o);
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int n = (json.length + 7) / 8 * 8; // spaces pad the header so the data starts 8-byte aligned
    ByteBuffer head = ByteBuffer.allocate(8 + n).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(n).put(json);
    while (head.hasRemaining()) head.put((byte) ' ');
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    try {
      writeAll(ch, head.flip());
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    return new SafeTensorsWriter(file, ch, List.copyOf(entries));
  }

  /** Appends the next bytes of the current tensor (little-endian); moves to the next tensor when it is full. */
  public void write(ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      while (remaining == 0) {
        if (++current >= entries.size()) throw new IllegalStateException(file + ": more bytes than the declared tensors hold");
        remaining = entries.get(current).bytes();
      }
      int take = (int) Math.min(bytes.remaining(), remaining);
      ByteBuffer part = bytes.slice().limit(take);
      writeAll(out, part);
      bytes.position(bytes.position() + take);
      remaining -= take;
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }

  @Override
  public void close() throws IOException {
    out.close();
    boolean complete = remaining == 0;
    for (int i = current + 1; i < entries.size(); i++) complete &= entries.get(i).bytes() == 0;
    if (!complete) throw new IllegalStateException(file + ": closed before every declared tensor was written");
  }

}
