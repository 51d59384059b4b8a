"""A tiny byte-level BPE tokenizer in the HF tokenizer.json format of DeepSeek-R1-Distill-Qwen.

Merges are learned deterministically from the built-in corpus below (pre-tokenized with Qwen2's
split regex, byte-level mapped; at each step the most frequent adjacent pair wins, ties broken by
the lexicographically smallest (left, right) pair). Vocab ids: the 256 byte symbols in byte order
(id = byte value, symbol = GPT-2 bytes_to_unicode of that byte), then one id per new merge
result, then the added tokens (DeepSeek-distill specials, then ParaThinker's in their released
order, model/SEMANTICS.md §3.2).
"""
import json
import unicodedata

import regex

SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
_SPLIT = regex.compile(SPLIT_REGEX)

EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
USER = "<\uff5cUser\uff5c>"
ASSISTANT = "<\uff5cAssistant\uff5c>"
THINK, END_THINK = "<think>", "</think>"
SUMMARY, END_SUMMARY, PAD = "<summary>", "</summary>", "<vllm_pad>"
# (content, special) in id order
ADDED = ([(EOS, True), (USER, False), (ASSISTANT, False), (BOS, True), (THINK, False),
          (END_THINK, False)]
         + [(t, True) for k in range(1, 9) for t in ("<think%d>" % k, "</think%d>" % k)]
         + [(SUMMARY, True), (END_SUMMARY, True), (PAD, True)])

NUM_MERGES = 160

