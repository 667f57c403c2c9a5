use grievance_kiosk::ime::{Dictionary, Options, Session};
use std::time::Instant;
const IME_INPUTS: &[&str] = &[
    "nihao",
    "tuoqiangongzi",
    "gzqf",
    "wuyefei",
    "zhuangxiuzaoyin",
    "loushui",
    "linjujiufen",
    "laodonghetong",
    "chaiqianbuchang",
    "zhaijidi",
    "fuyangfei",
    "jiatingbaoli",
    "falvyuanzhu",
    "paichusuo",
    "yiyuanbaoxiao",
    "dujulaoren",
    "xi'an",
    "zg",
    "woshiloushangdelinju",
    "laobanqianlewosangeyuedegongzi",
];
fn main() {
    let dict = Dictionary::builtin().unwrap();
    let session = Session::default();
    let mut keys = Vec::new();
    let mut worst = Vec::new();
    for _ in 0..5 {
        for input in IME_INPUTS {
            for end in 1..=input.len() {
                let start = Instant::now();
                let c = dict.suggest(&input[..end], Options::default(), &session);
                let t = start.elapsed();
                keys.push(t);
                worst.push((t, &input[..end]));
                std::hint::black_box(c);
            }
        }
    }
    keys.sort();
    worst.sort();
    let p = |q: f64| keys[((keys.len() - 1) as f64 * q).round() as usize];
    println!(
        "n={} median {:?} p90 {:?} p99 {:?} max {:?}",
        keys.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    );
    for (t, s) in worst.iter().rev().take(15) {
        println!("{t:?} {s}");
    }
}
