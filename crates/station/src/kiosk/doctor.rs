//! `doctor`: the checks a technician would ask about, each with a verdict and what to do: the
//! configuration, the database (and staff notices not yet acknowledged), free space and backups,
//! the clock, the fonts, the pinyin dictionary, the printer, the scanner, upstream and staff. Later
//! the staff console shows the same list.

use std::sync::Arc;

use ab_glyph::{Font, FontRef};

use crate::config::{ConfigSource, KioskConfig, UpstreamKind};
use crate::store::Store;
use crate::upstream::client::Upstream;
use slip::status::PrinterState;

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
        check_storage(config),
        check_clock(),
        check_fonts(),
        check_ime(config),
        check_printer(config),
        check_scanner(config),
        check_upstream(config),
        check_staff(config),
    ]
}

/// Whether staff can get into the staff mode: a PIN set, and not locked now; the roster in
/// force and whether the station state reached upstream.
fn check_staff(config: &Arc<KioskConfig>) -> Check {
    let name = "staff";
    let kiosk = match super::Kiosk::open(config.clone()) {
        Ok(k) => k,
        Err(e) => {
            return Check {
                name,
                verdict: Verdict::Fail,
                detail: format!("cannot read the staff settings: {e}"),
            }
        }
    };
    let now = kiosk.now();
    let auth = kiosk.store.staff_auth();
    let roster = kiosk.roster();
    let from_hub = matches!(kiosk.store.upstream_roster(), Ok(Some(_)));
    let mut detail = format!(
        "roster: {} provider(s) ({}); ",
        roster.providers.len(),
        if from_hub {
            "set by the district's hub"
        } else {
            "from the configuration"
        }
    );
    let verdict = match auth {
        Err(e) => {
            detail.push_str(&format!("cannot read the PIN: {e}"));
            Verdict::Fail
        }
        Ok(a) if a.pin_hash.is_none() => {
            detail.push_str(
                "no staff PIN: the staff mode cannot be entered; set one with `grievance-kiosk staff set-pin`",
            );
            Verdict::Warn
        }
        Ok(a) => match a.locked_until.filter(|t| *t > now) {
            Some(t) => {
                detail.push_str(&format!(
                    "staff mode locked after {} wrong PINs until {}; `staff set-pin` clears it",
                    a.failures,
                    t.with_timezone(&chrono::Local).format("%H:%M:%S")
                ));
                Verdict::Warn
            }
            None => {
                detail.push_str("staff PIN set");
                Verdict::Ok
            }
        },
    };
    // A station's own file that leaves the roster out keeps the demo station's lawyers and
    // counsellor: residents would book appointments nobody gives.
    let mut verdict = verdict;
    let demo = KioskConfig::builtin().roster;
    if !from_hub
        && matches!(config.source, ConfigSource::File(_))
        && !demo.providers.is_empty()
        && roster.providers == demo.providers
    {
        detail.push_str(
            "; this is the built-in demo roster (its demo lawyers and counsellor would be offered): \
             list the station's [[providers]] in the config, or `providers = []` until the \
             district's hub sends the roster",
        );
        if verdict == Verdict::Ok {
            verdict = Verdict::Warn;
        }
    }
    // Slots, check-in windows and the queue's day follow the station's time zone; the hub shows
    // times in China Standard Time.
    let offset = super::station_offset(now).local_minus_utc();
    if offset != 8 * 3600 {
        detail.push_str(&format!(
            "; the station's time zone ([station] time_zone = \"{}\") is UTC{}{:02}:{:02}: \
             roster times and the queue's day follow it, the hub's pages show China time (UTC+8)",
            config.station.time_zone,
            if offset < 0 { '-' } else { '+' },
            offset.abs() / 3600,
            (offset.abs() % 3600) / 60
        ));
        if verdict == Verdict::Ok {
            verdict = Verdict::Warn;
        }
    }
    if let Ok(sync) = kiosk.store.sync_state() {
        if sync.generation > sync.sent {
            if let Some(e) = sync.last_error {
                detail.push_str(&format!("; queue state not yet upstream: {e}"));
            }
        }
    }
    Check {
        name,
        verdict,
        detail,
    }
}