CORPUS = """\
You FIRST think about the reasoning process as an internal monologue and then summarize the
reasoning process to get the final answer. The summary process MUST BE enclosed within tags.
The final answer MUST BE put in \\boxed{}. By analyzing multiple reasoning processes above,
I concluded that: The final answer is \\boxed{42}.
What is the sum of the first ten positive integers? Let me think step by step. The sum of the
integers from 1 to n is n(n+1)/2, so the sum is 10*11/2 = 55. Therefore the answer is 55.
Find the value of x such that 3x + 7 = 22. Subtract 7 from both sides: 3x = 15, then x = 5.
If a triangle has sides 3, 4 and 5, what is its area? It is a right triangle, so the area is
half the product of the legs: 3*4/2 = 6. The answer is 6.
How many primes are less than 20? The primes are 2, 3, 5, 7, 11, 13, 17 and 19, so there are 8.
Compute 12 squared minus 5 squared. 144 - 25 = 119. Wait, let me check that again: yes, 119.
Okay, so I need to find the number of ways to choose 2 objects out of 5. That is 5 choose 2,
which equals 10. Hmm, the question asks for the probability, so we divide by the total number.
Let me verify the result with another method. Alternatively, we can count the cases directly.
The first path gives 10 and the second path also gives 10, so the final answer is 10.
Solve the equation x^2 - 5x + 6 = 0. The roots are x = 2 and x = 3, and their product is 6.
What is the remainder when 2^10 is divided by 7? 2^3 = 8 = 1 mod 7, so 2^10 = 2 mod 7.
The area of a circle with radius r is pi r^2; the circumference is 2 pi r.
We are given that the function f(x) = 2x + 1. Then f(3) = 7 and f(f(1)) = f(3) = 7.
Therefore, the answer is 7. I think this is correct because each step follows from the last.
"""


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
          + list(range(ord("\xae"), ord("\xff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    text = unicodedata.normalize("NFC", text)
    return ["".join(B2U[b] for b in piece.encode("utf-8")) for piece in _SPLIT.findall(text)]


def train(corpus=CORPUS, num_merges=NUM_MERGES):
    words = {}
    for w in pretokenize(corpus):
        words[w] = words.get(w, 0) + 1
    # vocab: byte symbols in byte order
    vocab = {}
    for b in range(256):
        vocab[B2U[b]] = len(vocab)
    seqs = {w: list(w) for w in words}
    merges = []
    for _ in range(num_merges):
        counts = {}
        for w, f in words.items():
            s = seqs[w]
            for i in range(len(s) - 1):
                p = (s[i], s[i + 1])
                counts[p] = counts.get(p, 0) + f
        if not counts:
            break
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new = best[0] + best[1]
        if new not in vocab:
            vocab[new] = len(vocab)
        for w in words:
            seqs[w] = _merge_pair(seqs[w], best, new)
    return vocab, merges


def _merge_pair(s, pair, new):
    out = []
    i = 0
    while i < len(s):
        if i < len(s) - 1 and s[i] == pair[0] and s[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(s[i])
            i += 1
    return out


class Tokenizer:
    def __init__(self):
        self.vocab, self.merges = train()
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.added = {}
        for content, special in ADDED:
            self.added[content] = len(self.vocab) + len(self.added)
        self.id2tok = {i: t for t, i in self.vocab.items()}
        self.id2added = {i: t for t, i in self.added.items()}
        self.special = {c for c, s in ADDED if s}
        self.size = len(self.vocab) + len(self.added)
        # longest-first alternation for added-token splitting (leftmost, then longest)
        alts = sorted(self.added, key=lambda s: (-len(s), s))
        self._added_re = regex.compile("|".join(regex.escape(a) for a in alts))

    def id(self, tok):
        return self.added[tok] if tok in self.added else self.vocab[tok]

    def bpe(self, word):
        s = list(word)
        while len(s) > 1:
            best = None
            for i in range(len(s) - 1):
                r = self.ranks.get((s[i], s[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, (s[i], s[i + 1]))
            if best is None:
                break
            s = _merge_pair(s, best[1], best[1][0] + best[1][1])
        return [self.vocab[t] for t in s]

    def encode(self, text, add_special_tokens=True):
        ids = [self.added[BOS]] if add_special_tokens else []
        pos = 0
        for m in self._added_re.finditer(text):
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.added[m.group(0)])
            pos = m.end()
        ids += self._encode_plain(text[pos:])
        return ids

    def _encode_plain(self, text):
        out = []
        for w in pretokenize(text):
            out += self.bpe(w)
        return out

    def decode(self, ids, skip_special_tokens=False):
        """Like HF's ByteLevel decoder: every token to bytes (added tokens as their UTF-8 text),
        one lossy UTF-8 decode of the whole byte string."""
        buf = bytearray()
        for i in ids:
            if i in self.id2added:
                if not (skip_special_tokens and self.id2added[i] in self.special):
                    buf += self.id2added[i].encode("utf-8")
            else:
                buf += bytes(U2B[c] for c in self.id2tok[i])
        return bytes(buf).decode("utf-8", errors="replace")

    def tokenizer_json(self):
        bos_id = self.added[BOS]
        added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": c in self.special}
                 for c, i in sorted(self.added.items(), key=lambda kv: kv[1])]
        doc = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": SPLIT_REGEX}, "behavior": "Isolated",
                 "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                 "use_regex": False}]},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": BOS, "type_id": 1}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}}},
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                        "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": self.vocab,
                      "merges": ["%s %s" % m for m in self.merges]},
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

    def tokenizer_config_json(self):
        decoder = {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False,
                            "single_word": False, "special": c in self.special}
                   for c, i in sorted(self.added.items(), key=lambda kv: kv[1])}
        doc = {
            "add_bos_token": True,
            "add_eos_token": False,
            "added_tokens_decoder": decoder,
            "bos_token": BOS,
            "clean_up_tokenization_spaces": False,
            "eos_token": EOS,
            "legacy": True,
            "model_max_length": 16384,
            "pad_token": EOS,
            "sp_model_kwargs": {},
            "tokenizer_class": "LlamaTokenizerFast",
            "unk_token": None,
            "use_default_system_prompt": False,
            "additional_special_tokens": [c for c, _ in ADDED[6:]],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    t = Tokenizer()
    print("vocab", len(t.vocab), "merges", len(t.merges), "size", t.size)
    for s in ["What is 12 + 30? Let me think.", "héllo wörld  \n\n x", "<think1>Okay</think1><vllm_pad>"]:
        ids = t.encode(s)
        print(ids, repr(t.decode(ids)))
