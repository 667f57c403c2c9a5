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

/// The name libtest knows a test by, for a test that starts itself again with `--exact`: in a
/// test binary of modules it is `module::function`. `module_path` is the caller's
/// `module_path!()` (which starts with the binary's own name).
#[allow(dead_code)] // used by the suites that start themselves again, not by every includer
pub fn test_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{function}"),
        None => function.to_owned(),
    }
}
