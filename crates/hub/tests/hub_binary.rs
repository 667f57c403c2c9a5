//! The `grievance-hub` binary: it starts from `HUB_*` variables and answers on the address it
//! reports, and a malformed variable stops it with one line naming the variable.

#[path = "../../../tests/exec/mod.rs"]
mod exec;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const HUB: &str = env!("CARGO_BIN_EXE_grievance-hub");

fn clean_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars() {
        if name.starts_with("HUB_") {
            command.env_remove(name);
        }
    }
    command
}

#[tokio::test]
async fn the_binary_serves_the_hub_on_the_address_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = clean_env(&mut exec::program(HUB))
        .env("HUB_LISTEN", "127.0.0.1:0")
        .env("HUB_DATA_DIR", dir.path())
        .env("HUB_STATION_TOKENS", "demo=a-station-token-for-demo")
        .env("HUB_OPERATOR_TOKEN", "an-operator-token-123")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in `{line}`"))
        .to_owned();

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let health = client.get(format!("{address}/healthz")).send().await;
    let operator = client
        .get(format!("{address}/operator"))
        .bearer_auth("an-operator-token-123")
        .send()
        .await;
    let services = client
        .get(format!("{address}/open311/v2/services.json"))
        .send()
        .await;
    child.kill().expect("the hub we started stops");
    child.wait().unwrap();

    assert_eq!(health.unwrap().text().await.unwrap(), "ok\n");
    let operator = operator.unwrap();
    assert_eq!(operator.status(), 200);
    assert!(operator.text().await.unwrap().contains("demo"));
    assert_eq!(services.unwrap().status(), 200);
    assert!(dir.path().join("hub.sqlite3").exists());
}

#[test]
fn a_malformed_variable_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value) in [
        ("HUB_STATION_TOKENS", "demo"),
        ("HUB_LISTEN", "not an address"),
        ("HUB_OPERATOR_TOKEN", "short"),
        ("HUB_TRACKING_RATE", "-3"),
    ] {
        let output = clean_env(&mut exec::program(HUB))
            .env("HUB_LISTEN", "127.0.0.1:0")
            .env("HUB_DATA_DIR", dir.path())
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(variable), "{stderr}");
    }
}

#[test]
fn an_address_in_use_is_reported_against_hub_listen() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = clean_env(&mut exec::program(HUB))
        .env("HUB_LISTEN", taken.local_addr().unwrap().to_string())
        .env("HUB_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("HUB_LISTEN"), "{stderr}");
}

/// `--help` explains the variables and starts nothing; any other argument is refused with one
/// line, before anything is created.
#[test]
fn help_lists_the_variables_and_an_argument_is_refused_without_starting() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        clean_env(&mut exec::program(HUB))
            .args(args)
            .current_dir(dir.path())
            .env("HUB_LISTEN", "127.0.0.1:0")
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for variable in [
        "HUB_LISTEN",
        "HUB_STATION_TOKENS",
        "HUB_OPERATOR_TOKEN",
        "16 characters",
    ] {
        assert!(text.contains(variable), "{variable} in {text}");
    }
    let version = run(&["--version"]);
    assert!(String::from_utf8(version.stdout)
        .unwrap()
        .starts_with("grievance-hub "));
    let stray = run(&["--listen", "0.0.0.0:80"]);
    assert!(!stray.status.success());
    let stderr = String::from_utf8(stray.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`--listen`") && stderr.contains("--help"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was created (no hub-data)"
    );
}
