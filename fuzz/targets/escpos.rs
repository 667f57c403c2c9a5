//! The ESC/POS interpreter (the printer emulator's, the renderer's and the tests') on any bytes:
//! it never panics, reading the stream in two pieces split anywhere gives what reading it whole
//! gives, and the renderer measures whatever it printed.

use slip::Interpreter;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let whole = slip::interpret(data);
        let mut one = Interpreter::new();
        one.push(data);
        let split = data.first().map_or(0, |&b| usize::from(b)) % (data.len() + 1);
        let mut two = Interpreter::new();
        two.push(&data[..split]);
        two.push(&data[split..]);
        assert_eq!(one.printout(), two.printout());
        assert!(whole.elements.len() >= one.printout().elements.len());
        // Measuring and drawing take milliseconds (the bundled font is read each time): only
        // short streams go on to the renderer, so the interpreter itself runs thousands of
        // times a second.
        if data.len() < 48 {
            let _ = slip::render::paper_length_dots(&whole, 576);
            let _ = slip::render::render_png(&whole, 384);
        }
    });
}
