//! The slip's encoder: for every built-in profile and every kind of slip, its bytes and the time
//! `slip::escpos::encode` takes to turn the laid-out slip into them.
//!
//! `cargo bench --bench slip` writes its part of BENCHMARKS.md. `BENCH_SLIP_PART=before` writes
//! it under a part of its own, so that two encoders (issue 21: our own against the `escpos`
//! crate's) stand side by side, each measured at its own commit on the same machine.
//!
//! Each figure is the median of 31 samples; a sample times 400 encodes one after the other and
//! divides. The slips are `station::kiosk::specimen_slips` (fixed codes and times), laid out
//! once: only the encoder is timed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use slip::layout::layout;
use slip::profile::builtin_profiles;
use station::config::KioskConfig;
use station::kiosk::specimen_slips;

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

const SAMPLES: usize = 31;
const ENCODES_PER_SAMPLE: u32 = 400;

fn main() {
    let part = std::env::var("BENCH_SLIP_PART").unwrap_or_else(|_| "now".into());
    if !matches!(part.as_str(), "now" | "before") {
        eprintln!("BENCH_SLIP_PART: `{part}` is neither `now` nor `before`");
        std::process::exit(2);
    }
    let config = KioskConfig::builtin();
    let specimens = specimen_slips(&config);
    let mut rows = String::new();
    for profile in builtin_profiles() {
        for (kind, content) in &specimens {
            let blocks = layout(content, &profile);
            let bytes = slip::escpos::encode(&blocks, &profile).len();
            let mut samples: Vec<Duration> = (0..SAMPLES)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..ENCODES_PER_SAMPLE {
                        black_box(slip::escpos::encode(black_box(&blocks), &profile));
                    }
                    start.elapsed() / ENCODES_PER_SAMPLE
                })
                .collect();
            samples.sort();
            let median = common::percentile(&samples, 0.5);
            eprintln!("{} {kind}: {bytes} bytes, {median:.2?}", profile.id);
            rows.push_str(&format!(
                "| `{}` | {kind} | {bytes} | {:.1} µs |\n",
                profile.id,
                median.as_secs_f64() * 1e6
            ));
        }
    }
    let title = match part.as_str() {
        "before" => "Before: the project's own encoder",
        _ => "Now",
    };
    let start =
        format!("<!-- the slip's encoder ({part}): written by `cargo bench --bench slip` -->");
    let end = format!("<!-- end of the slip's encoder ({part}) -->");
    let md = format!(
        "{start}\n### {title}\n\nAt commit `{}`, on {}. Median of {SAMPLES} samples of \
         {ENCODES_PER_SAMPLE} encodes each (the slip laid out once; only `encode` timed).\n\n\
         | profile | slip | bytes | encode |\n|---|---|---|---|\n{rows}{end}",
        common::commit(),
        common::machine()
    );
    common::write_section(&md, &start, &end);
}
