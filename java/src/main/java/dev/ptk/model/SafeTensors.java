package dev.ptk.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One safetensors file, memory-mapped: each tensor's bytes are mapped as their own region (a 3.5 GB
 * file does not fit one ByteBuffer) and never copied. The header is validated like the format's
 * reference reader: header length bound, a JSON object of {dtype, shape, data_offsets} entries plus
 * an optional {@code __metadata__} string map, sizes that match shape × dtype, and offsets that tile
 * the data buffer from 0 to the end of the file with no gap and no overlap.
 */
public final class SafeTensors {
  /** The reference reader's bound on the JSON header. */
  static final long MAX_HEADER = 100_000_000L;

  private final Path file;
  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;

  private SafeTensors(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    this.file = file;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public static SafeTensors open(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(file, ch);
    } catch (IOException e) {
      throw new ModelFormatException(file + ": cannot read (" + e + ")", e);
    }
  }

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private static SafeTensors read(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) throw new ModelFormatException(file + ": truncated (" + size + " bytes, no header length)");
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > MAX_HEADER) {
      throw new ModelFormatException(file + ": header length " + Long.toUnsignedString(n) + " exceeds " + MAX_HEADER);
    }
    if (n > size - 8) {
      throw new ModelFormatException(file + ": header length " + n + " is past the end of the file (" + size + " bytes)");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
    readFully(ch, headerBuf, 8);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(headerBuf.flip()).toString();
    } catch (CharacterCodingException e) {
      throw new ModelFormatException(file + ": header is not UTF-8", e);
    }
    String where = file + " header";
    JsonObject header = Json.parseObject(text, where);

    Map<String, String> metadata = Map.of();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      if (e.getKey().equals("__metadata__")) {
        metadata = metadata(e.getValue(), where);
      } else {
        entries.add(entry(e.getKey(), e.getValue(), where));
      }
    }

    long dataStart = 8 + n;
    long dataSize = size - dataStart;
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long next = 0;
    for (Entry t : entries) {
      if (t.begin != next) {
        String what = t.begin < next ? "overlaps the previous tensor" : "leaves a gap after the previous tensor";
        throw new ModelFormatException(file + ": tensor " + t.name + " data_offsets [" + t.begin + ", " + t.end
            + "] " + what + " (expected begin " + next + ")");
      }
      if (t.end > dataSize) {
        throw new ModelFormatException(file + ": tensor " + t.name + " data_offsets end " + t.end
            + " is past the data buffer (" + dataSize + " bytes)");
      }
      next = t.end;
    }
    if (next != dataSize) {
      throw new ModelFormatException(file + ": tensors end at byte " + next + " of the data buffer but the file holds "
          + dataSize + " bytes after the header");
    }

    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry t : entries) {
      long bytes = t.end - t.begin;
      if (bytes > Integer.MAX_VALUE) {
        throw new ModelFormatException(file + ": tensor " + t.name + " has " + bytes + " bytes, more than one buffer holds");
      }
      ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin, bytes).order(ByteOrder.LITTLE_ENDIAN);
      tensors.put(t.name, new Tensor(t.name, t.dtype, t.shape, data));
    }
    return new SafeTensors(file, Collections.unmodifiableMap(tensors), metadata);
  }

  private static Entry entry(String name, JsonElement value, String where) {
    String at = where + ", tensor " + name;
    if (!value.isJsonObject()) throw new ModelFormatException(at + ": entry is not an object");
    JsonObject o = value.getAsJsonObject();
    String dtypeName = Json.string(o, "dtype", at);
    DType dtype;
    try {
      dtype = DType.valueOf(dtypeName);
    } catch (IllegalArgumentException e) {
      throw new ModelFormatException(at + ": unknown dtype \"" + dtypeName + "\"");
    }
    JsonArray shapeJson = array(o, "shape", at);
    long[] shape = new long[shapeJson.size()];
    long elements = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = Json.asLong(shapeJson.get(i), "shape", at);
      if (shape[i] < 0) throw new ModelFormatException(at + ": negative dimension in shape " + shapeJson);
      elements = multiply(elements, shape[i], at);
    }
    JsonArray offsets = array(o, "data_offsets", at);
    if (offsets.size() != 2) throw new ModelFormatException(at + ": data_offsets must be [begin, end], got " + offsets);
    long begin = Json.asLong(offsets.get(0), "data_offsets", at);
    long end = Json.asLong(offsets.get(1), "data_offsets", at);
    if (begin < 0 || end < begin) throw new ModelFormatException(at + ": invalid data_offsets " + offsets);
    long expected = multiply(elements, dtype.size(), at);
    if (end - begin != expected) {
      throw new ModelFormatException(at + ": data_offsets span " + (end - begin) + " bytes but shape " + shapeJson
          + " of " + dtype + " needs " + expected);
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static long multiply(long a, long b, String at) {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      throw new ModelFormatException(at + ": shape too large");
    }
  }

  private static JsonArray array(JsonObject o, String field, String at) {
    JsonElement e = Json.required(o, field, at);
    if (!e.isJsonArray()) throw new ModelFormatException(at + ": field \"" + field + "\" must be an array, got " + e);
    return e.getAsJsonArray();
  }

  private static Map<String, String> metadata(JsonElement value, String where) {
    if (!value.isJsonObject()) throw new ModelFormatException(where + ": __metadata__ must be an object of strings");
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new ModelFormatException(where + ": __metadata__ value of \"" + e.getKey() + "\" is not a string");
      }
      m.put(e.getKey(), v.getAsString());
    }
    return Collections.unmodifiableMap(m);
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    while (dst.hasRemaining()) {
      int r = ch.read(dst, position + dst.position());
      if (r < 0) throw new IOException("unexpected end of file");
    }
  }

  public Path file() {
    return file;
  }

  /** Tensor names in file order (by data offset). */
  public Set<String> names() {
    return tensors.keySet();
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) throw new ModelFormatException(file + ": no tensor " + name);
    return t;
  }

  /** The header's {@code __metadata__} map (empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }
}
