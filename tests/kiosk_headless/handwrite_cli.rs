//! `grievance-kiosk ime handwrite`: one character's strokes as JSON on standard input, its
//! candidates out, best first; bad input refused with what is wrong. Uses Debian's model
//! (`tegaki-zinnia-simplified-chinese`, which scripts/test installs): without it the tests that
//! recognise fail, saying so.

use crate::exec;

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;

/// `ime handwrite ARGS` with `stdin` on its standard input, in an empty directory with no
/// `KIOSK_*` variable.
fn handwrite(args: &[&str], stdin: &str) -> Output {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KIOSK_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .env("KIOSK_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .args(["ime", "handwrite"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("the strokes are written");
    child.wait_with_output().expect("the binary runs")
}

/// 工 as the test set draws it (crates/handwriting/testdata), on a 1024 × 1024 pad.
fn gong() -> String {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../crates/handwriting/testdata/strokes.json"
    ))
    .unwrap();
    let entry = fixture["characters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[0] == "工")
        .unwrap();
    serde_json::json!({"width": 1024, "height": 1024, "strokes": entry[1]}).to_string()
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "ime handwrite failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

/// The one line of standard error of a command that failed.
fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "it should have failed");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn handwrite_prints_the_candidates_best_first_as_json() {
    let stdout = succeeded(&handwrite(&["--json", "--limit", "5"], &gong()));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let line: Value = serde_json::from_str(stdout.trim_end()).unwrap();
    let candidates = line["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 5);
    assert_eq!(candidates[0]["character"], "工", "{stdout}");
    let scores: Vec<f64> = candidates
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn handwrite_prints_a_numbered_list_for_people() {
    let stdout = succeeded(&handwrite(&["--limit", "3"], &gong()));
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(
        stdout.lines().next().unwrap().starts_with(" 1. 工 "),
        "{stdout}"
    );
}

#[test]
fn handwrite_refuses_input_that_is_not_strokes_saying_what_is_wrong() {
    let err = refused(&handwrite(&["--json"], "工"));
    assert!(
        err.contains("standard input is not one character's strokes"),
        "{err}"
    );
    let err = refused(&handwrite(&["--json"], r#"{"width": 100, "height": 100}"#));
    assert!(err.contains("missing field `strokes`"), "{err}");
    let err = refused(&handwrite(
        &["--json"],
        r#"{"width": 100, "height": 100, "strokes": [[[1, 2, 3]]]}"#,
    ));
    assert!(err.contains("line 1 column"), "{err}");
    let err = refused(&handwrite(
        &["--json"],
        r#"{"width": 100, "height": 100, "strokes": [], "pressure": 1}"#,
    ));
    assert!(err.contains("unknown field `pressure`"), "{err}");
}

#[test]
fn handwrite_refuses_ink_the_recogniser_cannot_take() {
    let err = refused(&handwrite(
        &[],
        r#"{"width": 100, "height": 100, "strokes": []}"#,
    ));
    assert!(err.contains("no strokes"), "{err}");
    let err = refused(&handwrite(
        &[],
        r#"{"width": 0, "height": 100, "strokes": [[[1, 2]]]}"#,
    ));
    assert!(err.contains("pad's size"), "{err}");
    let err = refused(&handwrite(
        &[],
        r#"{"width": 100, "height": 100, "strokes": [[[1, 2]], []]}"#,
    ));
    assert!(err.contains("stroke 1 has no points"), "{err}");
}

#[test]
fn handwrite_with_a_missing_model_names_the_file() {
    let err = refused(&handwrite(
        &["--model", "/nonexistent/handwriting.model"],
        &gong(),
    ));
    assert!(err.contains("/nonexistent/handwriting.model"), "{err}");
}
