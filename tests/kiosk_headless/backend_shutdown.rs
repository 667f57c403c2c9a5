//! Dropping the backend stops it in order and in time (the issue "One workspace whose boundaries
//! the compiler keeps": tasks and shutdown): the screen's operations first, then the scanner,
//! the print queue, the outbox, the roster, the heartbeat, and last the local hub. Each part
//! says it stopped (`BackendEvent::Stopped`), so the order is the one they really stopped in,
//! and a part that did not stop within its time is missing from it. A slip being printed when
//! the backend stops is printed, or left waiting in the database and printed at the next start:
//! never lost.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use devices::emulator::{Emulator, Script};
use domain::CaseDraft;
use grievance_kiosk::app::backend::{Backend, BackendEvent, Task};
use slip::status::PrinterState;
use station::config::KioskConfig;
use station::kiosk::Kiosk;
use station::store::PrintJobState;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;

/// Every part, in the order the backend stops them.
const ORDER: [Task; 7] = [
    Task::Intake,
    Task::Scanner,
    Task::PrintQueue,
    Task::Outbox,
    Task::Roster,
    Task::Heartbeat,
    Task::LocalHub,
];

/// The next event that `wanted` picks, failing after a minute with none (a guard against a
/// hang, not a measure of anything).
fn until(
    events: &mut UnboundedReceiver<BackendEvent>,
    what: &str,
    wanted: impl Fn(&BackendEvent) -> bool,
) -> BackendEvent {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match events.recv().await {
                    Some(event) if wanted(&event) => return event,
                    Some(_) => {}
                    None => panic!("the backend stopped before {what}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {what} from the backend"))
    })
}

/// What the backend said after it was dropped, in order. Everything a part had to say before
/// it stopped is in the channel by then.
fn said_after_drop(events: &mut UnboundedReceiver<BackendEvent>) -> Vec<BackendEvent> {
    let mut said = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) => said.push(event),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => return said,
        }
    }
}

fn stopped(said: &[BackendEvent]) -> Vec<Task> {
    said.iter()
        .filter_map(|e| match e {
            BackendEvent::Stopped(task) => Some(*task),
            _ => None,
        })
        .collect()
}

/// The built-in station in `dir`, with a serial scanner that is not plugged in (its reader
/// runs, trying to open the port) and, if given, a printer on `printer_port`.
fn config(dir: &std::path::Path, printer_port: Option<&std::path::Path>) -> Arc<KioskConfig> {
    let mut config = (*common::config_in(dir)).clone();
    config.scanner.port = Some(dir.join("no-scanner-here").display().to_string());
    config.printer.port = printer_port.map(|p| p.display().to_string());
    Arc::new(config)
}

#[test]
fn dropping_the_backend_stops_every_part_in_order_and_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, mut events) = Backend::start(config(dir.path(), None)).expect("it starts");
    // Every loop has gone round once and sleeps: the print queue has asked the printer, the
    // scanner's reader has found no port and waits to try again (in either order).
    let (mut printer, mut scanner) = (false, false);
    while !(printer && scanner) {
        match until(&mut events, "printer state and scanner loss", |e| {
            matches!(e, BackendEvent::Printer(_) | BackendEvent::Scanner(false))
        }) {
            BackendEvent::Printer(_) => printer = true,
            _ => scanner = true,
        }
    }

    drop(backend);

    let said = said_after_drop(&mut events);
    assert_eq!(stopped(&said), ORDER, "{said:?}");
}

#[test]
fn a_slip_being_printed_when_the_backend_stops_is_printed_or_left_waiting_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let profile = KioskConfig::builtin().printer_profile();
    let emulator = Emulator::start(
        Script::Ready,
        u32::from(profile.dots_per_line),
        profile.answers_gs_r,
        Some(&link),
    )
    .unwrap();
    let config = config(dir.path(), Some(&link));
    let (backend, mut events) = Backend::start(config.clone()).expect("it starts");
    until(&mut events, "a ready printer", |e| {
        *e == BackendEvent::Printer(PrinterState::Ready)
    });

    // The slip goes out over a slow line (a few seconds), and the backend is dropped as soon
    // as the print queue says it is printing it.
    emulator.set_script(Script::Slow {
        bytes_per_second: 1500,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let filed = runtime
        .block_on(backend.submit(CaseDraft {
            service: "complaint".into(),
            subtype: Some("noise".into()),
            description: "楼上装修噪音".into(),
            phone: "13800138000".into(),
            consent_version: Some(KioskConfig::builtin().consent.version),
            ..CaseDraft::default()
        }))
        .expect("the backend answers")
        .expect("the case is filed");
    let token = filed.case.token.clone();
    until(
        &mut events,
        "the slip printing",
        |e| matches!(e, BackendEvent::Job(o) if o.token == token && o.state == PrintJobState::Printing),
    );

    drop(backend);

    let said = said_after_drop(&mut events);
    assert_eq!(
        stopped(&said),
        ORDER,
        "every part stopped in time: {said:?}"
    );
    let kept = Kiosk::open(config.clone())
        .unwrap()
        .find_case(token.as_str())
        .expect("the case is kept");
    let printed = |emulator: &Emulator| {
        emulator
            .jobs()
            .iter()
            .filter(|j| j.cut && j.lost_bytes == 0)
            .count()
    };
    match kept.print_state {
        // The print queue finished the slip before it stopped, and said so before it did.
        PrintJobState::Printed => {
            assert_eq!(printed(&emulator), 1, "the slip came out whole");
            let finished = said.iter().position(|e| {
                matches!(e, BackendEvent::Job(o) if o.token == token && o.state == PrintJobState::Printed)
            });
            let queue_stopped = said
                .iter()
                .position(|e| *e == BackendEvent::Stopped(Task::PrintQueue));
            assert!(
                finished.is_some() && finished < queue_stopped,
                "the slip was printed before the print queue stopped: {said:?}"
            );
        }
        // Left waiting: the next start prints it.
        PrintJobState::Pending | PrintJobState::Printing => {
            emulator.set_script(Script::Ready);
            let (again, mut events) = Backend::start(config).expect("it starts again");
            until(
                &mut events,
                "the waiting slip printed",
                |e| matches!(e, BackendEvent::Job(o) if o.token == token && o.state == PrintJobState::Printed),
            );
            drop(again);
            assert!(printed(&emulator) >= 1, "the slip came out whole");
        }
        other => panic!("the slip was neither printed nor left waiting: {other:?}"),
    }
}
