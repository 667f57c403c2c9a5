//! Where slip bytes go. [`SlipPrinter`] is the one interface the print queue knows; the
//! [`VirtualPrinter`] (the default where no serial port is configured) writes each slip as its
//! raw ESC/POS bytes and as a PNG rendered by the project's own interpreter, so a developer sees
//! exactly what would come out of a real printer.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::interpret::interpret;
use super::render::render_png;

/// Something that turns a slip's ESC/POS bytes into paper (or into files).
pub trait SlipPrinter: Send {
    /// Prints one slip. `name` is the case's tracking code, for printers that keep files.
    /// `Err` carries the reason in words for staff.
    fn print(&mut self, name: &str, bytes: &[u8]) -> Result<(), String>;
}

/// Writes `<dir>/<name>.bin` and `<dir>/<name>.png` for every slip.
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

    pub fn bin_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.bin"))
    }

    pub fn png_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.png"))
    }
}

impl SlipPrinter for VirtualPrinter {
    fn print(&mut self, name: &str, bytes: &[u8]) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let png = render_png(&interpret(bytes), self.dots_per_line)
            .map_err(|e| format!("cannot render the slip: {e}"))?;
        write_atomically(&self.bin_path(name), bytes)?;
        write_atomically(&self.png_path(name), &png)
    }
}

/// Writes a file so that it is either complete or absent: a temporary file, synced, renamed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("partial");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