/// Where cases go, whether it answers and takes this kiosk's token, and the outbox's backlog.
/// With Open311 the server must also have some of this station's services (mapped through
/// `upstream.open311.services`): none is a failure, some missing a warning.
fn check_upstream(config: &KioskConfig) -> Check {
    let name = "upstream";
    let backlog = Store::open(&config.data_dir)
        .and_then(|s| s.outbox_counts())
        .map(|c| {
            let oldest = c
                .oldest_pending
                .map(|t| (config.clock.now() - t).num_minutes().max(0));
            (c.pending, c.failed, oldest, c.last_error)
        });
    let Some(url) = &config.upstream.url else {
        return Check {
            name,
            verdict: Verdict::Warn,
            detail: "no KIOSK_UPSTREAM_URL: cases go to the hub the kiosk runs itself (a demo, \
                     or a station on its own); set upstream.url for the district's system"
                .into(),
        };
    };
    if url.contains(PLACEHOLDER) {
        // Asking a made-up host waits for the resolver's timeout and says nothing new.
        return Check {
            name,
            verdict: Verdict::Fail,
            detail: format!(
                "{url} is the reference file's placeholder: not tried; set upstream.url to the \
                 district's system"
            ),
        };
    }
    let upstream = Upstream::new(
        url,
        config.upstream.kind,
        config.upstream.token.as_deref().unwrap_or_default(),
    )
    .with_timeout(std::time::Duration::from_secs(5));
    let probe = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(upstream.probe(config))
                .map_err(|e| e.to_string())
        });
    let kind = match config.upstream.kind {
        UpstreamKind::Native => "native",
        UpstreamKind::Open311 => "open311",
    };
    let mut detail = format!("{kind} at {url}: ");
    let mut verdict = Verdict::Ok;
    match &probe {
        Ok(warnings) if warnings.is_empty() => detail.push_str("answers, token accepted"),
        Ok(warnings) => {
            verdict = Verdict::Warn;
            detail.push_str("answers, token accepted, but ");
            detail.push_str(&warnings.join("; "));
        }
        Err(e) => {
            verdict = Verdict::Fail;
            detail.push_str(e);
        }
    }
    match backlog {
        Ok((pending, failed, oldest, last_error)) => {
            detail.push_str(&format!("; outbox: {pending} waiting, {failed} refused"));
            if let Some(minutes) = oldest {
                detail.push_str(&format!(", oldest {minutes} min"));
            }
            if failed > 0 {
                if verdict == Verdict::Ok {
                    verdict = Verdict::Warn;
                }
                if let Some(e) = last_error {
                    detail.push_str(&format!(" (last error: {e}; `outbox flush` retries)"));
                }
            }
        }
        Err(e) => detail.push_str(&format!("; outbox unreadable: {e}")),
    }
    Check {
        name,
        verdict,
        detail,
    }
}

fn check_config(config: &KioskConfig) -> Check {
    let name = "config";
    let summary = |source: &str| {
        format!(
            "{source}: station `{}` ({}), {} services, data in {}",
            config.station.id,
            config.station.name.zh,
            config.catalogue.services.len(),
            config.data_dir.display()
        )
    };
    let path = match &config.source {
        ConfigSource::BuiltIn => {
            return Check {
                name,
                verdict: Verdict::Ok,
                detail: summary("built-in demo configuration"),
            }
        }
        ConfigSource::File(p) => p,
    };
    // The file loaded a moment ago; reading it again can only fail if it just went away.
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let placeholders = placeholders_in(&text);
    if !placeholders.is_empty() {
        return Check {
            name,
            verdict: Verdict::Fail,
            detail: format!(
                "{}: still has the reference file's placeholders, replace every {PLACEHOLDER}: {}",
                path.display(),
                placeholders.join(", ")
            ),
        };
    }
    let source = path.display().to_string();
    if config.upstream.token.is_some() && world_readable(path) {
        return Check {
            name,
            verdict: Verdict::Warn,
            detail: format!(
                "{}; it holds the upstream token and every user can read it: \
                 chown root:grievance-kiosk and chmod 0640 it",
                summary(&source)
            ),
        };
    }
    Check {
        name,
        verdict: Verdict::Ok,
        detail: summary(&source),
    }
}

