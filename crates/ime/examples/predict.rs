//! What the built-in dictionary offers: `cargo run -p ime --example predict -- 工资 没人`
//! prints the words predicted after each word given; `-- --suggest sangeyue lbtqgz` prints
//! the candidates for each pinyin instead.

use ime::{Dictionary, Options, Session};

fn main() {
    let dict = Dictionary::builtin().expect("the built-in dictionary loads");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let suggest = args.first().is_some_and(|a| a == "--suggest");
    for arg in args.iter().skip(usize::from(suggest)) {
        let words: Vec<String> = if suggest {
            dict.suggest(arg, Options::default(), &Session::default())
                .into_iter()
                .take(10)
                .map(|c| c.word)
                .collect()
        } else {
            dict.predict(arg, 10).into_iter().map(|c| c.word).collect()
        };
        println!("{arg}: {}", words.join(" "));
    }
}
