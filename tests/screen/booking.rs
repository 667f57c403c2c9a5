//! Booking an appointment on the touchscreen, by taps, against the real kiosk on a temporary
//! data directory: Home → "book a lawyer" → legal advice → the first free slot of the day the
//! picker opens on → the phone on the keypad → the review → "book it". The done screen shows
//! the booking code, the booking is in the database with the phone and the slot tapped, and its
//! slip prints. The same phone cannot book the same service twice: the phone step says so. The
//! code typed on "Track my case" opens the booking: checking in hours early says when check-in
//! opens, and the resident cancels it (after an "are you sure?").

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, Problem, Screen};
use slint::{ComponentHandle, Model};
use station::kiosk::{CodeKind, Kiosk};

const PHONE: &str = "13800138000";

pub fn a_resident_books_a_slot_by_taps_and_gets_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let api = app.global::<Api>();
        tap(&app, "预约律师/咨询");
        assert_eq!(screen(&app), Screen::BookService);
        until(
            || api.get_bookable().row_count() == 3,
            "the services someone gives appointments for",
        )
        .await;
        assert!(
            !is_on_screen(&app, "投诉建议"),
            "only services with a roster are offered"
        );
        tap(&app, "法律服务");
        assert_eq!(screen(&app), Screen::BookSlots);
        until(|| api.get_book_loaded(), "the slots to arrive").await;

        // The picker opens on the first day with a place left; tap its first free slot.
        let days: Vec<_> = api.get_book_days().iter().collect();
        assert_eq!(
            days.len(),
            8,
            "today and the seven days of the booking window"
        );
        let day = days.iter().find(|d| d.selected).expect("a day is chosen");
        assert!(day.free > 0, "the day shown has a free slot");
        let slot = api
            .get_book_slots()
            .iter()
            .find(|s| s.free > 0)
            .expect("a free slot");
        assert!(!slot.who.is_empty(), "a lawyer's slot says with whom");
        tap(&app, &format!("{} {}", slot.time, slot.who));
        assert_eq!(screen(&app), Screen::BookPhone);

        // A wrong number first: the step says so and stays.
        type_on_keyboard(&app, "12345");
        tap(&app, "下一步");
        assert_eq!(api.get_problem(), Problem::PhoneInvalid);
        assert_eq!(screen(&app), Screen::BookPhone);
        for _ in 0..5 {
            tap(&app, "删除");
        }
        type_on_keyboard(&app, PHONE);
        tap(&app, "下一步");
        assert_eq!(screen(&app), Screen::BookConfirm);
        assert_eq!(value_of(&app, "电话").as_deref(), Some("138 0013 8000"));
        assert_eq!(value_of(&app, "事项").as_deref(), Some("法律服务"));
        assert!(value_of(&app, "时间").is_some_and(|t| t.contains(slot.time.as_str())));

        tap(&app, "确认预约");
        until(
            || screen(&app) == Screen::BookDone,
            "the booking to be made",
        )
        .await;
        let code = value_of(&app, "预约码").expect("the done screen shows the code");
        assert_eq!(code.len(), 21, "the code is shown grouped: {code}");
        assert!(value_of(&app, "预约时间").is_some_and(|t| t.contains(slot.time.as_str())));
        assert!(
            api.get_booking_qr().size().width > 0,
            "the QR code of the booking is on screen"
        );

        // In the database, with the phone and the slot tapped.
        let kiosk = Kiosk::open(config.clone()).unwrap();
        match kiosk.code_kind(&code).unwrap() {
            CodeKind::Booking(b) => {
                assert_eq!(b.phone.as_deref(), Some(PHONE));
                assert_eq!(b.slot_id, slot.id.as_str());
                assert_eq!(b.service, "legal");
                assert_eq!(b.state, protocol::BookingState::Booked);
            }
            other => panic!("{code} is not a booking: {other:?}"),
        }
        // Its slip prints (the virtual printer).
        until(
            || value_of(&app, "预约单").is_some_and(|v| v.contains("已打印")),
            "the booking slip to print",
        )
        .await;
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
        assert_eq!(api.get_phone(), "", "the phone is cleared");

        // The same phone for another slot of the same service: refused, on the phone step.
        tap(&app, "预约律师/咨询");
        until(|| api.get_bookable().row_count() == 3, "the services").await;
        tap(&app, "法律服务");
        until(|| api.get_book_loaded(), "the slots").await;
        let other = api
            .get_book_slots()
            .iter()
            .find(|s| s.free > 0 && s.id != slot.id)
            .expect("another free slot");
        tap(&app, &format!("{} {}", other.time, other.who));
        type_on_keyboard(&app, PHONE);
        tap(&app, "下一步");
        tap(&app, "确认预约");
        until(
            || api.get_problem() == Problem::PhoneHasBooking,
            "the second booking to be refused",
        )
        .await;
        assert_eq!(screen(&app), Screen::BookPhone);
        assert_eq!(
            Kiosk::open(config.clone())
                .unwrap()
                .store()
                .bookings_between(
                    config.clock.now() - chrono::Duration::days(1),
                    config.clock.now() + chrono::Duration::days(9)
                )
                .unwrap()
                .len(),
            1,
            "no second booking was made"
        );

        // The booking's code typed on Track opens the booking, not a case.
        tap(&app, "首页");
        assert_eq!(screen(&app), Screen::Home);
        tap(&app, "查询办理进度");
        // On the code keypad; the 17th right character looks it up by itself.
        tap_keys(&app, &code.replace('-', ""));
        until(|| screen(&app) == Screen::Booking, "the booking to open").await;
        assert_eq!(value_of(&app, "预约状态").as_deref(), Some("已预约"));
        tap(&app, "签到");
        until(
            || value_of(&app, "预约提示").is_some_and(|v| v.starts_with("还没到签到时间")),
            "check-in to say it is too early",
        )
        .await;
        assert!(
            is_on_screen(&app, "改为现场取号"),
            "a walk-in number is offered"
        );
        tap(&app, "取消预约");
        tap(&app, "是，取消预约");
        until(
            || value_of(&app, "预约状态").as_deref() == Some("已取消"),
            "the booking to be cancelled",
        )
        .await;
        match Kiosk::open(config.clone())
            .unwrap()
            .code_kind(&code)
            .unwrap()
        {
            CodeKind::Booking(b) => assert_eq!(b.state, protocol::BookingState::Cancelled),
            other => panic!("{code} is not a booking: {other:?}"),
        }
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
    });
}
