//! The door of the screen's operations (an intake, a ticket, a booking, a staff action, a
//! lookup): each holds an [`InFlight`] while it runs, and the backend, stopping, first closes
//! the door and waits for those in flight, so that none is cut off half-way by the runtime's
//! end and none starts after the print queue and the outbox have gone. It is mini-redis's
//! `shutdown_complete` channel: every operation holds a sender, and the last one dropped ends
//! the wait.
//!
//! It does not queue or refuse work for any other reason, and it does not answer the screen:
//! an operation refused at a closed door drops its reply, which the controller already reads
//! as "the worker stopped".

use std::sync::Mutex;

use tokio::sync::mpsc;

/// Held by one operation while it runs.
pub(crate) struct InFlight {
    _held: mpsc::Sender<()>,
}

pub(crate) struct IntakeGate {
    /// `None` once closed.
    open: Mutex<Option<mpsc::Sender<()>>>,
    /// Ends (`None`) once every [`InFlight`] is dropped and the door is closed.
    finished: Mutex<Option<mpsc::Receiver<()>>>,
}

impl IntakeGate {
    pub(crate) fn new() -> IntakeGate {
        let (open, finished) = mpsc::channel(1);
        IntakeGate {
            open: Mutex::new(Some(open)),
            finished: Mutex::new(Some(finished)),
        }
    }

    /// A pass for one operation, or `None` once the door is closed.
    pub(crate) fn enter(&self) -> Option<InFlight> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.as_ref().map(|sender| InFlight {
            _held: sender.clone(),
        })
    }

    /// Closes the door and waits until every operation in flight has finished.
    pub(crate) async fn close(&self) {
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(self.open.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(mut finished) = finished {
            // Nothing is ever sent: `recv` ends when the last sender is gone.
            let _ = finished.recv().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_door_waits_for_the_operation_in_flight_and_takes_no_new_one() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let gate = IntakeGate::new();
        let in_flight = gate.enter().expect("the door is open");
        runtime.block_on(async {
            let closing = gate.close();
            tokio::pin!(closing);
            // The operation in flight holds the door's wait open.
            tokio::select! {
                biased;
                _ = &mut closing => panic!("closed while an operation was in flight"),
                _ = tokio::task::yield_now() => {}
            }
            assert!(gate.enter().is_none(), "no new operation once closing");
            drop(in_flight);
            closing.await;
        });
    }
}
