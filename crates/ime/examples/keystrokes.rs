//! Types the fifty phrases of `crates/ime/testdata/phrases.txt` letter by letter into the
//! built-in dictionary and reports what a resident would see and wait for: how often the phrase
//! is first and among the first five once it is typed, and how long `suggest` takes for each
//! keystroke (median, 99th percentile, worst), plus how long the dictionary takes to load.
//!
//! `cargo run -p ime --release --example keystrokes` (the figures are only meaningful in
//! release mode).

use std::time::{Duration, Instant};

use ime::{Dictionary, Options, Session};

fn main() {
    let started = Instant::now();
    let dict = Dictionary::builtin().expect("the built-in dictionary loads");
    let load = started.elapsed();
    let memory = memory();
    let phrases: Vec<(&str, &str)> = include_str!("../testdata/phrases.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let session = Session::default();
    let mut times: Vec<Duration> = Vec::new();
    let (mut first, mut five) = (0, 0);
    // Three rounds, so that the figures do not hang on one cold cache.
    for round in 0..3 {
        for &(pinyin, phrase) in &phrases {
            for end in 1..=pinyin.len() {
                let t = Instant::now();
                let got = dict.suggest(&pinyin[..end], Options::default(), &session);
                times.push(t.elapsed());
                if round == 0 && end == pinyin.len() {
                    let top: Vec<&str> = got.iter().take(5).map(|c| c.word.as_str()).collect();
                    if top.first() == Some(&phrase) {
                        first += 1;
                    }
                    if top.contains(&phrase) {
                        five += 1;
                    } else {
                        println!("  miss: {pinyin} → {phrase}: {top:?}");
                    }
                }
            }
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let n = phrases.len();
    println!(
        "dictionary: {} words, loaded in {load:.0?}; {memory}",
        dict.len()
    );
    println!(
        "phrases: {first} of {n} first ({:.0} %), {five} of {n} in the first five ({:.0} %)",
        first as f64 * 100.0 / n as f64,
        five as f64 * 100.0 / n as f64
    );
    println!(
        "per keystroke ({} calls): median {:.2?}, p99 {:.2?}, worst {:.2?}",
        times.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
}

/// The process's memory once the dictionary is loaded, and at most, where Linux says
/// (`/proc/self/status`).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map_or("?".to_owned(), |l| l[name.len()..].trim().to_owned())
    };
    format!("resident {} (at most {})", field("VmRSS:"), field("VmHWM:"))
}
