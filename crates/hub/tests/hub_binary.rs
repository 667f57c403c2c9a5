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

/// `user add` takes the password from standard input and makes an account that logs in; what
/// cannot be an account is refused naming what is wrong; `user list` never shows a hash;
/// `district show --json` gives the tree by the contract's names.
#[tokio::test]
async fn user_add_makes_an_account_from_standard_input_and_refuses_what_cannot_be_one() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = clean_env(&mut exec::program(HUB))
            .args(args)
            .env("HUB_DATA_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command refused before it reads its input has closed it: no error.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let add = [
        "user",
        "add",
        "--id",
        "wang.li",
        "--unit",
        "gm-north",
        "--role",
        "secretary",
        "--name",
        "王丽",
    ];
    let (ok, out, err) = run(&add, "a long enough password\n");
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "added account `wang.li` (secretary of gm-north)"
    );
    let (ok, _, err) = run(&add, "another long password\n");
    assert!(!ok && err.contains("exists already"), "{err}");
    for (args, says) in [
        (
            vec![
                "user", "add", "--id", "x1", "--unit", "gm-north", "--role", "boss",
            ],
            "role: `boss` is not a role",
        ),
        (
            vec![
                "user",
                "add",
                "--id",
                "x2",
                "--unit",
                "housing",
                "--role",
                "secretary",
            ],
            "a secretary works in a community, and `housing` is a department",
        ),
        (
            vec![
                "user", "add", "--id", "x3", "--unit", "atlantis", "--role", "leader",
            ],
            "`atlantis` is no unit",
        ),
        (
            vec![
                "user",
                "add",
                "--id",
                "x 4",
                "--unit",
                "housing",
                "--role",
                "department",
            ],
            "is not an id",
        ),
        (
            vec!["user", "add", "--unit", "housing", "--role", "department"],
            "--id is required",
        ),
    ] {
        let (ok, _, err) = run(&args, "a long enough password\n");
        assert!(!ok && err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--id",
            "x5",
            "--unit",
            "housing",
            "--role",
            "department",
        ],
        "short\n",
    );
    assert!(!ok && err.contains("at least 10 characters"), "{err}");
    let (ok, list, _) = run(&["user", "list"], "");
    assert!(ok);
    assert_eq!(list.trim(), "wang.li\tgm-north\tsecretary\t王丽");

    // The account logs in to a hub on that data.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub = hub::start(hub::HubConfig::new(dir.path()), listener)
        .await
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let login = |password: &'static str| {
        client
            .post(format!("{}/api/v1/login", hub.base_url()))
            .json(&serde_json::json!({"user": "wang.li", "password": password}))
            .send()
    };
    assert_eq!(login("a long enough password").await.unwrap().status(), 200);
    assert_eq!(login("another long password").await.unwrap().status(), 401);

    let (ok, json, _) = run(&["district", "show", "--json"], "");
    assert!(ok);
    let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
    let units = tree["units"].as_array().unwrap();
    assert_eq!(units.len(), 18);
    let demo = units.iter().find(|u| u["id"] == "demo").unwrap();
    assert_eq!(
        (demo["kind"].as_str(), demo["parent"].as_str()),
        (Some("station"), Some("gm-north"))
    );
    let (ok, text, _) = run(&["district", "show"], "");
    assert!(ok && text.contains("calendar 2027: provisional"), "{text}");
}

