//! Opening the authorize URL in the user's browser.

use std::process::{Command, Stdio};

use crate::config;

/// Tries `$BROWSER` (a `:`-separated list of commands; `%s` stands for the URL), then the
/// platform's opener. Returns whether one started. Its output is discarded, and no
/// secret of ours goes with its environment.
pub fn open_browser(url: &str) -> bool {
    if let Ok(list) = std::env::var("BROWSER") {
        for command in list.split(':').map(str::trim).filter(|c| !c.is_empty()) {
            let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            if words.iter().any(|w| w.contains("%s")) {
                for w in &mut words {
                    *w = w.replace("%s", url);
                }
            } else {
                words.push(url.to_owned());
            }
            let Some((program, rest)) = words.split_first() else {
                continue;
            };
            if spawn(program, rest.to_vec()) {
                return true;
            }
        }
    }
    if cfg!(target_os = "macos") {
        spawn("open", vec![url.to_owned()])
    } else if cfg!(windows) {
        spawn(
            "rundll32",
            vec!["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
        )
    } else {
        // Without a graphical session xdg-open may start a text browser on this terminal.
        let graphical = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        graphical && spawn("xdg-open", vec![url.to_owned()])
    }
}

/// Starts `program` detached from this terminal; whether it started.
fn spawn(program: &str, args: Vec<String>) -> bool {
    // The browser outlives this command and passes its environment on to everything it
    // starts: no secret of ours goes with it.
    let child = Command::new(program)
        .args(args)
        .env_remove(config::ENV_CLIENT_SECRET)
        .env_remove(config::ENV_REFRESH_TOKEN)
        .env_remove(crate::provision::ENV_PASSWORD)
        .env_remove(crate::provision::ENV_SSID)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => {
            // Reap it whenever it ends; the login does not wait for it.
            let _ = std::thread::Builder::new()
                .name("browser".into())
                .spawn(move || child.wait());
            log::info!("started {program} for the authorize URL");
            true
        }
        Err(e) => {
            log::info!("cannot start {program}: {e}");
            false
        }
    }
}
