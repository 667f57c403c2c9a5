//! The district hub over HTTP, as kiosks, Open311 clients, operators and browsers meet it.
//!
//! One test binary of modules, so the suite links once for all of them (issue 15); each
//! module is one former test file, its doc comment says what it checks.

#[path = "../cdp/mod.rs"]
mod cdp;
#[path = "../hub_common/mod.rs"]
mod hub_common;
#[path = "../pg_cluster/mod.rs"]
mod pg_cluster;

mod departments;
mod district;
mod district_browser;
mod district_deadlines;
mod district_leaders;
mod district_leaders_browser;
mod district_pages;
mod hostile;
mod intake;
mod loadgen;
mod on_postgres;
mod open311;
mod open311_conformance;
mod operator;
mod pages_browser;
mod queue;
mod slow_clients;
mod tracking;
mod untrusted_rows;
