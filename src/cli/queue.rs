//! `booking`, `queue` and `staff`: appointments, the walk-in queue and the staff PIN, calling
//! the same `Kiosk` functions as the touchscreen's Book, Take a number and staff screens.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::output;
use super::LangArg;
use devices::printer::transport::VirtualPrinter;
use protocol::TicketState;
use station::config::KioskConfig;
use station::kiosk::{configured_printer, Kiosk, SlotView, TicketView};
use station::store::PrintJobState;

#[derive(Subcommand)]
pub(crate) enum BookingCommand {
    /// The slots a resident could book now, with the places left (full ones show free 0).
    Slots {
        /// legal, mediation, counselling, … (a service someone on the roster gives).
        #[arg(long)]
        service: String,
        /// How many days ahead, today first (at most the booking window).
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
    /// Book a slot for a resident and print the appointment slip.
    New {
        #[arg(long)]
        service: String,
        /// The slot's id, as `booking slots` lists it (provider@YYYY-MM-DDTHH:MM).
        #[arg(long)]
        slot: String,
        /// The resident's phone number (needed for a booking).
        #[arg(long)]
        phone: String,
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        #[arg(long)]
        json: bool,
    },
    /// Check a booking in (its code, from the slip): a queue ticket ahead of walk-ins.
    Checkin {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a booking by its code.
    Cancel {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Today's bookings.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum QueueCommand {
    /// Take a walk-in ticket and print it.
    Take {
        #[arg(long)]
        service: String,
        /// Elderly, disabled or pregnant (self-declared): called before ordinary tickets.
        #[arg(long)]
        priority: bool,
        /// Join the ticket to a case filed here (its tracking code): one slip for both.
        #[arg(long, value_name = "TOKEN")]
        case: Option<String>,
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        #[arg(long)]
        json: bool,
    },
    /// Today's queues: who waits, in the order they will be called, and who is at a counter.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Call the next ticket to a counter (the ticket it was serving counts as served).
    Call {
        #[arg(long)]
        counter: u32,
        /// Only this service's lane (default: every lane).
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Call the counter's current ticket again.
    Recall {
        #[arg(long)]
        counter: u32,
        #[arg(long)]
        json: bool,
    },
    /// Mark a ticket served (by its number, or the one at --counter).
    Done {
        ticket: Option<String>,
        #[arg(long)]
        counter: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Mark a called ticket a no-show (after it was called enough times).
    NoShow {
        ticket: Option<String>,
        #[arg(long)]
        counter: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Move a ticket to another service's lane, keeping its place by arrival.
    Transfer {
        ticket: String,
        #[arg(long)]
        service: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum StaffCommand {
    /// Set the staff PIN (6–12 digits), read from standard input; clears a lockout.
    SetPin {
        #[arg(long)]
        json: bool,
    },
    /// The newest lines of the staff audit log.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Call staff to the kiosk, as the elderly mode's button does: the staff console, the
    /// now-serving display and the hub's operator page show it until staff acknowledge it.
    Call {
        #[arg(long)]
        json: bool,
    },
    /// A lawyer, counsellor or mediator checks in (on duty) or out.
    CheckIn {
        provider: String,
    },
    CheckOut {
        provider: String,
    },
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&station::kiosk::station_offset(t))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn slot_line(s: &SlotView) -> output::BookingSlot {
    output::BookingSlot {
        capacity: s.slot.capacity,
        end: s.slot.end,
        free: s.free,
        id: s.slot.id.clone(),
        provider: s.slot.provider.clone(),
        role: s.slot.role,
        service: s.slot.service.clone(),
        start: s.slot.start,
    }
}

fn ticket_line(v: &TicketView) -> output::TicketLine {
    let t = &v.ticket;
    output::TicketLine {
        ahead: v.ahead,
        calls: t.calls,
        counter: t.counter,
        kind: t.kind,
        lane: t.lane.clone(),
        service: t.service.clone(),
        state: t.state,
        taken_at: t.taken_at,
        ticket: t.label.clone(),
        token: t.token.clone(),
        url: v.url.clone(),
        wait_max: v.wait.map(|w| w.1),
        wait_min: v.wait.map(|w| w.0),
    }
}

fn print_ticket(v: &TicketView, json: bool) -> anyhow::Result<()> {
    if json {
        return output::print(&ticket_line(v));
    }
    let t = &v.ticket;
    println!("ticket    {}", t.label);
    println!("state     {}", t.state.as_str());
    if let Some(c) = t.counter {
        println!("counter   {c}");
    }
    if let Some(a) = v.ahead {
        println!("ahead     {a}");
    }
    match v.wait {
        Some((lo, hi)) => println!("wait      {lo}–{hi} min"),
        None if t.state == TicketState::Waiting => {
            println!("wait      (not enough history to estimate)")
        }
        None => {}
    }
    println!("page      {}", v.url);
    Ok(())
}

/// Prints what is waiting in the print queue (a booking's or ticket's slip): the print state of
/// the slip with `token`, and the virtual printer's PNG of it when there is one.
fn print_slips(
    config: &KioskConfig,
    kiosk: &mut Kiosk,
    token: &str,
) -> anyhow::Result<(PrintJobState, Option<String>)> {
    let profile = config.printer_profile();
    let mut printer = configured_printer(config);
    // What was asked is committed already: a printing problem is a note, not a failure (a
    // retry would only be refused as a duplicate).
    let pass = match kiosk.print_pending(printer.as_mut(), &profile, |_| {}) {
        Ok(pass) => pass,
        Err(e) => {
            eprintln!("note: saved; the slip could not be printed now: {e}");
            return Ok((PrintJobState::Pending, None));
        }
    };
    let mine = pass
        .outcomes
        .iter()
        .rev()
        .find(|o| o.token.as_str() == token);
    let state = mine.map_or(PrintJobState::Pending, |o| o.state);
    if let Some(reason) = mine.and_then(|o| o.reason.clone()) {
        eprintln!("note: saved; the slip is not printed yet: {reason}");
    }
    let png = (config.printer.port.is_none() && state == PrintJobState::Printed).then(|| {
        VirtualPrinter::new(&config.data_dir, profile.dots_per_line)
            .png_path(token)
            .display()
            .to_string()
    });
    Ok((state, png))
}

/// After a change, sends the station's state upstream at once, so that ticket pages and the
/// operator page follow (`queue call` moves everyone's "N ahead"). Best effort: when upstream
/// cannot be reached the change stands, and the kiosk's outbox task sends it later.
fn push_state(config: &KioskConfig, kiosk: &mut Kiosk) {
    let sent = super::runtime().and_then(|rt| {
        rt.block_on(async {
            let connection = super::upstream_for_cli(config).await?;
            let upstream = connection
                .upstream
                .with_timeout(std::time::Duration::from_secs(5));
            kiosk.sync_station(&upstream, false).await?;
            anyhow::Ok(())
        })
    });
    if let Err(e) = sent {
        eprintln!("note: saved here; upstream will get it later: {e:#}");
    }
}

pub(crate) fn booking(config: Arc<KioskConfig>, cmd: BookingCommand) -> anyhow::Result<()> {
    let mut kiosk = Kiosk::open(config.clone())?;
    let now = kiosk.now();
    let changes = !matches!(
        cmd,
        BookingCommand::Slots { .. } | BookingCommand::List { .. }
    );
    booking_run(&config, &mut kiosk, cmd, now)?;
    if changes {
        push_state(&config, &mut kiosk);
    }
    Ok(())
}

fn booking_run(
    config: &Arc<KioskConfig>,
    kiosk: &mut Kiosk,
    cmd: BookingCommand,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let config = config.clone();
    match cmd {
        BookingCommand::Slots {
            service,
            days,
            json,
        } => {
            let slots = kiosk.booking_slots(&service, days, now)?;
            for s in &slots {
                if json {
                    output::print(&slot_line(s))?;
                } else {
                    println!(
                        "{}  {}–{}  {:<10}  {} free",
                        s.slot.id,
                        local(s.slot.start),
                        s.slot
                            .end
                            .with_timezone(&station::kiosk::station_offset(s.slot.end))
                            .format("%H:%M"),
                        s.slot.role.as_str(),
                        s.free
                    );
                }
            }
            if slots.is_empty() && !json {
                println!("no slots in the next {days} day(s)");
            }
        }
        BookingCommand::New {
            service,
            slot,
            phone,
            lang,
            json,
        } => {
            let booked = kiosk.book(&service, &slot, &phone, lang.into(), "cli", now)?;
            let (print, png) = print_slips(&config, kiosk, booked.token.as_str())?;
            let b = &booked.booking;
            if json {
                output::print(&output::BookingMade {
                    code: booked.token.grouped(),
                    end: b.end,
                    print,
                    provider: b.provider.clone(),
                    slip_png: png.clone(),
                    slot: b.slot_id.clone(),
                    start: b.start,
                    state: b.state,
                    token: booked.token.as_str().to_owned(),
                    url: booked.url.clone(),
                })?;
            } else {
                println!("booked    {}", b.slot_id);
                println!("at        {}", local(b.start));
                println!("code      {}", booked.token.grouped());
                println!("page      {}", booked.url);
                match png {
                    Some(png) => println!("slip      {} ({png})", print.as_str()),
                    None => println!("slip      {}", print.as_str()),
                }
            }
        }
        BookingCommand::Checkin { code, json } => {
            let view = kiosk.check_in(&code, now)?;
            print_slips(&config, kiosk, &view.ticket.token)?;
            print_ticket(&view, json)?;
        }
        BookingCommand::Cancel { code, json } => {
            let b = kiosk.cancel_booking(&code, "cli", now)?;
            if json {
                output::print(&output::BookingCancelled {
                    slot: b.slot_id.clone(),
                    state: b.state,
                    token: b.token.clone(),
                })?;
            } else {
                println!("cancelled {} ({})", b.slot_id, local(b.start));
            }
        }
        BookingCommand::List { json } => {
            for b in kiosk.bookings_of_day(now)? {
                if json {
                    output::print(&output::BookingLine {
                        provider: b.provider.clone(),
                        service: b.service.clone(),
                        slot: b.slot_id.clone(),
                        start: b.start,
                        state: b.state,
                        token: b.token.clone(),
                    })?;
                } else {
                    println!("{}  {:<12} {}", local(b.start), b.state.as_str(), b.slot_id);
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn queue(config: Arc<KioskConfig>, cmd: QueueCommand) -> anyhow::Result<()> {
    let mut kiosk = Kiosk::open(config.clone())?;
    let changes = !matches!(cmd, QueueCommand::List { .. });
    queue_run(&config, &mut kiosk, cmd)?;
    if changes {
        push_state(&config, &mut kiosk);
    }
    Ok(())
}

fn queue_run(config: &KioskConfig, kiosk: &mut Kiosk, cmd: QueueCommand) -> anyhow::Result<()> {
    let now = kiosk.now();
    let view = match cmd {
        QueueCommand::Take {
            service,
            priority,
            case,
            lang,
            json,
        } => {
            let view = kiosk.take_ticket(&service, priority, case.as_deref(), lang.into(), now)?;
            let token = match &case {
                Some(c) => domain::TrackingToken::parse(c)?.as_str().to_owned(),
                None => view.ticket.token.clone(),
            };
            print_slips(config, kiosk, &token)?;
            return print_ticket(&view, json);
        }
        QueueCommand::List { json } => {
            for lane in kiosk.queue_lanes(now)? {
                if json {
                    output::print(&output::QueueLane {
                        called: lane
                            .called
                            .iter()
                            .map(|t| output::CalledTicket {
                                calls: t.calls,
                                counter: t.counter,
                                ticket: t.label.clone(),
                            })
                            .collect(),
                        lane: lane.lane,
                        median_service_s: lane.median_service_s,
                        served_today: lane.served_today,
                        service: lane.service.clone(),
                        waiting: lane
                            .waiting
                            .iter()
                            .map(|t| output::WaitingTicket {
                                kind: t.kind,
                                passed_over: t.passed_over,
                                ticket: t.label.clone(),
                            })
                            .collect(),
                    })?;
                } else {
                    let waiting: Vec<&str> =
                        lane.waiting.iter().map(|t| t.label.as_str()).collect();
                    let called: Vec<String> = lane
                        .called
                        .iter()
                        .map(|t| format!("{}→{}", t.label, t.counter.unwrap_or(0)))
                        .collect();
                    println!(
                        "{} {:<12} waiting {:>2}: {}{}",
                        lane.lane,
                        lane.service,
                        waiting.len(),
                        waiting.join(" "),
                        if called.is_empty() {
                            String::new()
                        } else {
                            format!("  | at counters: {}", called.join(" "))
                        }
                    );
                }
            }
            return Ok(());
        }
        QueueCommand::Call {
            counter,
            service,
            json,
        } => (kiosk.call_next(counter, service.as_deref(), now)?, json),
        QueueCommand::Recall { counter, json } => (kiosk.recall(counter, now)?, json),
        QueueCommand::Done {
            ticket,
            counter,
            json,
        } => {
            let t = kiosk.ticket_or_counter(ticket.as_deref(), counter, now)?;
            (kiosk.done(&t, now)?, json)
        }
        QueueCommand::NoShow {
            ticket,
            counter,
            json,
        } => {
            let t = kiosk.ticket_or_counter(ticket.as_deref(), counter, now)?;
            (kiosk.no_show(&t, now)?, json)
        }
        QueueCommand::Transfer {
            ticket,
            service,
            json,
        } => {
            let t = kiosk.find_ticket(&ticket, now)?;
            (kiosk.transfer(&t, &service, now)?, json)
        }
    };
    print_ticket(&view.0, view.1)
}

pub(crate) fn staff(config: Arc<KioskConfig>, cmd: StaffCommand) -> anyhow::Result<()> {
    let mut kiosk = Kiosk::open(config.clone())?;
    let now = kiosk.now();
    match cmd {
        StaffCommand::SetPin { json } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the PIN from standard input")?;
            let pin = line.trim();
            if pin.is_empty() {
                bail!("no PIN on standard input (e.g. `printf 240517 | grievance-kiosk staff set-pin`)");
            }
            kiosk.set_pin(pin, now)?;
            if json {
                output::print(&output::PinSet { pin: "set" })?;
            } else {
                println!(
                    "the staff PIN is set (stored as an Argon2id hash); any lockout is cleared"
                );
            }
        }
        StaffCommand::Audit { limit, json } => {
            for e in kiosk.audit_log(limit)? {
                if json {
                    output::print(&output::AuditLine {
                        action: e.action.clone(),
                        at: e.at,
                        detail: e.detail.clone(),
                    })?;
                } else {
                    println!("{}  {:<16} {}", local(e.at), e.action, e.detail);
                }
            }
        }
        StaffCommand::Call { json } => {
            let (new, since) = kiosk.call_staff(now)?;
            if json {
                output::print(&output::StaffCall { new, since })?;
            } else if new {
                println!("staff called");
            } else {
                println!("staff were already called at {}", local(since));
            }
            // No push of the station's state: a call travels in the heartbeat's notices, which
            // the running kiosk sends within a minute.
        }
        StaffCommand::CheckIn { provider } => {
            kiosk.attendance(&provider, true, now)?;
            println!("{provider} checked in");
            push_state(&config, &mut kiosk);
        }
        StaffCommand::CheckOut { provider } => {
            kiosk.attendance(&provider, false, now)?;
            println!("{provider} checked out");
            push_state(&config, &mut kiosk);
        }
    }
    Ok(())
}
