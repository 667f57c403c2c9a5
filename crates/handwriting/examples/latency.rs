//! How long recognition takes, in release, and how often it is right: every character of the
//! test set (`tests/support`) recognised after each of its strokes, as the pad does while a
//! resident writes, and once whole.
//!
//! `cargo run --release -p handwriting --example latency -- [--model FILE]… [--seed N]
//! [--set FILE] [--dump FILE]` prints the median, the 99th percentile and the slowest, and the
//! share of the set in the first five (and, for comparison, of the first model alone as zinnia
//! answers). `--model`, given once or more, replaces `handwriting::DEFAULT_MODELS` (the first is
//! the first model, the others its second opinions); `--seed` draws the set with another seed;
//! `--set` takes other characters (a strokes file as `scripts/make-handwriting-testdata
//! --outside` writes one) instead of the test set's; `--dump` writes each character's ink and
//! the first model's own first ten candidates (`Recognizer::zinnia`) as JSON lines for
//! `scripts/check-handwriting`, which asks libzinnia the same.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use handwriting::{load_all, Ink, DEFAULT_MODELS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut models: Vec<PathBuf> = Vec::new();
    let mut seed = support::SEED;
    let mut set = None;
    let mut dump = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--model" => models.push(PathBuf::from(value()?)),
            "--seed" => seed = value()?.parse()?,
            "--set" => set = Some(PathBuf::from(value()?)),
            "--dump" => dump = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if models.is_empty() {
        models = DEFAULT_MODELS.iter().map(PathBuf::from).collect();
    }

    let started = Instant::now();
    let recognizer = load_all(&models)?;
    println!(
        "loaded {} model(s), {} characters, in {:?}",
        recognizer.models(),
        recognizer.len(),
        started.elapsed()
    );

    let characters = match &set {
        Some(path) => support::characters(&std::fs::read_to_string(path)?),
        None => support::fixture(),
    };
    let set = support::drawn(characters, seed);

    let mut per_stroke = Vec::new();
    let mut whole = Vec::new();
    let (mut top_five, mut first, mut alone) = (0, 0, 0);
    let mut out = match &dump {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    for (character, ink) in &set {
        for n in 1..=ink.strokes.len() {
            let part = Ink {
                strokes: ink.strokes[..n].to_vec(),
                ..ink.clone()
            };
            let t = Instant::now();
            let candidates = recognizer.classify(&part, 10)?;
            let took = t.elapsed();
            per_stroke.push(took);
            if n == ink.strokes.len() {
                whole.push(took);
                top_five += candidates.iter().take(5).any(|c| &c.character == character) as usize;
                first += candidates
                    .first()
                    .is_some_and(|c| &c.character == character) as usize;
            }
        }
        let zinnia = recognizer.zinnia(ink, 10)?;
        alone += zinnia.iter().take(5).any(|c| &c.character == character) as usize;
        if let Some(out) = &mut out {
            let line = format!(
                "{{\"character\":\"{character}\",\"width\":{},\"height\":{},\"strokes\":{},\"candidates\":[{}]}}",
                ink.width,
                ink.height,
                points(&ink.strokes),
                zinnia
                    .iter()
                    .map(|c| format!("[\"{}\",{:?}]", c.character, c.score))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            writeln!(out, "{line}")?;
        }
    }
    report("per stroke", &mut per_stroke);
    report("whole character", &mut whole);
    let share = |n: usize| 100.0 * n as f64 / set.len() as f64;
    println!(
        "in the first five: {top_five}/{} ({:.1} %), first {first} ({:.1} %); the first model alone as zinnia: {alone} ({:.1} %); seed {seed}",
        set.len(),
        share(top_five),
        share(first),
        share(alone),
    );
    Ok(())
}

fn points(strokes: &[Vec<(f32, f32)>]) -> String {
    let strokes: Vec<String> = strokes
        .iter()
        .map(|s| {
            let p: Vec<String> = s.iter().map(|(x, y)| format!("[{x},{y}]")).collect();
            format!("[{}]", p.join(","))
        })
        .collect();
    format!("[{}]", strokes.join(","))
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: {} recognitions, median {:.2} ms, p99 {:.2} ms, slowest {:.2} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
}