/// The hub's log, at its most talkative, never holds a resident's phone, words or answers,
/// whatever the back office does with the case (views, refusals, failed logins included).
#[tokio::test]
async fn the_back_office_never_writes_personal_data_to_the_log() {
    use std::io::{Read, Write};
    const PHONE: &str = "13987654321";
    const WORDS: &str = "拖欠三十万工程款-LOG-CANARY";
    const ANSWER: &str = "10到29人-LOG-CANARY";
    let dir = tempfile::tempdir().unwrap();
    for (id, unit, role) in [
        ("dispatcher", "demo-district", "dispatcher"),
        ("secretary", "gm-north", "secretary"),
        ("housing", "housing", "department"),
    ] {
        let mut child = clean_env(&mut exec::program(HUB))
            .args(["user", "add", "--id", id, "--unit", unit, "--role", role])
            .env("HUB_DATA_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("password-of-{id}\n").as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
    let mut child = clean_env(&mut exec::program(HUB))
        .env("HUB_LISTEN", "127.0.0.1:0")
        .env("HUB_DATA_DIR", dir.path())
        .env("HUB_STATION_TOKENS", "demo=a-station-token-for-demo")
        .env("HUB_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    let mut token_bytes = [0u8; 10];
    getrandom::fill(&mut token_bytes).unwrap();
    let code = domain::TrackingToken::from_random(token_bytes)
        .as_str()
        .to_owned();
    let case = protocol::CaseSubmission {
        id: id.clone(),
        token: code.clone(),
        station_id: "demo".into(),
        service: "complaint".into(),
        subtype: "wages_owed".into(),
        service_name: "投诉建议".into(),
        subtype_name: "拖欠工资".into(),
        answers: vec![protocol::SubmittedAnswer {
            question: "workers".into(),
            question_label: "有多少人被拖欠？".into(),
            value: "10_29".into(),
            value_label: ANSWER.into(),
        }],
        description: Some(WORDS.into()),
        phone: Some(PHONE.into()),
        anonymous: false,
        consent_version: "2024-01".into(),
        risk: domain::RiskAssessment::default(),
        language: domain::Language::Zh,
        channel: domain::Channel::Kiosk,
        filed_at: chrono::Utc::now(),
    };
    let filed = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth("a-station-token-for-demo")
        .header("Idempotency-Key", &id)
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let login = |user: &'static str, password: String| {
        let request = client
            .post(format!("{base}/api/v1/login"))
            .json(&serde_json::json!({"user": user, "password": password}));
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap()["token"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        }
    };
    assert_eq!(login("housing", "a wrong password".into()).await.0, 401);
    let (_, dispatcher) = login("dispatcher", "password-of-dispatcher".into()).await;
    let (_, secretary) = login("secretary", "password-of-secretary".into()).await;
    let (_, housing) = login("housing", "password-of-housing".into()).await;
    let call = |token: &str, path: String, body: serde_json::Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let case_path = |action: &str| format!("/api/v1/district/cases/{code}/{action}");
    assert_eq!(
        call(
            &dispatcher,
            case_path("route"),
            serde_json::json!({"unit": "gm-north"})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        call(&housing, case_path("accept"), serde_json::json!({}))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        call(&secretary, case_path("accept"), serde_json::json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    let seen = client
        .get(format!("{base}/api/v1/district/cases/{code}"))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap();
    assert!(
        seen.text().await.unwrap().contains(PHONE),
        "the secretary sees the phone"
    );
    assert_eq!(
        call(
            &secretary,
            case_path("resolve"),
            serde_json::json!({"result": "已结清"})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let page = client
        .get(format!("{base}/cases/{code}"))
        .header("cookie", format!("gk_session={secretary}"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains(WORDS));
    child.kill().unwrap();
    child.wait().unwrap();
    let log = log.join().unwrap();
    assert!(
        log.contains("failed login") && log.contains("refused"),
        "the log was on: {log}"
    );
    for secret in [PHONE, WORDS, ANSWER, "13987", "工程款"] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
}

/// The deadlines' scheduler, killed in the middle of its run, neither raises a step twice nor
/// misses one: each batch of cases is one transaction (steps, timeline, next moment), so the
/// killed process's batch is gone whole and the next process does it whole.
#[test]
fn the_scheduler_killed_mid_run_raises_every_step_once() {
    const CASES: usize = 1500;
    // Per case: accept and resolve, each with its reminder, chase and supervision, all past.
    const STEPS: i64 = 6 * CASES as i64;
    let dir = tempfile::tempdir().unwrap();
    // The schema, made by the binary itself.
    let made = clean_env(&mut exec::program(HUB))
        .args(["user", "list"])
        .env("HUB_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(made.status.success());
    let db_path = dir.path().join("hub.sqlite3");
    {
        let mut db = rusqlite::Connection::open(&db_path).unwrap();
        let tx = db.transaction().unwrap();
        for n in 0..CASES {
            tx.execute(
                "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                     filed_at, received_at, updated_at, source, body, body_sha256)
                 VALUES (?1, ?2, 'demo', 'complaint', 'noise', 'normal', 'assigned',
                     '2026-11-02T01:00:00.000000Z', '2026-11-02T01:00:00.000000Z',
                     '2026-11-02T01:00:00.000000Z', 'native', '{}', 'seeded')",
                rusqlite::params![format!("case-{n:05}"), format!("TOKEN{n:012}")],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO district_cases (case_id, station_id, service, risk_level, filed_at,
                     stage, unit, class, routed_at, accept_by,
                     resolve_by, returns, redo_count, extensions, next_step_at, version)
                 VALUES (?1, 'demo', 'complaint', 'normal', '2026-11-02T01:00:00.000000Z',
                     'assigned', 'gm-north', 'general', '2026-11-02T01:00:00.000000Z',
                     '2026-11-02T05:00:00.000000Z', '2026-11-11T01:00:00.000000Z', 0, 0, 0,
                     '2026-11-02T04:00:00.000000Z', 1)",
                rusqlite::params![format!("case-{n:05}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let reader = rusqlite::Connection::open(&db_path).unwrap();
    reader
        .busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let count = |sql: &str| -> i64 { reader.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Between two looks at the database: long enough to leave the hub the machine, far
    // shorter than a batch.
    let pause = || std::thread::sleep(std::time::Duration::from_millis(5));
    let start = || {
        clean_env(&mut exec::program(HUB))
            .env("HUB_LISTEN", "127.0.0.1:0")
            .env("HUB_DATA_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts")
    };
    // The first process starts the run before it serves; it is killed once its first batch
    // is committed.
    let mut first = start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let raised = loop {
        if count("SELECT count(*) FROM deadline_steps") > 0 {
            break true;
        }
        if std::time::Instant::now() >= deadline {
            break false;
        }
        pause();
    };
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(raised, "the scheduler raised nothing");
    let at_kill = count("SELECT count(*) FROM deadline_steps");
    assert!(
        at_kill < STEPS,
        "killed in the middle: {at_kill} of {STEPS} steps"
    );
    // The next process does the rest.
    let mut second = start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let finished = loop {
        if count("SELECT count(*) FROM deadline_steps") >= STEPS {
            break true;
        }
        if std::time::Instant::now() >= deadline {
            break false;
        }
        pause();
    };
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(finished, "the rest was not raised");
    assert_eq!(
        count("SELECT count(*) FROM deadline_steps"),
        STEPS,
        "nothing twice"
    );
    assert_eq!(
        count("SELECT count(*) FROM district_events WHERE by_user = 'scheduler'"),
        STEPS,
        "one timeline entry per step"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT case_id FROM deadline_steps GROUP BY case_id
             HAVING count(*) = 6)"
        ),
        CASES as i64,
        "every case has all six"
    );
    assert_eq!(
        count("SELECT count(*) FROM district_cases WHERE next_step_at IS NOT NULL"),
        0,
        "nothing left to raise"
    );
}
