//! When the database refuses the case at submit, the resident sees a friendly sentence, keeps
//! everything they entered, nothing half-written is left behind, and pressing Submit again
//! once the fault is gone files the case exactly once.

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, Problem, Screen};
use slint::ComponentHandle;
use station::store::Store;

pub fn a_refused_commit_keeps_the_resident_on_review_with_everything_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _controller) = kiosk_window(config_at_morning(dir.path()));
    let data = dir.path().to_owned();

    run_scenario(async move {
        let api = app.global::<Api>();
        tap(&app, "投诉建议");
        tap(&app, "物业管理");
        tap(&app, "维修");
        tap(&app, "下一步");
        type_on_keyboard(&app, "lift");
        tap(&app, "下一步");
        type_on_keyboard(&app, "13800138000");
        tap(&app, "下一步");
        tap(&app, "我已了解，同意");

        // The outbox insert, the last statement of the intake transaction, fails.
        let store = Store::open(&data).unwrap();
        store
            .connection()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON outbox
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
            )
            .unwrap();
        tap(&app, "提交");
        until(|| !api.get_busy(), "the submit to be answered").await;
        assert_eq!(
            screen(&app),
            Screen::Review,
            "the resident stays on the review"
        );
        assert_eq!(api.get_problem(), Problem::StorageFailed);
        assert!(is_on_screen(
            &app,
            "保存没有成功，您的诉求还没有登记。请再按一次提交，或联系工作人员。"
        ));
        assert_eq!(
            api.get_code(),
            "",
            "no code is shown for a case that is not durable"
        );
        assert_eq!(
            store.row_counts().unwrap(),
            (0, 0, 0),
            "nothing half-written"
        );

        // The fault clears; Submit again files the same draft once.
        store
            .connection()
            .execute_batch("DROP TRIGGER refuse")
            .unwrap();
        tap(&app, "提交");
        until(|| screen(&app) == Screen::Result, "the case to be filed").await;
        assert_eq!(api.get_problem(), Problem::None);
        assert_eq!(store.row_counts().unwrap(), (1, 1, 1));
        let token = domain::TrackingToken::parse(&api.get_code()).unwrap();
        let stored = store.case_by_token(&token).unwrap().unwrap();
        assert_eq!(stored.case.description.as_deref(), Some("lift"));
        assert_eq!(stored.case.phone.unwrap().as_str(), "13800138000");
    });
}
