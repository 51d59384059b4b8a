package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.ActivationPrecision;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ptk generate} and {@code ptk score}: bad input is one line and exit code 2; a good run prints the result. */
class GenerateScoreCliTest {
  @TempDir Path tmp;

  @Test
  void generateRejectsBadArgumentsWithOneLine() {
    String model = TestVectors.tinyModel().toString();
    Cli.assertUsage("ptk generate: unknown option --bogus", "generate", "--model", model, "--paths", "2", "--bogus", "1", "q");
    Cli.assertUsage("--model: " + tmp.resolve("nope") + " does not exist", "generate", "--model", tmp.resolve("nope").toString(),
        "--paths", "2", "q");
    Cli.assertUsage("--paths must be in [1, 31]", "generate", "--model", model, "--paths", "0", "q");
    Cli.assertUsage("--paths must be in [1, 31]", "generate", "--model", model, "--paths", "40", "q");
    Cli.assertUsage("missing required option --paths", "generate", "--model", model, "q");
    Cli.assertUsage("--max-tokens must be a multiple of 16", "generate", "--model", model, "--paths", "2", "--max-tokens", "40", "q");
    Cli.assertUsage("--termination must be first, all or ratio:R", "generate", "--model", model, "--paths", "2",
        "--termination", "ratio:2", "q");
    Cli.assertUsage("give the question as one quoted argument", "generate", "--model", model, "--paths", "2", "what", "is");
    if (!dev.ptk.nativelib.CudaEnvironment.query().hasDevice()) {
      // Where a GPU exists, --backend cuda runs instead (bench/gpu/e2e-check.sh covers it).
      Cli.assertUsage("--backend cuda: no CUDA device", "generate", "--model", model, "--paths", "2", "--backend", "cuda", "q");
    }
    // This JVM has loaded the CUDA build of libptk (above); the sim's is another library.
    Cli.assertUsage("--backend sim: libptk is already loaded as the cuda flavour", "generate", "--model", model, "--paths", "2",
        "--backend", "sim", "q");
    Cli.assertUsage("--backend must be cpu, cuda, sim or auto, got 'gpu'", "generate", "--model", model, "--paths", "2",
        "--backend", "gpu", "q");
    Cli.assertUsage("the model's context is 4096", "generate", "--model", model, "--paths", "2", "x ".repeat(5000));
    Cli.assertUsage("at its longest, the pool has 2 pages of 16 tokens", "generate", "--model", model, "--paths", "2", "--kv-pages", "2", "q");
  }

  @Test
  void scoreRejectsBadInputWithOneLine() throws IOException {
    String model = TestVectors.tinyModel().toString();
    Path seq = tmp.resolve("seq.json");
    Files.writeString(seq, "{\"prompt\": [1, 2], \"paths\": [[3]], \"summary\": [], \"extra\": 1}");
    Cli.assertUsage("unknown field \"extra\"", "score", "--model", model, "--input", seq.toString(), "--out", tmp.resolve("o.npy").toString());
    Files.writeString(seq, "{\"prompt\": [1, 2], \"paths\": [[3, 9999]], \"summary\": []}");
    Cli.assertUsage("paths[0]: token id 9999 outside the vocabulary [0, 448)", "score", "--model", model, "--input", seq.toString(),
        "--out", tmp.resolve("o.npy").toString());
    Cli.assertUsage("--input: " + tmp.resolve("none.json") + " does not exist", "score", "--model", model, "--input",
        tmp.resolve("none.json").toString(), "--out", tmp.resolve("o.npy").toString());
  }

  @Test
  void greedyGenerateOnTheTinyModelPrintsTheReferenceSummary() throws IOException {
    JsonObject v = JsonParser.parseString(Files.readString(TestVectors.file("model/flow_p3.json"))).getAsJsonObject();
    Run r = Cli.ptk("generate", "--model", TestVectors.tinyModel().toString(), "--paths", "3", "--max-tokens", "48", "--temperature", "0", "--quiet",
        v.get("question").getAsString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("=== summary (stop, " + v.getAsJsonArray("summary").size() + " tokens) ===\n"
        + v.get("summary_text").getAsString() + "\n"), r.out());
    assertTrue(r.out().contains("=== path 3 (stop, 32 tokens) ==="), r.out());
    assertEquals("", r.err(), "--quiet prints nothing on stderr");
  }

  /** PTK_CPU_ACTIVATIONS: unset or empty is float32, any case of f32/bf16 is taken, anything else is refused by name. */
  @Test
  void cpuActivationsComeFromTheEnvironmentOrAreRefusedByName() {
    assertEquals(ActivationPrecision.F32, Backends.cpuActivations(null));
    assertEquals(ActivationPrecision.F32, Backends.cpuActivations(""));
    assertEquals(ActivationPrecision.BF16, Backends.cpuActivations("BF16"));
    assertEquals(ActivationPrecision.F32, Backends.cpuActivations("f32"));
    UsageException e = assertThrows(UsageException.class, () -> Backends.cpuActivations("fp8"));
    assertEquals("PTK_CPU_ACTIVATIONS=fp8: must be f32 or bf16", e.getMessage());
  }
}
