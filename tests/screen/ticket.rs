//! Taking a number on the touchscreen, by taps, against the real kiosk on a temporary data
//! directory: Home → "take a number" → mediation → "elderly, disabled or pregnant?" yes. Two
//! people are already waiting in that lane (one with priority, who stays ahead; one walk-in,
//! whom priority passes), so the ticket screen says one person is ahead, and, the lane having
//! no history yet, that the wait cannot be estimated. The ticket is in the database as a
//! priority ticket, and its slip prints. In elderly mode the question is not asked: the number is
//! a priority one.

use crate::common;

use common::*;
use domain::Language;
use grievance_kiosk::app::ui::{Api, Screen, TicketState};
use slint::{ComponentHandle, Model};
use station::kiosk::Kiosk;

pub fn a_resident_takes_a_priority_number_by_taps() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    {
        let mut kiosk = Kiosk::open(config.clone()).unwrap();
        let now = config.clock.now();
        let first = kiosk
            .take_ticket("mediation", true, None, Language::Zh, now)
            .unwrap();
        assert_eq!(first.ticket.label, "B001");
        kiosk
            .take_ticket("mediation", false, None, Language::Zh, now)
            .unwrap();
    }
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let api = app.global::<Api>();
        tap(&app, "取号排队");
        assert_eq!(screen(&app), Screen::TakeNumber);
        until(
            || {
                api.get_lanes()
                    .iter()
                    .any(|l| l.id == "mediation" && l.waiting == 2)
            },
            "the lanes' queues",
        )
        .await;
        tap(&app, "纠纷调处");
        assert_eq!(screen(&app), Screen::Priority);
        tap(&app, "是，优先叫号");
        until(|| screen(&app) == Screen::Ticket, "the ticket to be taken").await;

        assert_eq!(value_of(&app, "您的号码").as_deref(), Some("B003"));
        assert_eq!(api.get_ticket_state(), TicketState::Waiting);
        assert_eq!(value_of(&app, "前面人数").as_deref(), Some("前面还有 1 人"));
        assert!(
            value_of(&app, "等候时间").is_some_and(|v| v.contains("估计不出")),
            "no wait range without history: {:?}",
            value_of(&app, "等候时间")
        );
        assert!(
            api.get_ticket_qr().size().width > 0,
            "the ticket's QR code shows"
        );

        let kiosk = Kiosk::open(config.clone()).unwrap();
        let stored = kiosk.find_ticket("B003", config.clock.now()).unwrap();
        assert_eq!(stored.kind, domain::queue::TicketKind::Priority);
        assert_eq!(stored.state, protocol::TicketState::Waiting);
        assert_eq!(stored.service, "mediation");
        assert_eq!(
            kiosk.ticket_view(stored, config.clock.now()).unwrap().ahead,
            Some(1),
            "the screen says what the kiosk says"
        );
        until(
            || value_of(&app, "小票").is_some_and(|v| v.contains("已打印")),
            "the ticket's slip to print",
        )
        .await;
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);

        // In elderly mode the resident is not asked whether they are elderly: the number is a
        // priority one straight away.
        tap(&app, "长辈模式");
        tap(&app, "取号排队");
        tap(&app, "纠纷调处");
        assert_ne!(
            screen(&app),
            Screen::Priority,
            "no question in elderly mode"
        );
        until(
            || screen(&app) == Screen::Ticket,
            "the elderly resident's ticket",
        )
        .await;
        assert_eq!(value_of(&app, "您的号码").as_deref(), Some("B004"));
        let kiosk = Kiosk::open(config.clone()).unwrap();
        let stored = kiosk.find_ticket("B004", config.clock.now()).unwrap();
        assert_eq!(stored.kind, domain::queue::TicketKind::Priority);
    });
}
