package dev.ptk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.ProgressListener;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The official {@code openai} npm client (installed by java/src/test/node/install-openai.sh, which
 * ./run-tests calls) run as a user runs it, against the server on the tiny checkpoint: a streamed
 * chat completion and a plain completion, both checked against the engine run directly.
 */
class OpenAiClientTest {
  static final Path CLIENT = Path.of("src", "test", "node", "openai-client.cjs");
  static final Path MODULES = Path.of("..", "build", "openai-client", "node_modules");

  @Test
  void theOfficialClientStreamsAChatAndGetsACompletion() throws Exception {
    assertTrue(Files.isDirectory(MODULES.resolve("openai")),
        MODULES.toAbsolutePath() + " missing: run java/src/test/node/install-openai.sh (./run-tests does)");
    String question = "What is 7 times 6?";
    GenerationResult want;
    try (Tokenizer tokenizer = Tokenizer.load(ServerTest.TINY); Checkpoint checkpoint = Checkpoint.open(ServerTest.TINY)) {
      try (CpuBackend b = new CpuBackend(checkpoint.config().withRopeScaling(RopeScaling.NONE), checkpoint.weights(),
          CpuBackend.DEFAULT_PAGE_SIZE, 512)) {
        want = ParaThinkerEngine.of(b, tokenizer).generate(ParaThinkerPrompt.engineIds(tokenizer, question, b.pageSize()),
            ServerTest.greedy(2, 32), ProgressListener.NONE);
      }
      try (CpuBackend served = new CpuBackend(checkpoint.config().withRopeScaling(RopeScaling.NONE), checkpoint.weights(),
              CpuBackend.DEFAULT_PAGE_SIZE, 512);
          EngineLoop loop = new EngineLoop(ParaThinkerEngine.of(served, tokenizer, 4));
          OpenAiServer server = new OpenAiServer(loop, tokenizer, new OpenAiServer.Config("127.0.0.1", 0, "tiny", 4, 4, 256))) {
        JsonObject out = run("http://127.0.0.1:" + server.port() + "/v1", "tiny", question);
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
        assertEquals(0, loop.snapshot().kvPagesInUse(), "every page free after both");
      }
    }
  }

  private static JsonObject run(String baseUrl, String model, String question) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("node", CLIENT.toString(), baseUrl, model, question);
    pb.environment().put("NODE_PATH", MODULES.toAbsolutePath().toString());
    pb.redirectErrorStream(false);
    Process p = pb.start();
    byte[] stdout = p.getInputStream().readAllBytes();
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client finishes");
    assertEquals(0, p.exitValue(), "node client failed: " + stderr);
    return JsonParser.parseString(new String(stdout, StandardCharsets.UTF_8).trim()).getAsJsonObject();
  }
}
