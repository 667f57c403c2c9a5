//! `doctor`: the checks a technician would ask about, each with a verdict and what to do. Later
//! the staff console shows the same list.

use std::sync::Arc;

use ab_glyph::{Font, FontRef};

use crate::config::{ConfigSource, KioskConfig};
use crate::printer::status::PrinterState;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// Runs every check against a loaded configuration.
pub fn run(config: &Arc<KioskConfig>) -> Vec<Check> {
    vec![
        check_config(config),
        check_database(config),
        check_fonts(),
        check_printer(config),
    ]
}

fn check_config(config: &KioskConfig) -> Check {
    let source = match &config.source {
        ConfigSource::BuiltIn => "built-in demo configuration".to_owned(),
        ConfigSource::File(p) => p.display().to_string(),
    };
    Check {
        name: "config",
        verdict: Verdict::Ok,
        detail: format!(
            "{source}: station `{}` ({}), {} services, data in {}",
            config.station.id,
            config.station.name.zh,
            config.catalogue.services.len(),
            config.data_dir.display()
        ),
    }
}

fn check_database(config: &KioskConfig) -> Check {
    let name = "database";
    match Store::open(&config.data_dir) {
        Err(e) => Check {
            name,
            verdict: Verdict::Fail,
            detail: e.to_string(),
        },
        Ok(store) => match (store.quick_check(), store.row_counts()) {
            (Err(problem), _) => Check {
                name,
                verdict: Verdict::Fail,
                detail: format!("{}: quick_check found: {problem}", store.path().display()),
            },
            (Ok(()), Err(e)) => Check {
                name,
                verdict: Verdict::Fail,
                detail: e.to_string(),
            },
            (Ok(()), Ok((cases, jobs, outbox))) => Check {
                name,
                verdict: Verdict::Ok,
                detail: format!(
                    "{}: intact; {cases} cases, {jobs} print jobs, {outbox} outbox rows",
                    store.path().display()
                ),
            },
        },
    }
}

fn check_fonts() -> Check {
    let name = "fonts";
    let sample = "群众诉求服务站 Citizen Appeal 0123";
    match FontRef::try_from_slice(crate::fonts::CJK_FONT) {
        Err(e) => Check {
            name,
            verdict: Verdict::Fail,
            detail: format!("the bundled font does not load: {e}"),
        },
        Ok(font) => {
            let missing: String = sample
                .chars()
                .filter(|c| !c.is_whitespace() && font.glyph_id(*c).0 == 0)
                .collect();
            if missing.is_empty() {
                Check {
                    name,
                    verdict: Verdict::Ok,
                    detail: format!(
                        "{} bundled ({} glyphs, {} KB); Chinese and Latin present",
                        crate::fonts::CJK_FAMILY,
                        font.glyph_count(),
                        crate::fonts::CJK_FONT.len() / 1024
                    ),
                }
            } else {
                Check {
                    name,
                    verdict: Verdict::Fail,
                    detail: format!("the bundled font lacks: {missing}"),
                }
            }
        }
    }
}

fn check_printer(config: &KioskConfig) -> Check {
    let name = "printer";
    let profile = config.printer_profile();
    let mut printer = super::configured_printer(config);
    if config.printer.port.is_none() {
        let dir = config.data_dir.join("slips");
        let writable = std::fs::create_dir_all(&dir).is_ok() && tempfile_in(&dir).is_ok();
        return Check {
            name,
            verdict: if writable { Verdict::Ok } else { Verdict::Fail },
            detail: format!(
                "{} ({}){}",
                printer.describe(),
                profile.id,
                if writable { "" } else { ": not writable" }
            ),
        };
    }
    let state = printer.status().state();
    let paper = super::Kiosk::open(std::sync::Arc::new(config.clone()))
        .and_then(|k| k.paper_estimate(&profile))
        .ok();
    let verdict = match state {
        PrinterState::Ready if !paper.is_some_and(|p| p.low) => Verdict::Ok,
        PrinterState::Ready | PrinterState::NearEnd => Verdict::Warn,
        _ => Verdict::Fail,
    };
    Check {
        name,
        verdict,
        detail: format!(
            "{} ({}): {}{}",
            printer.describe(),
            profile.id,
            state.as_str(),
            printer
                .problem()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
                + &paper
                    .map(|p| format!(", about {:.1} m of paper left", p.left_m))
                    .unwrap_or_default()
        ),
    }
}

fn tempfile_in(dir: &std::path::Path) -> std::io::Result<()> {
    let probe = dir.join(".doctor-probe");
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(probe)
}
