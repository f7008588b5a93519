//! The `careloop-app` binary: the desktop app.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    careloop_app_lib::run()
}
