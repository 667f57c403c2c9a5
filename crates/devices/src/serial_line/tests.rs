//! The line opener against a real pseudo-terminal: what it sets, what it refuses.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::{ErrorKind, SerialPort, TTYPort};

use super::*;

const WAIT: Duration = Duration::from_millis(500);

/// 8N1 without flow control at `baud`.
fn at(baud: u32) -> SerialSettings {
    SerialSettings {
        baud,
        ..SerialSettings::default()
    }
}

fn pair() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal");
    master.set_timeout(WAIT).unwrap();
    let path = slave.name().expect("the slave has a path");
    // The slave end from `pair` is exclusive; the opener under test opens its own.
    drop(slave);
    (master, path)
}

fn settings(port: &TTYPort) -> libc::termios {
    get(port.as_raw_fd()).expect("the settings read back")
}

#[test]
fn a_line_opens_raw_at_its_speed_and_carries_bytes_both_ways() {
    let (mut master, path) = pair();
    let mut port = open(&path, &at(19200), WAIT).expect("the line opens");

    let t = settings(&port);
    assert_eq!(unsafe { libc::cfgetospeed(&t) }, libc::B19200);
    assert_eq!(unsafe { libc::cfgetispeed(&t) }, libc::B19200);
    assert_eq!(
        t.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG),
        0,
        "raw"
    );
    assert_eq!(t.c_oflag & libc::OPOST, 0, "no output processing");
    assert_eq!(
        t.c_iflag & (libc::IXON | libc::ICRNL),
        0,
        "no flow control, no CR mapping"
    );
    assert_eq!(t.c_cflag & libc::CRTSCTS, 0);

    // Bytes a line discipline would mangle: CR, LF, XOFF, ^C, NUL.
    let sent = [0x1b, b'@', b'\r', b'\n', 0x13, 0x03, 0x00, 0xff];
    port.write_all(&sent).unwrap();
    let mut got = [0u8; 8];
    master.read_exact(&mut got).unwrap();
    assert_eq!(got, sent);

    master.write_all(&[0x12, b'\r']).unwrap();
    let mut answer = [0u8; 2];
    port.read_exact(&mut answer).unwrap();
    assert_eq!(answer, [0x12, b'\r']);
}

#[test]
fn a_read_with_nothing_to_read_times_out() {
    let (_master, path) = pair();
    let mut port = open(&path, &at(9600), Duration::from_millis(50)).unwrap();
    let error = port.read(&mut [0u8; 1]).expect_err("nothing was sent");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn flow_control_is_set_as_asked() {
    let (_master, path) = pair();
    let software = SerialSettings {
        flow_control: FlowControl::XonXoff,
        ..at(115200)
    };
    let port = open(&path, &software, WAIT).unwrap();
    let t = settings(&port);
    assert_eq!(
        t.c_iflag & (libc::IXON | libc::IXOFF),
        libc::IXON | libc::IXOFF
    );
    assert_eq!(t.c_cflag & libc::CRTSCTS, 0);
    drop(port);

    let hardware = SerialSettings {
        flow_control: FlowControl::RtsCts,
        ..at(38400)
    };
    let port = open(&path, &hardware, WAIT).unwrap();
    let t = settings(&port);
    assert_eq!(t.c_cflag & libc::CRTSCTS, libc::CRTSCTS);
    assert_eq!(t.c_iflag & (libc::IXON | libc::IXOFF), 0);
}

#[test]
fn a_second_opener_is_refused_until_the_first_lets_go() {
    let (_master, path) = pair();
    let first = open(&path, &at(9600), WAIT).unwrap();
    let error = open(&path, &at(9600), WAIT).expect_err("the line is held");
    // TIOCEXCL refuses the open itself, except to root, whom the flock refuses.
    assert_eq!(error.kind(), ErrorKind::NoDevice, "{error}");
    assert!(error.to_string().contains("in use"), "{error}");
    drop(first);
    open(&path, &at(9600), WAIT).expect("free again once dropped");
}

#[test]
fn what_cannot_be_a_line_is_refused_with_its_reason() {
    let missing = open("/nonexistent/ttyUSB9", &at(9600), WAIT).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-tty");
    std::fs::write(&file, b"").unwrap();
    let not_tty = open(file.to_str().unwrap(), &at(9600), WAIT).unwrap_err();
    assert!(matches!(not_tty.kind(), ErrorKind::Io(_)), "{not_tty}");

    // An odd speed is refused before the device is touched: the path need not exist.
    let odd = open("/nonexistent/ttyUSB9", &at(12345), WAIT).unwrap_err();
    assert_eq!(odd.kind(), ErrorKind::InvalidInput);
    assert!(odd.to_string().contains("12345"), "{odd}");

    let bits = SerialSettings {
        data_bits: 5,
        ..at(9600)
    };
    let five = open("/nonexistent/ttyUSB9", &bits, WAIT).unwrap_err();
    assert_eq!(five.kind(), ErrorKind::InvalidInput);
    assert!(five.to_string().contains("data bits"), "{five}");
}
