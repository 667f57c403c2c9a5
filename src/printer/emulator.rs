//! A thermal printer emulator on a pseudo-terminal (written next).
