//! The kiosk without its screen: the command line, the store, the printer over a real serial
//! link, the outbox against a real upstream, the backend's tasks, the rules and the catalogues.
//!
//! One test binary of modules, so the suite links once for all of them (issue 15); each
//! module is one former test file, its doc comment says what it checks.

#[path = "../common/mod.rs"]
mod common;
#[path = "../exec/mod.rs"]
mod exec;
#[path = "../hub_common/mod.rs"]
mod hub_common;
#[path = "../nginx/mod.rs"]
mod nginx;
#[path = "../pg_cluster/mod.rs"]
mod pg_cluster;

mod backend_shutdown;
mod case_rules;
mod cli;
mod cli_printer;
mod e2e_loop;
mod emulator;
mod full_disk;
mod handwrite_cli;
mod hub_fleet;
mod hub_on_postgres;
mod ime_accuracy;
mod kill_loop;
mod log_canary;
mod open311_upstream;
mod printer_faults;
mod queue_rules;
mod say_cli;
mod startup_recovery;
mod store_faults;
mod translations;
mod upkeep;
mod upstream_faults;
mod watchdog;
