package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import dev.ptk.server.OpenAiServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code ptk serve}: the OpenAI-compatible server (see {@link OpenAiServer}) until interrupted. */
final class ServeCommand implements Command {
  static final int DEFAULT_MAX_TOKENS = 4096;
  static final int DEFAULT_CPU_KV_PAGES = 4096;

  private static final String USAGE = """
      ptk serve --model DIR [options]
        --backend cpu|cuda|sim|auto   the device (default auto: a GPU when there is one, else the CPU)
        --host H                      address to listen on (default 127.0.0.1)
        --port N                      port (default 8000; 0 = any free port, printed at start)
        --max-concurrency N           requests decoded together (default 8)
        --max-queue N                 requests waiting beyond those before 429 (default 64)
        --max-tokens N                the most tokens per path a request may ask for, a multiple of 16
                                      (default 4096); the RoPE scaling follows it as in the released example
        --kv-pages N                  KV pool size in pages of 16 tokens (default: CPU 4096, CUDA what fits)
        --served-model-name NAME      the model's name in the API (default: the model folder's name)
        --yarn auto|off|F             RoPE: auto = YaRN factor --max-tokens/8192 when above 1 (default), as released;
                                      off = the checkpoint's own; F = that factor
      """;

  @Override
  public String name() {
    return "serve";
  }

  @Override
  public String summary() {
    return "an OpenAI-compatible HTTP server (chat and text completions, streaming every path)";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = ModelFiles.modelDir(options);
    String host = options.string("--host", "127.0.0.1");
    int port = options.integer("--port", 8000, 0, 65535);
    int concurrency = options.integer("--max-concurrency", 8, 1, 1024);
    int queue = options.integer("--max-queue", 64, 0, 1 << 20);
    int maxTokens = Backends.pageMultiple(options.integer("--max-tokens", DEFAULT_MAX_TOKENS, 1, Integer.MAX_VALUE),
        "--max-tokens");
    String kvPages = options.string("--kv-pages", null);
    String name = options.string("--served-model-name", model.toAbsolutePath().normalize().getFileName().toString());
    String yarn = options.string("--yarn", "auto");
    String backendName = Backends.choose(options.string("--backend", "auto"));
    options.finish();

    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model);
        Tokenizer tokenizer = ModelFiles.openTokenizer(checkpoint)) {
      RopeScaling scaling = Backends.yarn(yarn, checkpoint.config().ropeScaling(), GenerationOptions.releasedRopeScaling(maxTokens));
      int pages = kvPages != null ? CommonFlags.kvPages(kvPages) : backendName.equals("cpu") ? DEFAULT_CPU_KV_PAGES : 0;
      try (Backend backend = Backends.open(backendName, checkpoint, scaling, pages)) {
        ParaThinkerEngine engine = ParaThinkerEngine.of(backend, tokenizer, concurrency);
        CountDownLatch stopped = new CountDownLatch(1);
        try (EngineLoop loop = new EngineLoop(engine);
            OpenAiServer server = new OpenAiServer(loop, tokenizer,
                new OpenAiServer.Config(host, port, name, concurrency, queue, maxTokens))) {
          Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
          out.printf("ptk serve: %s on %s, model '%s', %d KV pages, listening on http://%s:%d%n", backend.describe(),
              backendName, name, backend.numPages(), host, server.port());
          out.flush();
          stopped.await();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("ptk serve: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return 0;
  }
}
