#!/usr/bin/env python3
"""Builds the pinyin input method's data from openly licensed sources on PyPI and this project's
own word lists (`crates/ime/README.md` says what, why, and under which licences):

- `crates/ime/pinyin.dict`: the words, one line per (reading, word),
  `syllables<TAB>word<TAB>frequency`, syllables without tones joined by single spaces (ü written
  v), sorted by reading then by falling frequency;
- `crates/ime/pinyin.bigrams`: which word follows which, for joining words into a sentence and
  predicting the next word, `kind<TAB>first<TAB>second<TAB>value`:
  `w` lines: the word `second` follows the word `first` with probability value / 1 000 000;
  `c` lines: the character `second` right after the character `first` is value / 10 times as
  likely as it is anywhere (the lift; only pairs at least twice as likely are kept).

Sources (all MIT-licensed, fetched with pip and checked against the hashes below):
- jieba 0.42.1: `jieba/dict.txt`, about 350 000 Chinese words with their frequency in a large
  corpus (the word list of the jieba segmenter). Its words of three or more characters that are
  made of shorter words (国民政府: 国民 + 政府) also say which word follows which.
- pypinyin 0.55.0: the readings of every character and of phrases whose characters read
  differently in them (银行 yin hang, not yin xing), through `lazy_pinyin`.
- Pinyin2Hanzi 0.1.1: `data/hmm_transition.json`, how often each character follows each other
  one, counted by its author over texts and a word list (the `c` lines). `--without-pinyin2hanzi`
  builds without it (no `c` lines).

Plus this project's own lists (GPL-3.0-or-later like the rest of the kiosk):
- `crates/ime/domain-words.txt`: words of a grievance station (wages, housing, neighbours, land,
  family, law, health), given a frequency boost so they come first;
- `crates/ime/resident-phrases.txt`: phrases residents say (三个月, 没人管, 不给钱), added as words
  with at least a common word's frequency;
- `crates/ime/resident-sentences.txt`: sentences residents say, cut into words: which word
  follows which at the counter (the `w` lines' in-domain half).

Only words of one to six characters made of CJK characters, and only the most frequent words,
to stay within the kiosk's budget (8 MB on disk for both files).

Usage: scripts/make-ime-dict.py [--without-pinyin2hanzi]
(needs python3 and pip, and the network for PyPI)
"""

import collections
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile

JIEBA = ("jieba==0.42.1", "jieba-0.42.1.tar.gz",
         "055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2")
PYPINYIN = ("pypinyin==0.55.0", "pypinyin-0.55.0-py2.py3-none-any.whl",
            "d53b1e8ad2cdb815fb2cb604ed3123372f5a28c6f447571244aca36fc62a286f")
PINYIN2HANZI = ("Pinyin2Hanzi==0.1.1", "Pinyin2Hanzi-0.1.1.tar.gz",
                "83f76c19a389742523343452066af0facee7a5b878443d71b736f68679abcd56")

# How many multi-character words to keep, most frequent first (every single character is kept).
MAX_WORDS = 160_000
MAX_CHARS = 6
DOMAIN_BOOST = 200_000
# A resident phrase's frequency at least: a common word's (工资 is 4 976 in jieba, 老板 4 402).
PHRASE_FREQ = 20_000

# A character's other readings: a tenth of its frequency, or its share of the character's
# readings by Pinyin2Hanzi's counts if less, but not less than a thousandth.
SECONDARY_SHARE = 0.1
RARE_SHARE = 0.001

# Word pairs: jieba's compound words count when they are this frequent, and a pair is kept when
# its second word follows the first at least this often (P(second | first)).
COMPOUND_MIN_FREQ = 20
PAIR_MIN_P = 0.002
# The resident sentences' share of a pair's probability: their counts are few but in-domain.
RESIDENT_SHARE = 0.6
# Character pairs: kept when counted this often and at least this many times as likely as chance.
CHAR_MIN_COUNT = 10
CHAR_MIN_LIFT = 2.0
CHAR_MAX_LIFT = 1000.0

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IME = os.path.join(ROOT, "crates", "ime")
OUT = os.path.join(IME, "pinyin.dict")
OUT_BIGRAMS = os.path.join(IME, "pinyin.bigrams")
DOMAIN = os.path.join(IME, "domain-words.txt")
PHRASES = os.path.join(IME, "resident-phrases.txt")
SENTENCES = os.path.join(IME, "resident-sentences.txt")


