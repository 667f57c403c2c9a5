//! Helpers shared by the integration tests: a kiosk on a fresh data directory, and, for the UI
//! tests, driving the real Slint UI through Slint's testing backend by taps.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use grievance_kiosk::app::backend::Backend;
use grievance_kiosk::app::controller::Controller;
use grievance_kiosk::app::ui::{Api, AppWindow};
use i_slint_backend_testing::AccessibleRole;
use i_slint_backend_testing::ElementHandle;
use slint::platform::{Key, PointerEventButton, WindowEvent};
use slint::{ComponentHandle, SharedString};
use station::config::KioskConfig;

/// The built-in demo station with its data in `dir`.
pub fn config_in(dir: &Path) -> Arc<KioskConfig> {
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.to_owned();
    Arc::new(config)
}

/// A working morning: Tuesday 2 June 2026, 10:00 in the local time zone (the station's).
/// (The screenshots' moment: one morning for the pictures and the scenarios.)
pub fn morning() -> chrono::DateTime<chrono::Utc> {
    grievance_kiosk::app::screenshot::the_morning().expect("10:00 is one moment")
}

/// The built-in demo station with its data in `dir`, on a clock that starts at [`morning`] and
/// runs at the real pace: the one clock of a UI scenario, which the kiosk and the test both
/// read (`config.clock.now()`), so no scenario straddles the station's midnight or meets the
/// station closed, whenever it runs.
pub fn config_at_morning(dir: &Path) -> Arc<KioskConfig> {
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.to_owned();
    config.clock = station::clock::Clock::starting_at(morning());
    Arc::new(config)
}

/// A kiosk window at portrait size, wired to a real backend (SQLite file, virtual printer).
pub fn kiosk_window(config: Arc<KioskConfig>) -> (AppWindow, Rc<Controller>) {
    let app = AppWindow::new().expect("the window opens on the testing backend");
    app.window().set_size(slint::PhysicalSize::new(1080, 1920));
    let backend = Backend::start(config.clone()).expect("the backend starts");
    let controller = Controller::new(&app, config, backend);
    app.show().expect("the window shows");
    (app, controller)
}

/// Taps the one button on screen whose accessible label is `label`.
pub fn tap(app: &AppWindow, label: &str) {
    let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(app, label)
        .filter(|e| e.is_valid() && e.accessible_role() == Some(AccessibleRole::Button))
        .collect();
    if found.is_empty() {
        let buttons: Vec<String> = i_slint_backend_testing::ElementQuery::from_root(app)
            .match_descendants()
            .match_accessible_role(AccessibleRole::Button)
            .find_all()
            .into_iter()
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .collect();
        panic!(
            "no button is labelled `{label}` on {:?}; the buttons are {buttons:?}",
            screen(app)
        );
    }
    assert_eq!(
        found.len(),
        1,
        "more than one element is labelled `{label}`"
    );
    found[0].mock_single_click(PointerEventButton::Left);
}

/// Swipes the scrollable part of the screen up by most of its height, the way a resident
/// scrolls to see more.
pub fn swipe_up(app: &AppWindow) {
    let flickable = i_slint_backend_testing::ElementQuery::from_root(app)
        .match_descendants()
        .match_type_name("Flickable")
        .find_first()
        .expect("the screen has a scrollable area");
    let (pos, size) = (flickable.absolute_position(), flickable.size());
    let target = slint::LogicalPosition::new(pos.x + size.width / 2.0, pos.y);
    flickable.mock_drag(target, PointerEventButton::Left);
}

/// Types `text` straight in on the on-screen keyboard (letters, digits and punctuation on the
/// letter page): letters as letters, switching the keyboard from pinyin to ABC if needed.
pub fn type_on_keyboard(app: &AppWindow, text: &str) {
    if text.chars().any(|c| c.is_ascii_alphabetic()) && is_on_screen(app, PINYIN_MODE_KEY) {
        tap(app, PINYIN_MODE_KEY);
    }
    tap_keys(app, text);
}

/// The keyboard's mode key while it composes pinyin.
pub const PINYIN_MODE_KEY: &str = "拼音，点一下改打字母";

/// Taps the keys of `text`, one per character, whatever the keyboard's mode (in pinyin mode,
/// letters build the pinyin).
pub fn tap_keys(app: &AppWindow, text: &str) {
    for c in text.chars() {
        tap(app, &c.to_string());
    }
}

pub fn is_on_screen(app: &AppWindow, label: &str) -> bool {
    ElementHandle::find_by_accessible_label(app, label).any(|e| e.is_valid())
}

/// The accessible value of the element labelled `label` (e.g. what the slip line says).
pub fn value_of(app: &AppWindow, label: &str) -> Option<String> {
    ElementHandle::find_by_accessible_label(app, label)
        .find_map(|e| e.accessible_value())
        .map(|v| v.to_string())
}

pub fn screen(app: &AppWindow) -> grievance_kiosk::app::ui::Screen {
    app.global::<Api>().get_screen()
}

/// Lets the event loop run until `done` holds (a background task answered), failing after a
/// generous limit so that a hang is a failure, not a stuck test run.
pub async fn until(mut done: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "gave up waiting for {what}"
        );
        YieldNow(false).await;
    }
}

/// Gives the event loop one turn.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Runs an async UI scenario on the Slint event loop; a panic in it fails the test.
pub fn run_scenario(scenario: impl Future<Output = ()> + 'static) {
    slint::spawn_local(async move {
        scenario.await;
        slint::quit_event_loop().expect("the event loop quits");
    })
    .expect("the scenario starts");
    slint::run_event_loop().expect("the event loop runs");
}

