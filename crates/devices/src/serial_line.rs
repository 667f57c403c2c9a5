//! Opening a serial line (the printer's, the scanner's) and setting it up, with the POSIX
//! terminal calls (`tcgetattr`/`tcsetattr`, `cfsetspeed`) rather than Linux's `termios2`
//! ioctls, which `serialport`'s own `open` uses.
//!
//! Every speed a profile accepts ([`BAUD_RATES`]) is a standard one, so `termios2` (arbitrary
//! speeds) buys nothing here, and it costs: qemu-user translates neither `TCGETS2` nor
//! `TCSETS2`, so under emulation (`scripts/test-aarch64`) no line opened at all. The opened
//! line is a `serialport::TTYPort` all the same: reads and writes wait at most the timeout,
//! `clear` flushes, and dropping it releases the line.
//!
//! Invariants:
//! - the line is held exclusively (`flock` and `TIOCEXCL`): a second opener is refused with
//!   "in use", never allowed to interleave bytes with ours;
//! - raw mode and the speed are read back after they are written; a line that did not take them
//!   is refused rather than used with line editing or at the wrong speed (the word size and
//!   parity are not compared: a pseudo-terminal always reports 8 bits without parity);
//! - an unsupported speed is refused before the device is touched.

use std::fs::OpenOptions;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::FromRawFd;
use std::time::Duration;

use serialport::TTYPort;

use slip::profile::{FlowControl, Parity, SerialSettings, BAUD_RATES};

/// Opens the terminal device at `path` and sets it up as `line` says (one stop bit always); each
/// read or write then waits at most `timeout`. The scanner's line is the default settings (8N1,
/// no flow control) at its baud rate.
///
/// Errors carry `serialport`'s kinds: `Io(NotFound)` for a missing device, `NoDevice` for a line
/// another program holds, `InvalidInput` for a speed or word size this does not set.
pub fn open(path: &str, line: &SerialSettings, timeout: Duration) -> serialport::Result<TTYPort> {
    let speed = speed(line.baud).ok_or_else(|| {
        serialport::Error::new(
            serialport::ErrorKind::InvalidInput,
            format!("{} is not a serial baud rate ({BAUD_RATES:?})", line.baud),
        )
    })?;
    let size = match line.data_bits {
        7 => libc::CS7,
        8 => libc::CS8,
        other => {
            return Err(serialport::Error::new(
                serialport::ErrorKind::InvalidInput,
                format!("{other} data bits: only 7 or 8 are set"),
            ))
        }
    };
    // Non-blocking while it is set up: opening a modem line without carrier would otherwise wait
    // for one. No controlling terminal: a kiosk must never get the line's hang-up signal.
    let in_use = || {
        serialport::Error::new(
            serialport::ErrorKind::NoDevice,
            "the line is in use by another program",
        )
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            // Another holder's TIOCEXCL refuses the open itself (for all but root).
            if e.raw_os_error() == Some(libc::EBUSY) {
                in_use()
            } else {
                e.into()
            }
        })?;
    let fd: OwnedFd = file.into();
    let raw = fd.as_raw_fd();

    // SAFETY (all calls below): `raw` is the descriptor `fd` owns for the whole function, and
    // every pointer passed points at a live local of the type the call expects.
    if unsafe { libc::flock(raw, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        return Err(if e.kind() == io::ErrorKind::WouldBlock {
            in_use()
        } else {
            e.into()
        });
    }
    if unsafe { libc::ioctl(raw, libc::TIOCEXCL as _) } != 0 {
        return Err(io::Error::last_os_error().into());
    }

    let mut wanted = get(raw)?;
    unsafe { libc::cfmakeraw(&mut wanted) };
    wanted.c_cflag |= libc::CREAD | libc::CLOCAL;
    wanted.c_cflag &= !(libc::CSIZE | libc::CSTOPB | libc::PARENB | libc::PARODD);
    wanted.c_cflag |= size;
    wanted.c_iflag &= !(libc::INPCK | libc::IGNPAR | libc::IXON | libc::IXOFF | libc::IXANY);
    wanted.c_cflag &= !libc::CRTSCTS;
    match line.parity {
        Parity::None => wanted.c_iflag |= libc::IGNPAR,
        Parity::Odd => {
            wanted.c_cflag |= libc::PARENB | libc::PARODD;
            wanted.c_iflag |= libc::INPCK;
        }
        Parity::Even => {
            wanted.c_cflag |= libc::PARENB;
            wanted.c_iflag |= libc::INPCK;
        }
    }
    match line.flow_control {
        FlowControl::None => {}
        FlowControl::XonXoff => wanted.c_iflag |= libc::IXON | libc::IXOFF,
        FlowControl::RtsCts => wanted.c_cflag |= libc::CRTSCTS,
    }
    // One byte is enough for a read to return; the port's poll does the waiting.
    wanted.c_cc[libc::VMIN] = 1;
    wanted.c_cc[libc::VTIME] = 0;
    if unsafe { libc::cfsetispeed(&mut wanted, speed) } != 0
        || unsafe { libc::cfsetospeed(&mut wanted, speed) } != 0
    {
        return Err(io::Error::last_os_error().into());
    }
    if unsafe { libc::tcsetattr(raw, libc::TCSANOW, &wanted) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    // tcsetattr succeeds if *any* of the settings took; read them back.
    let got = get(raw)?;
    let same = got.c_iflag == wanted.c_iflag
        && got.c_oflag == wanted.c_oflag
        && got.c_lflag == wanted.c_lflag
        && unsafe { libc::cfgetospeed(&got) } == speed;
    if !same {
        return Err(serialport::Error::new(
            serialport::ErrorKind::Unknown,
            format!(
                "the line did not take the settings ({} baud, {}{}1, {:?} flow control)",
                line.baud,
                line.data_bits,
                match line.parity {
                    Parity::None => 'N',
                    Parity::Odd => 'O',
                    Parity::Even => 'E',
                },
                line.flow_control
            ),
        ));
    }
    // Blocking from now on: the port polls with its timeout before every read and write.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, 0) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    // SAFETY: the descriptor is open and ours; the port owns it from here (and takes the same
    // flock and TIOCEXCL again, which the holder of both is granted).
    let mut port = unsafe { TTYPort::from_raw_fd(fd.into_raw_fd()) };
    serialport::SerialPort::set_timeout(&mut port, timeout)?;
    Ok(port)
}

fn get(fd: std::os::fd::RawFd) -> io::Result<libc::termios> {
    let mut t = MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr fills the whole struct on success, and it is read only then.
    if unsafe { libc::tcgetattr(fd, t.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { t.assume_init() })
}

fn speed(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        1200 => libc::B1200,
        2400 => libc::B2400,
        4800 => libc::B4800,
        9600 => libc::B9600,
        19200 => libc::B19200,
        38400 => libc::B38400,
        57600 => libc::B57600,
        115200 => libc::B115200,
        230400 => libc::B230400,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