/// The word the reference `kiosk.toml` (firmware-config/) puts where each station's own value
/// goes.
const PLACEHOLDER: &str = "CHANGE-ME";

/// Each line of a config file that still holds the placeholder outside a comment, as
/// "line N (key)".
fn placeholders_in(text: &str) -> Vec<String> {
    let mut section = String::new();
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        if line.starts_with('#') || !line.contains(PLACEHOLDER) {
            continue;
        }
        let key = line.split('=').next().unwrap_or("").trim();
        let key = if section.is_empty() {
            key.to_owned()
        } else {
            format!("{section}.{key}")
        };
        found.push(format!("line {} ({key})", i + 1));
    }
    found
}

fn world_readable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
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
            (Ok(()), Ok((cases, jobs, outbox))) => {
                let mut detail = format!(
                    "{}: intact; {cases} cases, {jobs} print jobs, {outbox} outbox rows",
                    store.path().display()
                );
                // What the start-up check found and staff have not acknowledged yet.
                let notices = store.open_notices().unwrap_or_default();
                for n in &notices {
                    detail.push_str(&format!(
                        "; {} {}",
                        n.at.format("%Y-%m-%d %H:%M UTC"),
                        n.kind
                    ));
                    if !n.detail.is_empty() {
                        detail.push_str(&format!(": {}", n.detail));
                    }
                }
                Check {
                    name,
                    verdict: if notices.is_empty() {
                        Verdict::Ok
                    } else {
                        Verdict::Warn
                    },
                    detail,
                }
            }
        },
    }
}

/// Free space where the database lives, and the daily backups.
fn check_storage(config: &KioskConfig) -> Check {
    let name = "storage";
    let dir = &config.data_dir;
    let Some((free, total)) = disk_space(dir) else {
        return Check {
            name,
            verdict: Verdict::Warn,
            detail: format!("cannot tell the free space of {}", dir.display()),
        };
    };
    let mb = |b: u64| b / (1024 * 1024);
    let copies = super::upkeep::backup_copies(dir).unwrap_or_default();
    let backups = match copies.last().and_then(|p| p.file_name()) {
        Some(newest) => format!(
            "{} backup(s), newest {}",
            copies.len(),
            newest.to_string_lossy()
        ),
        None => "no backup yet (the daily timer writes one; `grievance-kiosk backup` now)".into(),
    };
    let detail = format!(
        "{}: {} MB free of {} MB; {backups}",
        dir.display(),
        mb(free),
        mb(total)
    );
    let verdict = if free < 50 * 1024 * 1024 {
        Verdict::Fail
    } else if free < 500 * 1024 * 1024 || free < total / 20 {
        Verdict::Warn
    } else {
        Verdict::Ok
    };
    let detail = match verdict {
        Verdict::Fail => format!("{detail}: cases will soon not be saved; free some space"),
        Verdict::Warn => format!("{detail}: space is running low"),
        Verdict::Ok => detail,
    };
    Check {
        name,
        verdict,
        detail,
    }
}

/// (free for this user, total) bytes of the file system holding `dir` (or its nearest
/// existing parent: the data directory may not exist before the first start).
fn disk_space(dir: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let existing = dir.ancestors().find(|p| p.exists())?;
    let existing = if existing.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        existing
    };
    let c = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized, writable struct.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let block = st.f_frsize as u64;
    Some((st.f_bavail as u64 * block, st.f_blocks as u64 * block))
}

