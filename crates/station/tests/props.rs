//! Properties of the kiosk's configuration reader (issue 17, "every input parser
//! property-tested"): a station's `kiosk.toml` of any content, and any `KIOSK_*` variables, are
//! loaded or refused without a panic; a refusal names the file (or the variable); and every key
//! of the reference configuration given a value of the wrong type, or any number, is refused
//! naming that key. Each case is a real file in a temporary directory, read by
//! `KioskConfig::load` as the kiosk starts.

use std::path::Path;

use proptest::prelude::*;
use toml::Value;

use station::config::{ConfigError, KioskConfig};

/// The reference configuration (every key, with its default), as shipped in the repository.
const DEFAULT_TOML: &str = include_str!("../src/config/default.toml");

const VARIABLES: [&str; 11] = [
    "KIOSK_DATA_DIR",
    "KIOSK_STATION_ID",
    "KIOSK_PRINTER_PORT",
    "KIOSK_PRINTER_PROFILE",
    "KIOSK_PRINTER_BAUD",
    "KIOSK_SCANNER_PORT",
    "KIOSK_UPSTREAM_URL",
    "KIOSK_UPSTREAM_KIND",
    "KIOSK_UPSTREAM_TOKEN",
    "KIOSK_TRACKING_BASE_URL",
    "KIOSK_VOICE_OUTPUT",
];

fn load(dir: &Path, text: &[u8], env: &[(String, String)]) -> Result<KioskConfig, ConfigError> {
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).expect("the file is written");
    KioskConfig::load(Some(&path), |name| {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    })
}

/// A refusal names where the fault is: the file (with a line within it, when given) or the
/// variable; and says what is wrong.
fn check_refusal(
    e: &ConfigError,
    text: &[u8],
    env: &[(String, String)],
) -> Result<(), TestCaseError> {
    match e {
        ConfigError::Invalid {
            origin,
            line,
            problem,
        } => {
            let named_variable = env.iter().any(|(n, _)| origin.contains(n.as_str()));
            prop_assert!(origin.contains("kiosk.toml") || named_variable, "{}", e);
            prop_assert!(!problem.trim().is_empty(), "{}", e);
            if let Some((l, c)) = line {
                let lines = String::from_utf8_lossy(text).lines().count().max(1);
                prop_assert!(
                    *l >= 1 && *l <= lines + 1 && *c >= 1,
                    "line {} of {}: {}",
                    l,
                    lines,
                    e
                );
            }
        }
        ConfigError::Unreadable { path, reason } => {
            prop_assert!(std::str::from_utf8(text).is_err(), "{}", e);
            prop_assert!(path.ends_with("kiosk.toml") && !reason.is_empty());
        }
    }
    Ok(())
}

/// Every key of the reference configuration: its path of tables (an array of tables by its
/// first element) and its value there.
#[derive(Debug, Clone)]
struct Key {
    /// `["printer", "baud"]`, `["emergency", "0", "number"]`.
    path: Vec<String>,
    value: Value,
}

fn keys() -> Vec<Key> {
    fn walk(value: &Value, path: Vec<String>, out: &mut Vec<Key>) {
        match value {
            Value::Table(t) if path.len() < 2 || !is_inline_value(&path) => {
                for (k, v) in t {
                    let mut p = path.clone();
                    p.push(k.clone());
                    walk(v, p, out);
                }
            }
            Value::Array(items) if items.first().is_some_and(Value::is_table) => {
                let mut p = path.clone();
                p.push("0".into());
                walk(&items[0], p, out);
            }
            other => out.push(Key {
                path,
                value: other.clone(),
            }),
        }
    }
    /// Inline tables that are values (a name in each language), not sections.
    fn is_inline_value(path: &[String]) -> bool {
        matches!(
            path.last().map(String::as_str),
            Some("name" | "address" | "network" | "text" | "label")
        )
    }
    let reference: Value =
        toml::from_str(DEFAULT_TOML).expect("the reference configuration parses");
    let mut out = Vec::new();
    walk(&reference, Vec::new(), &mut out);
    out
}

/// The reference configuration with one key set to `value`, as a station's file: only the
/// section (or the whole first element of a list) that holds it.
fn file_with(key: &Key, value: Value) -> String {
    let reference: Value = toml::from_str(DEFAULT_TOML).unwrap();
    let top = &key.path[0];
    let mut section = reference[top.as_str()].clone();
    let mut target = &mut section;
    for step in &key.path[1..] {
        target = match step.parse::<usize>() {
            Ok(i) => &mut target.as_array_mut().unwrap()[i],
            Err(_) => &mut target.as_table_mut().unwrap()[step.as_str()],
        };
    }
    *target = value;
    if let Value::Array(items) = &mut section {
        items.truncate(1);
    }
    let mut file = toml::Table::new();
    file.insert(top.clone(), section);
    toml::to_string(&file).expect("the file is written")
}

