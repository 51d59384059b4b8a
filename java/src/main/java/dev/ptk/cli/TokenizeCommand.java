package dev.ptk.cli;

import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code ptk tokenize --model DIR [--chat] TEXT}: token ids of a text or of the engine prompt. */
final class TokenizeCommand implements Command {
  @Override
  public String name() {
    return "tokenize";
  }

  @Override
  public String summary() {
    return "token ids of TEXT (--chat: the engine prompt for question TEXT and its length Lp)";
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = options.existingPath("--model");
    boolean chat = options.flag("--chat");
    options.finish();
    if (options.positional().size() != 1) {
      throw new UsageException("tokenize takes one TEXT argument, got " + options.positional().size());
    }
    String text = options.positional().get(0);
    try (Tokenizer tok = Tokenizer.load(model)) {
      int[] ids = chat ? ParaThinkerPrompt.engineIds(tok, text, ParaThinkerPrompt.PAGE_SIZE) : tok.encode(text, false);
      out.println(Arrays.toString(ids));
      out.println((chat ? "Lp " : "length ") + ids.length);
    }
    return 0;
  }
}
