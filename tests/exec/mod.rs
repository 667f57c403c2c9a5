//! Starting this project's own programs from a test. On the build machine a test starts them
//! directly; when the tests run on another architecture under an emulator (`scripts/test-aarch64`
//! runs them under `qemu-aarch64`), cargo's runner starts only the test binary itself, so a
//! program the test starts must go through the same emulator: `GRIEVANCE_TEST_RUNNER` names it,
//! with its arguments separated by spaces.

use std::ffi::{OsStr, OsString};
use std::process::Command;

/// The command line that starts `program`: the runner's words first when one is set.
pub fn argv(program: impl AsRef<OsStr>) -> Vec<OsString> {
    let mut words: Vec<OsString> = std::env::var("GRIEVANCE_TEST_RUNNER")
        .unwrap_or_default()
        .split_whitespace()
        .map(OsString::from)
        .collect();
    words.push(program.as_ref().to_owned());
    words
}

/// A `Command` that starts `program` (through the runner, when one is set).
pub fn program(program: impl AsRef<OsStr>) -> Command {
    let mut words = argv(program).into_iter();
    let mut command = Command::new(words.next().expect("argv has the program"));
    command.args(words);
    command
}
