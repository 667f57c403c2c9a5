//! Compiles the Slint UI in `ui/` into Rust, with the English translation bundled (the source
//! strings are Chinese, the kiosk's first language) and element debug info on, which the UI
//! tests need to find elements by their accessible labels.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI compiles");
}