/// From the description step: on without a phone, accept the notice, submit, and wait for the
/// case to be filed; returns the description stored with it (the case as `data_dir` holds it).
pub async fn submit_anonymously_and_read_back(app: &AppWindow, data_dir: &Path) -> Option<String> {
    use grievance_kiosk::app::ui::Screen;
    tap(app, "下一步");
    assert_eq!(screen(app), Screen::Contact);
    tap(app, "不留电话，匿名反映");
    assert_eq!(screen(app), Screen::Consent);
    tap(app, "我已了解，同意");
    assert_eq!(screen(app), Screen::Review);
    tap(app, "提交");
    until(
        || matches!(screen(app), Screen::Result | Screen::HighRisk),
        "the case to be filed",
    )
    .await;
    let code = app.global::<Api>().get_code().to_string();
    let token = domain::TrackingToken::parse(&code).expect("the screen shows a valid code");
    station::store::Store::open(data_dir)
        .unwrap()
        .case_by_token(&token)
        .unwrap()
        .expect("the case is in the database")
        .case
        .description
}

/// The staff's way in: five taps on the hidden corner of Home, which opens the PIN pad.
pub fn open_staff_pin(app: &AppWindow) {
    for _ in 0..5 {
        tap(app, "工作人员入口");
    }
    assert_eq!(screen(app), grievance_kiosk::app::ui::Screen::StaffPin);
}

/// From Home to the staff console with `pin` (the pad's keys, then 确定).
pub async fn sign_in_staff(app: &AppWindow, pin: &str) {
    open_staff_pin(app);
    type_on_keyboard(app, pin);
    tap(app, "确定");
    until(
        || screen(app) == grievance_kiosk::app::ui::Screen::Staff,
        "the PIN to be accepted",
    )
    .await;
}

/// One key pressed and released, as a keyboard-wedge scanner (or any USB keyboard) sends it.
pub fn key(app: &AppWindow, text: impl Into<SharedString>) {
    let text = text.into();
    app.window()
        .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    app.window()
        .dispatch_event(WindowEvent::KeyReleased { text });
}

/// A keyboard-wedge scanner typing `text` and Enter: Shift held around each capital, as a US
/// keyboard layout makes it send them.
pub fn wedge_types(app: &AppWindow, text: &str) {
    for c in text.chars() {
        if c.is_ascii_uppercase() {
            app.window().dispatch_event(WindowEvent::KeyPressed {
                text: Key::Shift.into(),
            });
            key(app, c.to_string());
            app.window().dispatch_event(WindowEvent::KeyReleased {
                text: Key::Shift.into(),
            });
        } else {
            key(app, c.to_string());
        }
    }
    key(app, Key::Return);
}

/// A disk of a known size for one test: a tmpfs of `size` KiB mounted in a temporary directory
/// (needs root, as CI has), unmounted when dropped. A full disk here is the kernel's `ENOSPC`;
/// free space here is what the test chose, whatever the machine's own disk has.
pub struct SmallDisk {
    _dir: tempfile::TempDir,
    mount: std::path::PathBuf,
}

impl SmallDisk {
    pub fn new(size_kib: u32) -> SmallDisk {
        let dir = tempfile::TempDir::new().unwrap();
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_kib}k,mode=0700"))
            .arg("tmpfs")
            .arg(&mount)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "mounting a {size_kib} KiB tmpfs at {} needs root: {}",
            mount.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { _dir: dir, mount }
    }

    pub fn path(&self) -> &Path {
        &self.mount
    }

    pub fn filler(&self) -> std::path::PathBuf {
        self.mount.join("filler")
    }

    /// Writes a file until the kernel says the disk is full; returns the bytes it took.
    pub fn fill(&self) -> u64 {
        use std::io::Write;
        let mut file = std::fs::File::create(self.filler()).unwrap();
        let mut written = 0u64;
        for chunk in [64 * 1024, 512, 1] {
            let block = vec![0x5a_u8; chunk];
            loop {
                match file.write(&block) {
                    Ok(0) => break,
                    Ok(n) => written += n as u64,
                    Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                    Err(e) => panic!("filling the disk: {e}"),
                }
            }
        }
        file.sync_all().unwrap();
        let err = file.write_all(&[0]).expect_err("the disk is full");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        written
    }

    /// Removes the filler, and returns once the file system gives its blocks back: removing
    /// a name frees nothing while a descriptor is still open, and a program another test is
    /// starting holds a copy of every descriptor of this process between its fork and its exec
    /// (`scripts/stress` caught a write failing for want of space just after a `free`).
    pub fn free(&self) {
        let size = std::fs::metadata(self.filler()).unwrap().len();
        std::fs::remove_file(self.filler()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let available = self.available();
            if available >= size / 2 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the filler's {size} bytes were not given back within 30 s ({available} free)"
            );
            std::thread::yield_now();
        }
    }

    /// The bytes the file system says are free.
    pub fn available(&self) -> u64 {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(self.mount.as_os_str().as_bytes()).unwrap();
        // SAFETY: statvfs writes into the struct passed; the path is a valid C string.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
        assert_eq!(rc, 0, "statvfs: {}", std::io::Error::last_os_error());
        stat.f_bavail as u64 * stat.f_frsize as u64
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.mount)
            .status();
    }
}

/// The line `grievance-kiosk doctor` printed for `check` (its second word: `ok  config  …`), or
/// a panic showing everything it printed.
pub fn doctor_line(out: &str, check: &str) -> String {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no `{check}` line in {out}"))
        .to_owned()
}
