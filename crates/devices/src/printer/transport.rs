//! Where slip bytes go. [`PrinterLink`] is the one interface the print queue knows: ask the
//! printer's status, send a slip, ask whether it finished. The serial printer
//! ([`super::serial::SerialPrinter`]) and the [`VirtualPrinter`] implement it; the virtual
//! printer (the default where no serial port is configured) writes each slip as its raw ESC/POS
//! bytes and as a PNG rendered by the project's own interpreter, so a developer sees exactly
//! what would come out of a real printer.

use std::io::Write;
use std::path::{Path, PathBuf};

use slip::interpret::interpret;
use slip::render::render_png;
use slip::status::StatusBytes;

/// Why bytes did not reach the printer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The port is gone or cannot be opened (unplugged, wrong path, no permission).
    #[error("printer not reachable: {0}")]
    Disconnected(String),
    /// The printer stopped taking bytes (flow control held, buffer full) past the timeout.
    #[error("the printer stopped taking data after {sent} of {total} bytes")]
    Stalled { sent: usize, total: usize },
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

/// A printer as the print queue sees it.
pub trait PrinterLink: Send {
    /// What and where the printer is, for staff and `doctor`.
    fn describe(&self) -> String;
    /// Asks `DLE EOT 1..4`. Never fails: what the printer did not answer is `None`.
    fn status(&mut self) -> StatusBytes;
    /// Sends one slip. `name` is the case's tracking code, for printers that keep files.
    fn send(&mut self, name: &str, bytes: &[u8]) -> Result<(), LinkError>;
    /// After a slip: waits until the printer has worked through it and says whether it had
    /// paper all along (`GS r 1`). `None` when this printer cannot say.
    fn finish(&mut self) -> Option<bool>;
    /// Why the last exchange failed at the link itself (the port would not open, vanished),
    /// if it did: "unknown" alone does not tell staff what to do.
    fn problem(&self) -> Option<String> {
        None
    }
}

/// Writes `<dir>/<name>.bin` and `<dir>/<name>.png` for every slip. Always ready.
pub struct VirtualPrinter {
    dir: PathBuf,
    dots_per_line: u32,
}

impl VirtualPrinter {
    /// A virtual printer writing under `<data_dir>/slips`, rendering at the profile's width.
    pub fn new(data_dir: &Path, dots_per_line: u16) -> VirtualPrinter {
        VirtualPrinter {
            dir: data_dir.join("slips"),
            dots_per_line: u32::from(dots_per_line),
        }
    }

    pub(crate) fn bin_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.bin"))
    }

    pub fn png_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.png"))
    }
}

/// What a healthy printer answers to `DLE EOT 1..4`.
const READY: StatusBytes = StatusBytes {
    printer: Some(0x16),
    offline_cause: Some(0x12),
    error_cause: Some(0x12),
    paper: Some(0x12),
};

impl PrinterLink for VirtualPrinter {
    fn describe(&self) -> String {
        format!("virtual printer, slips written to {}", self.dir.display())
    }

    fn status(&mut self) -> StatusBytes {
        READY
    }

    fn send(&mut self, name: &str, bytes: &[u8]) -> Result<(), LinkError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| LinkError::Other(format!("cannot create {}: {e}", self.dir.display())))?;
        let png = render_png(&interpret(bytes), self.dots_per_line)
            .map_err(|e| LinkError::Other(format!("cannot render the slip: {e}")))?;
        write_atomically(&self.bin_path(name), bytes)
            .map_err(|e| LinkError::Other(e.to_string()))?;
        write_atomically(&self.png_path(name), &png).map_err(|e| LinkError::Other(e.to_string()))
    }

    fn finish(&mut self) -> Option<bool> {
        Some(true)
    }
}

/// Writes a file so that it is either complete or absent: a temporary file, synced, renamed.
/// The error keeps the underlying kind and says which file: "cannot write PATH: CAUSE".
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    // A temporary name of this write's own (the whole file name, the process and a count):
    // `X.bin` and `X.png` written at once, or by two processes, never share one.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}-{n}.partial", std::process::id()));
    let tmp = path.with_file_name(name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    /// A slip's `.bin` and `.png`, each written by many threads at once (as two processes'
    /// print queues may): every write succeeds and each file is whole, one of the writes.
    #[test]
    fn files_of_one_name_written_at_once_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let (bin, png) = (dir.path().join("X.bin"), dir.path().join("X.png"));
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let (bin, png) = (&bin, &png);
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomically(bin, &[i; 4096]).expect("the .bin is written");
                        write_atomically(png, &[i; 8192]).expect("the .png is written");
                    }
                });
            }
        });
        for (path, len) in [(&bin, 4096), (&png, 8192)] {
            let written = std::fs::read(path).unwrap();
            assert_eq!(written.len(), len);
            assert!(written.iter().all(|b| *b == written[0]), "one write, whole");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "no temporary file is left: {left:?}");
    }
}
