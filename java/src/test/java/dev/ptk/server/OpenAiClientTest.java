package dev.ptk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.ProgressListener;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The official {@code openai} npm client (installed by java/src/test/node/install-openai.sh, which
 * ./run-tests calls) run as a user runs it, against {@code ptk serve} started as its own process on
 * the tiny checkpoint: a streamed chat completion and a plain completion, both checked against the
 * engine run directly.
 */
class OpenAiClientTest {
  static final Path CLIENT = Path.of("src", "test", "node", "openai-client.cjs");
  static final Path MODULES = Path.of("..", "build", "openai-client", "node_modules");
  private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

  @Test
  void theOfficialClientStreamsAChatAndGetsACompletionFromPtkServe() throws Exception {
    assertTrue(Files.isDirectory(MODULES.resolve("openai")),
        MODULES.toAbsolutePath() + " missing: run java/src/test/node/install-openai.sh (./run-tests does)");
    String question = "What is 7 times 6?";
    GenerationResult want;
    try (Tokenizer tokenizer = Tokenizer.load(ServerTest.TINY); Checkpoint checkpoint = Checkpoint.open(ServerTest.TINY);
        CpuBackend b = new CpuBackend(checkpoint.config().withRopeScaling(RopeScaling.NONE), checkpoint.weights(),
            CpuBackend.DEFAULT_PAGE_SIZE, 512)) {
      want = ParaThinkerEngine.of(b, tokenizer).generate(ParaThinkerPrompt.engineIds(tokenizer, question, b.pageSize()),
          ServerTest.greedy(2, 32), ProgressListener.NONE);
      Process serve = serve();
      try {
        String url = baseUrl(serve);
        JsonObject out = client(url + "/v1", "tiny", question);
        JsonObject chat = out.getAsJsonObject("chat");
        assertEquals(tokenizer.decodeText(want.summaryTokens()), chat.get("content").getAsString());
        for (int p = 1; p <= 2; p++) {
          assertEquals(tokenizer.decodeText(want.paths().get(p - 1).tokens()),
              chat.getAsJsonObject("reasoning").get(String.valueOf(p)).getAsString(), "path " + p);
        }
        assertEquals(Responses.finishReason(want.summaryFinish()), chat.get("finish").getAsString());
        assertEquals(want.promptLength(), chat.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
        JsonObject completion = out.getAsJsonObject("completion");
        assertEquals(tokenizer.decodeText(want.summaryTokens()), completion.get("text").getAsString());
        assertEquals(Responses.finishReason(want.summaryFinish()), completion.get("finish").getAsString());
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(url + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(0.0, Prometheus.parse(metrics.body()).get("ptk_kv_pages_in_use"), "every page free after both");
      } finally {
        serve.destroy();
        assertTrue(serve.waitFor(30, TimeUnit.SECONDS), "ptk serve stops on SIGTERM");
      }
    }
  }

  /** {@code ptk serve} on the tiny checkpoint, any free port, in a JVM of its own with this class path. */
  private static Process serve() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), "dev.ptk.cli.Main", "serve", "--model", ServerTest.TINY.toString(),
        "--backend", "cpu", "--port", "0", "--served-model-name", "tiny", "--kv-pages", "512", "--max-tokens", "256"));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Reads the server's first lines until it says where it listens. */
  private static String baseUrl(Process serve) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String line; (line = out.readLine()) != null; ) {
      seen.append(line).append('\n');
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        Thread drain = new Thread(() -> {
          try {
            out.transferTo(Writer.nullWriter());
          } catch (IOException ignored) {
            // the server stopped
          }
        });
        drain.setDaemon(true);
        drain.start();
        return m.group(1);
      }
    }
    throw new AssertionError("ptk serve ended before listening:\n" + seen);
  }

  private static JsonObject client(String baseUrl, String model, String question) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("node", CLIENT.toString(), baseUrl, model, question);
    pb.environment().put("NODE_PATH", MODULES.toAbsolutePath().toString());
    Process p = pb.start();
    byte[] stdout = p.getInputStream().readAllBytes();
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client finishes");
    assertEquals(0, p.exitValue(), "node client failed: " + stderr);
    return JsonParser.parseString(new String(stdout, StandardCharsets.UTF_8).trim()).getAsJsonObject();
  }
}
