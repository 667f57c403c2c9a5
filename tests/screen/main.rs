//! The kiosk's screen driven by taps through Slint's testing backend: every flow a resident or
//! staff take, as scenarios, one module each.
//!
//! One binary with its own runner (`harness = false` in Cargo.toml): Slint's platform, its mock
//! clock and the selected translation belong to the process, and the platform can be set only
//! once, so the scenarios run one after another on this thread, each with a fresh window,
//! controller and data directory, the screen's language reset to the default between them.
//! `cargo test --test screen [FILTER]` runs those whose name contains FILTER; libtest's other
//! options are accepted and ignored.

#[path = "../common/mod.rs"]
mod common;

mod back_and_language;
mod booking;
mod call_staff;
mod handwriting;
mod idle_reset;
mod idle_reset_random;
mod intake;
mod pinyin;
mod pinyin_fallback;
mod printer_out;
mod read_aloud;
mod safety_first;
mod scan;
mod staff;
mod staff_lockout;
mod steady;
mod storage_fault;
mod ticket;
mod track;

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Every scenario, by the name it is reported under.
const SCENARIOS: &[(&str, fn())] = &[
    ("back_and_language::back_keeps_every_answer_and_the_language_switches_at_runtime", back_and_language::back_keeps_every_answer_and_the_language_switches_at_runtime),
    ("booking::a_resident_books_a_slot_by_taps_and_gets_its_code", booking::a_resident_books_a_slot_by_taps_and_gets_its_code),
    ("call_staff::the_call_staff_button_calls_staff_once_until_they_acknowledge", call_staff::the_call_staff_button_calls_staff_once_until_they_acknowledge),
    ("handwriting::a_resident_writes_by_hand_on_the_pad_and_files_it", handwriting::a_resident_writes_by_hand_on_the_pad_and_files_it),
    ("handwriting::taps_for_a_sentence_by_pinyin_and_by_hand", handwriting::taps_for_a_sentence_by_pinyin_and_by_hand),
    ("idle_reset::the_idle_reset_asks_first_then_clears_every_field", idle_reset::the_idle_reset_asks_first_then_clears_every_field),
    ("idle_reset_random::random_taps_in_every_flow_then_the_idle_reset_leave_a_new_session_and_nothing_shown", idle_reset_random::random_taps_in_every_flow_then_the_idle_reset_leave_a_new_session_and_nothing_shown),
    ("intake::a_resident_files_each_of_the_five_services_by_taps_alone", intake::a_resident_files_each_of_the_five_services_by_taps_alone),
    ("pinyin::a_resident_writes_chinese_with_pinyin", pinyin::a_resident_writes_chinese_with_pinyin),
    ("pinyin_fallback::an_empty_dictionary_file_leaves_letters_and_tells_staff", pinyin_fallback::an_empty_dictionary_file_leaves_letters_and_tells_staff),
    ("pinyin_fallback::a_damaged_handwriting_model_leaves_pinyin_and_tells_staff", pinyin_fallback::a_damaged_handwriting_model_leaves_pinyin_and_tells_staff),
    ("printer_out::with_the_printer_out_of_paper_the_resident_still_files_and_sees_the_code", printer_out::with_the_printer_out_of_paper_the_resident_still_files_and_sees_the_code),
    ("read_aloud::the_screen_is_read_aloud_on_request_a_held_button_says_itself_and_elderly_mode_reads_each_screen", read_aloud::the_screen_is_read_aloud_on_request_a_held_button_says_itself_and_elderly_mode_reads_each_screen),
    ("safety_first::every_high_risk_answer_and_keyword_brings_the_emergency_numbers_before_any_other_step", safety_first::every_high_risk_answer_and_keyword_brings_the_emergency_numbers_before_any_other_step),
    ("scan::a_scanned_slip_opens_its_progress_from_home_and_a_wedge_scanner_types_on_track", scan::a_scanned_slip_opens_its_progress_from_home_and_a_wedge_scanner_types_on_track),
    ("staff::staff_sign_in_by_the_gesture_call_the_next_resident_and_mark_them_served", staff::staff_sign_in_by_the_gesture_call_the_next_resident_and_mark_them_served),
    ("staff_lockout::five_wrong_pins_lock_the_staff_mode_across_a_restart", staff_lockout::five_wrong_pins_lock_the_staff_mode_across_a_restart),
    ("steady::nothing_moves_under_the_finger_and_no_button_turns_into_another", steady::nothing_moves_under_the_finger_and_no_button_turns_into_another),
    ("storage_fault::a_refused_commit_keeps_the_resident_on_review_with_everything_kept", storage_fault::a_refused_commit_keeps_the_resident_on_review_with_everything_kept),
    ("ticket::a_resident_takes_a_priority_number_by_taps", ticket::a_resident_takes_a_priority_number_by_taps),
    ("track::a_resident_taps_the_code_and_the_search_starts_by_itself", track::a_resident_taps_the_code_and_the_search_starts_by_itself),
    ("track::a_resolved_case_is_rated_on_the_track_screen", track::a_resolved_case_is_rated_on_the_track_screen),
    ("track::the_code_keypad_fits_every_variant_and_nothing_of_the_result_lies_under_it", track::the_code_keypad_fits_every_variant_and_nothing_of_the_result_lies_under_it),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in SCENARIOS {
            println!("{name}: test");
        }
        return;
    }
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let chosen: Vec<_> = SCENARIOS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, scenario) in &chosen {
        let outcome = catch_unwind(AssertUnwindSafe(scenario));
        // The next scenario starts in the default language, as a new process did.
        let _ = slint::select_bundled_translation("");
        match outcome {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    let passed = chosen.len() - failed.len();
    if failed.is_empty() {
        println!("\ntest result: ok. {passed} passed; 0 failed\n");
    } else {
        println!("\nfailures:\n    {}", failed.join("\n    "));
        println!(
            "\ntest result: FAILED. {passed} passed; {} failed\n",
            failed.len()
        );
        std::process::exit(101);
    }
}
