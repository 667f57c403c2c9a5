//! `grievance-kiosk`: opens the kiosk, or runs one of its commands. See `--help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Argon2's 19 MiB blocks (the local hub's accounts, the staff PIN) given back when freed.
    hub::give_back_large_blocks();
    // The log (KIOSK_LOG sets its level) goes to standard error, as the journal reads it.
    logging::init("KIOSK_LOG");
    let cli = grievance_kiosk::cli::Cli::parse();
    match grievance_kiosk::cli::main(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes, joined.
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
