//! Headless Chromium driven through the DevTools protocol, over the pipe Chromium opens with
//! `--remote-debugging-pipe` (commands on its fd 3, answers and events on its fd 4, each a JSON
//! message ended by a NUL byte): no WebSocket, no driver binary, no new dependency.
//!
//! A [`Browser`] is one Chromium with a profile of its own; [`Browser::tab`] opens a page at a
//! set size, and a [`Tab`] navigates, waits for the load, runs a line of script (to fill and
//! send a form, as a person would) and takes screenshots. Every wait has a bound and fails with
//! what it waited for.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long one command or one page load may take.
const WAIT: Duration = Duration::from_secs(60);

/// The Chromium on `PATH`, or a failure that says how to get one.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "headless Chromium is needed, and neither `chromium` nor `chromium-browser` is on PATH: \
         run `scripts/test` (it installs Chromium), or `apt-get install chromium fonts-wqy-microhei`"
    );
}

pub struct Browser {
    child: Child,
    to_browser: std::fs::File,
    from_browser: Receiver<Value>,
    /// Events that arrived while waiting for an answer.
    pending: VecDeque<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    pub fn start() -> Browser {
        let profile = tempfile::tempdir().expect("a profile directory");
        // Chromium reads commands on its fd 3 and writes on its fd 4.
        let (cmd_read, cmd_write) = pipe();
        let (out_read, out_write) = pipe();
        let (child_in, child_out) = (cmd_read.into_raw_fd(), out_write.into_raw_fd());
        let mut command = Command::new(chromium());
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--no-proxy-server",
                "--remote-debugging-pipe",
                "--font-render-hinting=none",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls: dup2 and close.
        unsafe {
            command.pre_exec(move || {
                // Out of the way first, so that neither lands on the other's new number.
                let a = libc::fcntl(child_in, libc::F_DUPFD, 10);
                let b = libc::fcntl(child_out, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(a);
                libc::close(b);
                Ok(())
            });
        }
        let child = command.spawn().expect("Chromium starts");
        // SAFETY: the child has its copies; ours are closed here.
        unsafe {
            libc::close(child_in);
            libc::close(child_out);
        }
        let (tx, rx) = mpsc::channel();
        let reader = std::fs::File::from(out_read);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    continue;
                };
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Browser {
            child,
            to_browser: std::fs::File::from(cmd_write),
            from_browser: rx,
            pending: VecDeque::new(),
            next_id: 1,
            _profile: profile,
        }
    }

    /// Sends a command (to a page's session, when given) and waits for its answer.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).expect("JSON");
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .expect("Chromium takes the command");
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) => {
                    if let Some(e) = v.get("error") {
                        panic!("{method} failed: {e}");
                    }
                    return v["result"].clone();
                }
                Ok(v) => self.pending.push_back(v),
                Err(RecvTimeoutError::Timeout) => panic!("no answer to {method} within {WAIT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("Chromium went away during {method}"),
            }
        }
    }

    /// Waits for an event `method` of `session` (one already received counts).
    fn event(&mut self, session: &str, method: &str) -> Value {
        if let Some(i) = self
            .pending
            .iter()
            .position(|v| v["method"] == method && v["sessionId"] == session)
        {
            return self.pending.remove(i).expect("found");
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(v) if v["method"] == method && v["sessionId"] == session => return v,
                Ok(v) => self.pending.push_back(v),
                Err(_) => panic!("no {method} within {WAIT:?}"),
            }
        }
    }

    /// A new page of `width`×`height` CSS pixels (a phone: `mobile`).
    pub fn tab(&mut self, width: u32, height: u32, mobile: bool) -> Tab {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target").to_owned();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned();
        self.call(Some(&session), "Page.enable", json!({}));
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        Tab {
            session,
            width,
            height,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Tab {
    session: String,
    pub width: u32,
    pub height: u32,
}

impl Tab {
    /// Opens `url` and waits until it has loaded.
    pub fn open(&self, browser: &mut Browser, url: &str) {
        self.drain_loads(browser);
        let result = browser.call(Some(&self.session), "Page.navigate", json!({"url": url}));
        if let Some(e) = result.get("errorText") {
            panic!("{url} did not open: {e}");
        }
        browser.event(&self.session, "Page.loadEventFired");
    }

    /// Forgets loads seen before (so the next wait is for a new one).
    fn drain_loads(&self, browser: &mut Browser) {
        browser
            .pending
            .retain(|v| !(v["method"] == "Page.loadEventFired" && v["sessionId"] == self.session));
    }

    /// Runs `script` in the page and returns its value (JSON).
    pub fn eval(&self, browser: &mut Browser, script: &str) -> Value {
        let r = browser.call(
            Some(&self.session),
            "Runtime.evaluate",
            json!({"expression": script, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("the script failed: {e}\n{script}");
        }
        r["result"]["value"].clone()
    }

    /// Runs `script`, which sends a form or follows a link, and waits for the next page.
    pub fn submit(&self, browser: &mut Browser, script: &str) {
        self.drain_loads(browser);
        self.eval(browser, script);
        browser.event(&self.session, "Page.loadEventFired");
    }

    /// The page's text as a reader sees it.
    pub fn text(&self, browser: &mut Browser) -> String {
        self.eval(browser, "document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's address now.
    pub fn url(&self, browser: &mut Browser) -> String {
        self.eval(browser, "location.href")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A screenshot of the whole page (PNG bytes).
    pub fn screenshot(&self, browser: &mut Browser) -> Vec<u8> {
        let r = browser.call(
            Some(&self.session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        base64_decode(r["data"].as_str().expect("screenshot data"))
    }

    /// A screenshot of the whole page, however long (PNG bytes): a phone's page pictured top
    /// to bottom.
    pub fn full_screenshot(&self, browser: &mut Browser) -> Vec<u8> {
        let metrics = browser.call(Some(&self.session), "Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let r = browser.call(
            Some(&self.session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true, "clip": {
                "x": 0, "y": 0, "scale": 1,
                "width": size["width"].as_f64().unwrap_or(f64::from(self.width)),
                "height": size["height"].as_f64().unwrap_or(f64::from(self.height)),
            }}),
        );
        base64_decode(r["data"].as_str().expect("screenshot data"))
    }

    /// Saves a screenshot to `path`.
    pub fn save_screenshot(&self, browser: &mut Browser, path: &Path) -> Vec<u8> {
        let png = self.screenshot(browser);
        std::fs::write(path, &png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        png
    }
}

/// Standard base64 (the protocol's screenshots).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let Some(v) = value(c) else { continue };
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// Reads a whole stream (for a child's output).
pub fn read_all(mut r: impl Read) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s);
    s
}
