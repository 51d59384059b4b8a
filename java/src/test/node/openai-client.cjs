// A user's program: the official `openai` client against `ptk serve`, with ParaThinker's fields.
// Prints one JSON line: what a streamed chat completion and a plain completion returned.
// Usage: node openai-client.cjs BASE_URL MODEL QUESTION
const { OpenAI } = require("openai");

async function main() {
  const [baseURL, model, question] = process.argv.slice(2);
  const client = new OpenAI({ apiKey: "not-needed", baseURL, maxRetries: 0 });
  const ask = { model, max_tokens: 32, temperature: 0, seed: 7, paths: 2 };

  const stream = await client.chat.completions.create({
    ...ask,
    messages: [{ role: "user", content: question }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chat = { content: "", reasoning: {}, finish: null, usage: null };
  for await (const chunk of stream) {
    if (chunk.usage) chat.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const d = choice.delta;
      if (d.content) chat.content += d.content;
      if (d.reasoning_content) chat.reasoning[d.path] = (chat.reasoning[d.path] || "") + d.reasoning_content;
      if (choice.finish_reason) chat.finish = choice.finish_reason;
    }
  }

  const completion = await client.completions.create({ ...ask, prompt: question });
  const c = completion.choices[0];
  console.log(JSON.stringify({ chat, completion: { text: c.text, finish: c.finish_reason, usage: completion.usage } }));
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
