//! The systemd watchdog (issue 7) against a fake `NOTIFY_SOCKET`: a datagram socket this test
//! binds, where the kiosk's watchdog sends what systemd would receive. It pets (`WATCHDOG=1`)
//! only while every watched part beats; a part that stops (a stuck print task) stops the petting
//! and is named in `STATUS=`, so systemd restarts the kiosk; when it beats again petting resumes.
//! The real backend's print queue and outbox beat on their own.

use crate::common;

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use devices::systemd::{spawn_watchdog, Liveness, Notifier, NotifyAddress};
use grievance_kiosk::app::backend::{Backend, QUIET_ALLOWED};

/// The next message on the fake socket, or `None` after `wait`.
fn next(socket: &UnixDatagram, wait: Duration) -> Option<String> {
    socket.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 512];
    match socket.recv(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("the fake NOTIFY_SOCKET failed: {e}"),
    }
}

/// Reads until a message satisfies `wanted` (within 10 s), returning it.
fn until(socket: &UnixDatagram, wanted: impl Fn(&str) -> bool, what: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Some(m) = next(socket, Duration::from_secs(1)) {
            if wanted(&m) {
                return m;
            }
        }
    }
    panic!("no {what} reached the fake NOTIFY_SOCKET in 10 s");
}

#[test]
fn a_part_that_stops_beating_stops_the_petting_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&path).unwrap();

    // Generous allowances: a busy machine may starve the beating thread for a while, and only
    // the part that stops beating on purpose may be named.
    let liveness = Liveness::new(&[
        ("ui", Duration::from_secs(30)),
        ("printer", Duration::from_secs(1)),
    ]);
    let (ui, printer) = (liveness.beat("ui"), liveness.beat("printer"));
    let printer_runs = Arc::new(AtomicBool::new(true));
    let runs = printer_runs.clone();
    std::thread::spawn(move || loop {
        ui.beat();
        if runs.load(Ordering::Relaxed) {
            printer.beat();
        }
        std::thread::sleep(Duration::from_millis(40));
    });
    spawn_watchdog(
        Notifier::to(NotifyAddress::Path(path.clone())).unwrap(),
        liveness,
        Duration::from_millis(200),
    )
    .unwrap();

    until(&systemd, |m| m == "WATCHDOG=1", "pet while both parts beat");

    // The print task gets stuck.
    printer_runs.store(false, Ordering::Relaxed);
    let status = until(&systemd, |m| m.starts_with("STATUS=stuck"), "stuck status");
    assert!(status.contains("printer"), "{status}");
    assert!(
        !status.contains("ui ("),
        "only the stuck part is named: {status}"
    );
    // From then on, systemd hears nothing: its WatchdogSec runs out and it restarts the kiosk.
    assert_eq!(
        next(&systemd, Duration::from_millis(1500)),
        None,
        "no pet while a part is stuck"
    );

    // It recovers: petting resumes.
    printer_runs.store(true, Ordering::Relaxed);
    assert_eq!(
        until(&systemd, |m| m.starts_with("STATUS="), "running status"),
        "STATUS=running"
    );
    until(&systemd, |m| m == "WATCHDOG=1", "pet after recovery");
}

#[test]
fn the_real_backend_print_queue_and_outbox_beat_and_an_abstract_socket_is_reached() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_in(dir.path());
    let name = format!("grievance-kiosk-test-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let systemd = UnixDatagram::bind_addr(&addr).unwrap();

    let (backend, _events) = Backend::start(config).expect("the backend starts");
    let liveness = backend.liveness();
    let ui = liveness.beat("ui");
    ui.beat();
    assert!(
        liveness.stuck().is_empty(),
        "nothing is stuck at start: {:?}",
        liveness.stuck()
    );
    // The watched parts are the three the unit file's comment promises.
    let names: Vec<&str> = QUIET_ALLOWED.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["ui", "printer", "outbox"]);
    spawn_watchdog(
        Notifier::to(NotifyAddress::Abstract(name.into_bytes())).unwrap(),
        liveness,
        Duration::from_millis(200),
    )
    .unwrap();
    until(&systemd, |m| m == "WATCHDOG=1", "pet from the real backend");
    drop(backend);
}

/// The real backend's print task, stuck: a staff action on the printer that never returns (as
/// a wedged USB-serial driver would) holds the printer, so the print queue's next pass waits
/// for it and the queue stops beating. The watchdog stops petting and names the printer; once
/// the action returns, the queue beats again and petting resumes. The allowances are shortened
/// from the kiosk's (QUIET_ALLOWED) so that the test takes seconds, not minutes.
#[test]
fn the_real_print_task_stuck_behind_a_wedged_printer_stops_the_petting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*common::config_in(dir.path())).clone();
    config.printer.status_poll_s = 1;
    let config = Arc::new(config);
    let path = dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&path).unwrap();

    let allowances = [
        ("ui", Duration::from_secs(600)),
        ("printer", Duration::from_millis(2500)),
        ("outbox", Duration::from_secs(600)),
    ];
    let (backend, _events) =
        Backend::start_watched(config, &allowances).expect("the backend starts");
    let liveness = backend.liveness();
    let ui = liveness.beat("ui");
    let ui_runs = Arc::new(AtomicBool::new(true));
    let runs = ui_runs.clone();
    std::thread::spawn(move || {
        while runs.load(Ordering::Relaxed) {
            ui.beat();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    spawn_watchdog(
        Notifier::to(NotifyAddress::Path(path.clone())).unwrap(),
        liveness,
        Duration::from_millis(200),
    )
    .unwrap();
    until(&systemd, |m| m == "WATCHDOG=1", "pet while the queue runs");

    // The wedge: an action on the printer that returns only when the test lets it.
    let (release, wedged) = std::sync::mpsc::channel::<()>();
    let action = backend.with_printer(move |_, _, _, _| {
        let _ = wedged.recv();
        Ok(())
    });
    let status = until(&systemd, |m| m.starts_with("STATUS=stuck"), "stuck status");
    assert!(status.contains("printer"), "{status}");
    assert!(
        !status.contains("outbox") && !status.contains("ui ("),
        "only the print queue is stuck: {status}"
    );
    assert_eq!(
        next(&systemd, Duration::from_millis(1500)),
        None,
        "no pet while the print queue is stuck"
    );

    release.send(()).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(action)
        .expect("the action answers")
        .expect("and succeeds");
    assert_eq!(
        until(&systemd, |m| m.starts_with("STATUS="), "running status"),
        "STATUS=running"
    );
    until(
        &systemd,
        |m| m == "WATCHDOG=1",
        "pet after the printer is free",
    );
    ui_runs.store(false, Ordering::Relaxed);
    drop(backend);
}