/// Whether the clock can be trusted: slips, appointments and the queue's day all use it.
fn check_clock() -> Check {
    let name = "clock";
    let now = chrono::Utc::now();
    let synced = std::path::Path::new("/run/systemd/timesync/synchronized").exists();
    if now.format("%Y").to_string().parse::<i32>().unwrap_or(0) < 2025 {
        return Check {
            name,
            verdict: Verdict::Fail,
            detail: format!(
                "the clock says {}: it was never set; slips and appointments would carry wrong times (enable NTP: timedatectl set-ntp true)",
                now.format("%Y-%m-%d %H:%M UTC")
            ),
        };
    }
    Check {
        name,
        verdict: Verdict::Ok,
        detail: format!(
            "{}{}",
            now.format("%Y-%m-%d %H:%M:%S UTC"),
            if synced {
                ", synchronised by systemd-timesyncd"
            } else {
                " (no sign of NTP synchronisation here; on a board, enable it: timedatectl set-ntp true)"
            }
        ),
    }
}

/// The serial scanner, when one is configured: its device is there.
fn check_scanner(config: &KioskConfig) -> Check {
    let name = "scanner";
    match &config.scanner.port {
        None => Check {
            name,
            verdict: Verdict::Ok,
            detail: "no serial scanner configured (a keyboard-wedge scanner needs none)".into(),
        },
        Some(port) if std::path::Path::new(port).exists() => Check {
            name,
            verdict: Verdict::Ok,
            detail: format!("{port} present ({} baud, 8N1)", config.scanner.baud),
        },
        Some(port) => Check {
            name,
            verdict: Verdict::Warn,
            detail: format!(
                "{port} is not there: is the scanner plugged in, and does the udev rule name it? Scans are read once it appears"
            ),
        },
    }
}

fn check_fonts() -> Check {
    let name = "fonts";
    let sample = "群众诉求服务站 Citizen Appeal 0123";
    match FontRef::try_from_slice(slip::font::CJK_FONT) {
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
                        slip::font::CJK_FAMILY,
                        font.glyph_count(),
                        slip::font::CJK_FONT.len() / 1024
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

/// Whether the keyboard will offer pinyin: the station's dictionary (or the built-in one)
/// loads, and the bundled font can draw what it offers.
fn check_ime(config: &KioskConfig) -> Check {
    let name = "ime";
    let source = match &config.ime.dictionary {
        Some(p) => p.display().to_string(),
        None => "built in".to_owned(),
    };
    let dict = match ime::Dictionary::configured(config.ime.dictionary.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            return Check {
                name,
                verdict: Verdict::Fail,
                detail: format!(
                    "{e}: the keyboard types letters only; fix the file or remove `[ime] dictionary` to use the built-in one"
                ),
            }
        }
    };
    let mut detail = format!(
        "pinyin dictionary ({source}): {} words{}",
        dict.len(),
        if config.ime.fuzzy {
            ", fuzzy pairs on"
        } else {
            ""
        }
    );
    let Ok(font) = FontRef::try_from_slice(slip::font::CJK_FONT) else {
        return Check {
            name,
            verdict: Verdict::Warn,
            detail: detail + "; the bundled font does not load (see `fonts`)",
        };
    };
    let chars: std::collections::BTreeSet<char> = dict.words().flat_map(str::chars).collect();
    let missing: Vec<char> = chars
        .iter()
        .copied()
        .filter(|c| font.glyph_id(*c).0 == 0)
        .collect();
    if missing.is_empty() {
        detail.push_str(&format!(
            "; the bundled font draws all {} of its characters",
            chars.len()
        ));
        Check {
            name,
            verdict: Verdict::Ok,
            detail,
        }
    } else {
        let sample: String = missing.iter().take(10).collect();
        detail.push_str(&format!(
            "; {} of its {} characters have no glyph in the bundled font and would show blank (e.g. {sample})",
            missing.len(),
            chars.len()
        ));
        Check {
            name,
            verdict: Verdict::Warn,
            detail,
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
