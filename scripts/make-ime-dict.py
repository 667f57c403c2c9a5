#!/usr/bin/env python3
"""Builds the pinyin input method's dictionary, `crates/ime/pinyin.dict`, from openly licensed data on
PyPI, and writes its provenance beside it (`crates/ime/README.md` says what and why).

Sources (both MIT-licensed, fetched with pip and checked against the hashes below):
- jieba 0.42.1: `jieba/dict.txt`, about 350 000 Chinese words with their frequency in a
  large corpus (the word list of the jieba segmenter);
- pypinyin 0.55.0: the readings of every character and of phrases whose characters read
  differently in them (银行 yin hang, not yin xing), through `lazy_pinyin`.

Plus `crates/ime/domain-words.txt` (this project's, GPL-3.0-or-later like the rest): words residents
use at a grievance station (wages, housing, neighbours, land, family, law, health), given a
frequency boost so they come first.

Output: one line per (reading, word), `syllables<TAB>word<TAB>frequency`, syllables without tones
joined by single spaces (ü written v), sorted by reading then by falling frequency. Only words
of one to six characters made of CJK characters, and only the most frequent words, to stay
within the kiosk's budget (8 MB on disk).

Usage: scripts/make-ime-dict.py            (needs python3 and pip, and the network for PyPI)
"""

import hashlib
import os
import subprocess
import sys
import tempfile

JIEBA = ("jieba==0.42.1", "jieba-0.42.1.tar.gz",
         "055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2")
PYPINYIN = ("pypinyin==0.55.0", "pypinyin-0.55.0-py2.py3-none-any.whl",
            "d53b1e8ad2cdb815fb2cb604ed3123372f5a28c6f447571244aca36fc62a286f")

# How many multi-character words to keep, most frequent first (every single character is kept).
MAX_WORDS = 160_000
MAX_CHARS = 6
DOMAIN_BOOST = 200_000

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "ime", "pinyin.dict")
DOMAIN = os.path.join(ROOT, "crates", "ime", "domain-words.txt")


def fetch(work):
    """Downloads both packages, checks their hashes, installs them into `work/site`."""
    pkgs = os.path.join(work, "pkgs")
    site = os.path.join(work, "site")
    for spec, name, digest in (JIEBA, PYPINYIN):
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


def main():
    with tempfile.TemporaryDirectory() as work:
        site = fetch(work)
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

        domain = []
        with open(DOMAIN, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    domain.append(line)
        for word in domain:
            if not is_cjk(word):
                sys.exit(f"{DOMAIN}: `{word}` is not all Chinese characters")
            words[word] = words.get(word, 0) + DOMAIN_BOOST

        singles = {w: f for w, f in words.items() if len(w) == 1}
        multi = sorted((w for w in words if len(w) > 1), key=lambda w: -words[w])
        keep = set(multi[:MAX_WORDS]) | set(domain)

        def tone(s):
            return s.replace("ü", "v")

        entries = set()
        # Every reading of every character (heteronyms: 行 xing and hang). The character's
        # frequency goes to its first, most common reading; the others get a tenth, so that
        # `xian` offers 先 and 现 before 见 (mostly jian).
        for ch, freq in singles.items():
            seen = set()
            for i, reading in enumerate(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]):
                reading = tone(reading)
                if reading in seen:
                    continue
                seen.add(reading)
                entries.add((reading, ch, freq if i == 0 else max(1, freq // 10)))
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
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w", encoding="utf-8") as f:
            f.write("# grievance-kiosk pinyin dictionary: reading<TAB>word<TAB>frequency\n")
            f.write("# built by scripts/make-ime-dict.py from jieba 0.42.1 and pypinyin 0.55.0"
                    " (MIT) and crates/ime/domain-words.txt; see crates/ime/README.md\n")
            for reading, word, freq in lines:
                f.write(f"{reading}\t{word}\t{freq}\n")
        size = os.path.getsize(OUT)
        print(f"{OUT}: {len(lines)} entries, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