/// A value of another type than `value`'s.
fn wrong_type(value: &Value) -> Vec<Value> {
    let table = || {
        let mut t = toml::Table::new();
        t.insert("x".into(), Value::Integer(1));
        Value::Table(t)
    };
    match value {
        Value::String(_) => vec![Value::Integer(7), Value::Boolean(true), table()],
        Value::Integer(_) => vec![
            Value::String("seven".into()),
            Value::Float(7.5),
            Value::Array(vec![]),
        ],
        Value::Float(_) => vec![Value::String("seven".into()), Value::Boolean(false)],
        Value::Boolean(_) => vec![Value::String("yes".into()), Value::Integer(1)],
        Value::Array(_) => vec![Value::Integer(7), Value::String("seven".into())],
        Value::Table(_) => vec![Value::Integer(7), Value::String("seven".into())],
        Value::Datetime(_) => vec![Value::Integer(7), Value::Boolean(true)],
    }
}

fn the_key_is_named(e: &ConfigError, key: &Key) -> bool {
    let leaf = key.path.last().unwrap();
    // An array's element is named by its list (`shifts[0]`) or by itself.
    let named = |name: &str| e.to_string().contains(name);
    named(leaf) || (leaf.parse::<usize>().is_ok() && named(&key.path[key.path.len() - 2]))
}

/// Every key of the reference configuration, given a value of the wrong type, is refused
/// naming the key.
#[test]
fn every_key_of_the_wrong_type_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    assert!(keys.len() > 50, "only {} keys found", keys.len());
    let mut unnamed = Vec::new();
    for key in &keys {
        for wrong in wrong_type(&key.value) {
            let text = file_with(key, wrong.clone());
            match load(dir.path(), text.as_bytes(), &[]) {
                Ok(_) => unnamed.push(format!("{} = {wrong} was accepted", key.path.join("."))),
                Err(e) if !the_key_is_named(&e, key) => {
                    unnamed.push(format!("{} = {wrong}: {e}", key.path.join(".")))
                }
                Err(_) => {}
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "refusals that do not name their key:\n{}",
        unnamed.join("\n")
    );
}

fn number() -> impl Strategy<Value = i64> {
    prop_oneof![
        -5i64..5,
        0i64..100_000,
        any::<i64>(),
        Just(i64::from(u32::MAX) + 1),
        Just(i64::from(u16::MAX) + 1),
        Just(256)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any number for a key that takes a number is accepted or refused naming the key.
    #[test]
    fn any_number_is_accepted_or_refused_by_name(pick in any::<prop::sample::Index>(), n in number()) {
        let numeric: Vec<Key> = keys().into_iter().filter(|k| k.value.is_integer()).collect();
        let key = pick.get(&numeric);
        let dir = tempfile::tempdir().unwrap();
        let text = file_with(key, Value::Integer(n));
        if let Err(e) = load(dir.path(), text.as_bytes(), &[]) {
            check_refusal(&e, text.as_bytes(), &[])?;
            prop_assert!(the_key_is_named(&e, key), "{} = {}: {}", key.path.join("."), n, e);
        }
    }

    /// Any text for a key that takes text is accepted or refused naming the key.
    #[test]
    fn any_text_is_accepted_or_refused_by_name(pick in any::<prop::sample::Index>(), s in prop_oneof!["\\PC{0,12}", any::<String>(), Just(String::new())]) {
        let textual: Vec<Key> = keys().into_iter().filter(|k| k.value.is_str()).collect();
        let key = pick.get(&textual);
        let dir = tempfile::tempdir().unwrap();
        let text = file_with(key, Value::String(s.clone()));
        if let Err(e) = load(dir.path(), text.as_bytes(), &[]) {
            check_refusal(&e, text.as_bytes(), &[])?;
            prop_assert!(the_key_is_named(&e, key), "{} = {:?}: {}", key.path.join("."), s, e);
        }
    }

    /// A file of any bytes, and a reference section bent anywhere, never panics the reader; a
    /// refusal names the file, and its line is within it.
    #[test]
    fn any_file_is_loaded_or_refused(
        text in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<String>().prop_map(String::into_bytes),
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), "\\PC{0,4}|[\\[\\]=\"'{}.,\n]{1,3}").prop_map(|(a, b, junk)| {
                let i = a.index(DEFAULT_TOML.len());
                let i = (0..=i).rev().find(|&i| DEFAULT_TOML.is_char_boundary(i)).unwrap();
                let j = (i + b.index(40)).min(DEFAULT_TOML.len());
                let j = (j..=DEFAULT_TOML.len()).find(|&j| DEFAULT_TOML.is_char_boundary(j)).unwrap();
                format!("{}{junk}{}", &DEFAULT_TOML[..i], &DEFAULT_TOML[j..]).into_bytes()
            }),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        if let Err(e) = load(dir.path(), &text, &[]) {
            check_refusal(&e, &text, &[])?;
        }
    }

    /// Any `KIOSK_*` variables are taken or refused naming the variable.
    #[test]
    fn any_environment_is_taken_or_refused_by_name(
        env in proptest::collection::vec((prop::sample::select(VARIABLES.to_vec()), prop_oneof!["\\PC{0,12}", "[0-9]{1,12}", Just("open311".to_owned())]), 0..5),
    ) {
        let env: Vec<(String, String)> = env.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        let dir = tempfile::tempdir().unwrap();
        if let Err(e) = load(dir.path(), b"", &env) {
            check_refusal(&e, b"", &env)?;
        }
    }
}