def fetch(work, packages):
    """Downloads the packages, checks their hashes, installs them into `work/site`."""
    pkgs = os.path.join(work, "pkgs")
    site = os.path.join(work, "site")
    for spec, name, digest in packages:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        spec, "-d", pkgs], check=True)
        path = os.path.join(pkgs, name)
        with open(path, "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != digest:
            sys.exit(f"{name}: sha256 {got}, expected {digest}")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--target", site, path], check=True)
    sys.path.insert(0, site)
    return site


def is_cjk(word):
    return all("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in word)


def read_list(path):
    """A word list of this project: one entry a line, `#` comments."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def segment(text, freq, total, exclude_whole=False):
    """Cuts a run of Chinese characters into the likeliest words (each word's probability its
    frequency over the total, as jieba does without its HMM); an unknown character is a word of
    its own, unlikely. With `exclude_whole`, the text itself is not one of the words."""
    n = len(text)
    longest = segment.longest.get(id(freq)) or segment.longest.setdefault(
        id(freq), max(len(w) for w in freq))
    log_total = math.log(total)
    best = [(-math.inf, 0)] * (n + 1)
    best[0] = (0.0, 0)
    for i in range(1, n + 1):
        for j in range(max(0, i - longest), i):
            if exclude_whole and j == 0 and i == n:
                continue
            f = freq.get(text[j:i])
            if f is None:
                if i - j > 1:
                    continue
                f = 0.5
            score = best[j][0] + math.log(f) - log_total
            if score > best[i][0]:
                best[i] = (score, j)
    words = []
    i = n
    while i > 0:
        j = best[i][1]
        words.append(text[j:i])
        i = j
    return words[::-1]


segment.longest = {}


def word_pairs(words, site):
    """P(second | first) for pairs of the dictionary's words (`words`, with their frequencies),
    from jieba's compounds and the resident sentences, pairs below PAIR_MIN_P dropped."""
    total = sum(words.values())
    # jieba: a compound's frequency is a count of its two words side by side.
    compound = collections.Counter()
    with open(os.path.join(site, "jieba", "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            word, freq = parts[0], int(parts[1])
            if len(word) < 3 or freq < COMPOUND_MIN_FREQ or not is_cjk(word):
                continue
            cut = segment(word, words, total, exclude_whole=True)
            for a, b in zip(cut, cut[1:]):
                if len(a) > 1 and len(b) > 1 and a in words and b in words:
                    compound[(a, b)] += freq
    # The resident sentences: counts within clauses (punctuation and spaces separate them).
    said = collections.Counter()
    said_first = collections.Counter()
    for sentence in read_list(SENTENCES):
        for clause in re.split(r"[^\u4e00-\u9fff\u3400-\u4dbf]+", sentence):
            if not clause:
                continue
            cut = segment(clause, words, total)
            for a, b in zip(cut, cut[1:]):
                if a in words and b in words:
                    said[(a, b)] += 1
                    said_first[a] += 1
    pairs = {}
    for (a, b), n in compound.items():
        pairs[(a, b)] = (1 - RESIDENT_SHARE) * min(1.0, n / words[a])
    for (a, b), n in said.items():
        pairs[(a, b)] = pairs.get((a, b), 0.0) + RESIDENT_SHARE * n / (said_first[a] + 1)
    return {k: p for k, p in pairs.items() if p >= PAIR_MIN_P}


def char_pairs(site, chars):
    """The lift of each character pair Pinyin2Hanzi counted: P(b | a) / P(b). Its file holds
    add-one smoothed probabilities, (count + 1) / (row total + 20 903), with the row's `default`
    1 / (row total + 20 903); the counts are recovered from them."""
    with open(os.path.join(site, "Pinyin2Hanzi", "data", "hmm_transition.json"),
              encoding="utf-8") as f:
        data = json.load(f)["data"]
    counts = {}
    for a, row in data.items():
        norm = 1.0 / row["default"]
        for b, p in row.items():
            if b == "default":
                continue
            n = round(p * norm - 1)
            if n > 0:
                counts[(a, b)] = n
    total = sum(counts.values())
    out_of = collections.Counter()
    into = collections.Counter()
    for (a, b), n in counts.items():
        out_of[a] += n
        into[b] += n
    lifts = {}
    for (a, b), n in counts.items():
        if n < CHAR_MIN_COUNT or a not in chars or b not in chars:
            continue
        lift = (n / out_of[a]) / (into[b] / total)
        if lift >= CHAR_MIN_LIFT:
            lifts[(a, b)] = min(lift, CHAR_MAX_LIFT)
    return lifts


def readings_share(site):
    """How often each character is read each way, by Pinyin2Hanzi's counts (`hmm_emission.json`,
    P(reading | character)), with ü written v as here."""
    with open(os.path.join(site, "Pinyin2Hanzi", "data", "hmm_emission.json"),
              encoding="utf-8") as f:
        data = json.load(f)["data"]
    return {ch: {r.replace("ve", "ue") if r.endswith("ve") and r[0] not in "ln" else r: p
                 for r, p in readings.items()}
            for ch, readings in data.items()}


def main():
    with_p2h = "--without-pinyin2hanzi" not in sys.argv[1:]
    packages = [JIEBA, PYPINYIN] + ([PINYIN2HANZI] if with_p2h else [])
    with tempfile.TemporaryDirectory() as work:
        site = fetch(work, packages)
        from pypinyin import Style, lazy_pinyin, pinyin  # noqa: E402 (installed just above)

        words = {}
        with open(os.path.join(site, "jieba", "dict.txt"), encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                word, freq = parts[0], int(parts[1])
                if 1 <= len(word) <= MAX_CHARS and is_cjk(word):
                    words[word] = max(words.get(word, 0), freq)

        domain = read_list(DOMAIN)
        phrases = read_list(PHRASES)
        for path, entries in ((DOMAIN, domain), (PHRASES, phrases)):
            for word in entries:
                if not is_cjk(word):
                    sys.exit(f"{path}: `{word}` is not all Chinese characters")
        for word in domain:
            words[word] = words.get(word, 0) + DOMAIN_BOOST
        for word in phrases:
            words[word] = max(words.get(word, 0), PHRASE_FREQ)

        singles = {w: f for w, f in words.items() if len(w) == 1}
        multi = sorted((w for w in words if len(w) > 1), key=lambda w: -words[w])
        keep = set(multi[:MAX_WORDS]) | set(domain) | set(phrases)

        def tone(s):
            return s.replace("ü", "v")

        emission = readings_share(site) if with_p2h else {}
        entries = set()
        # Every reading of every character (heteronyms: 行 xing and hang). The character's
        # frequency goes to its first, most common reading; the others get a tenth, so that
        # `xian` offers 先 and 现 before 见 (mostly jian), or less where Pinyin2Hanzi counted the
        # reading rarer (说 is shui a thousandth of the time, 能 tai never).
        for ch, freq in singles.items():
            seen = set()
            for i, reading in enumerate(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]):
                reading = tone(reading)
                if reading in seen:
                    continue
                seen.add(reading)
                share = 1.0 if i == 0 else SECONDARY_SHARE
                if i > 0 and ch in emission:
                    share = min(share, max(emission[ch].get(reading, 0.0), RARE_SHARE))
                entries.add((reading, ch, max(1, round(freq * share))))
        for word in keep:
            reading = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
            if len(reading) != len(word):
                continue
            entries.add((" ".join(tone(r) for r in reading), word, words[word]))

        # Only readings in plain letters (drops ê and characters pypinyin cannot read).
        entries = {e for e in entries
                   if all(syl.isascii() and syl.isalpha() and syl.islower()
                          for syl in e[0].split(" "))}
        lines = sorted(entries, key=lambda e: (e[0], -e[2], e[1]))
        sources = "jieba 0.42.1 and pypinyin 0.55.0"
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w", encoding="utf-8") as f:
            f.write("# grievance-kiosk pinyin dictionary: reading<TAB>word<TAB>frequency\n")
            f.write(f"# built by scripts/make-ime-dict.py from {sources} (MIT) and"
                    " crates/ime/{domain-words,resident-phrases}.txt; see crates/ime/README.md\n")
            for reading, word, freq in lines:
                f.write(f"{reading}\t{word}\t{freq}\n")
        print(f"{OUT}: {len(lines)} entries, {os.path.getsize(OUT) / 1e6:.1f} MB")

        in_dict = {e[1] for e in entries}
        pairs = word_pairs({w: words[w] for w in in_dict}, site)
        chars = set(singles) & in_dict
        lifts = char_pairs(site, chars) if with_p2h else {}
        with open(OUT_BIGRAMS, "w", encoding="utf-8") as f:
            f.write("# grievance-kiosk pinyin transitions: kind<TAB>first<TAB>second<TAB>value\n")
            f.write("# w: P(second word | first word) in millionths; c: the lift of the character"
                    " second right after first, in tenths\n")
            f.write(f"# built by scripts/make-ime-dict.py from jieba 0.42.1"
                    f"{', Pinyin2Hanzi 0.1.1' if with_p2h else ''} (MIT) and"
                    " crates/ime/resident-sentences.txt; see crates/ime/README.md\n")
            for (a, b), p in sorted(pairs.items()):
                f.write(f"w\t{a}\t{b}\t{max(1, round(p * 1_000_000))}\n")
            for (a, b), lift in sorted(lifts.items()):
                f.write(f"c\t{a}\t{b}\t{round(lift * 10)}\n")
        print(f"{OUT_BIGRAMS}: {len(pairs)} word pairs, {len(lifts)} character pairs,"
              f" {os.path.getsize(OUT_BIGRAMS) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
