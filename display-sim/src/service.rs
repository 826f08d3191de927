//! Starting at boot: the systemd unit `tonearm service` writes, and the screen's
//! backlight through Linux's `/sys/class/backlight` (used in full screen only: a window
//! on a desktop must not turn a laptop's screen off).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the unit runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOptions {
    /// The `tonearm` binary (absolute).
    pub exe: PathBuf,
    /// The config file (absolute); `None`: the user's default.
    pub config: Option<PathBuf>,
    /// The user the display runs as (`None`: root, not recommended).
    pub user: Option<String>,
    /// Draw straight to the screen with SDL's KMS/DRM driver (Raspberry Pi OS Lite, no X
    /// or Wayland); `false` under a desktop session.
    pub kmsdrm: bool,
}

/// A path as one word of a unit's command line: quoted, with `\`, `"` and systemd's `%`
/// specifiers escaped.
fn word(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The unit file: the display in full screen at boot, restarted 5 s after a failure, its
/// output in the journal (`journalctl -u tonearm`).
pub fn unit(opts: &UnitOptions) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "[Unit]");
    let _ = writeln!(s, "Description=Tonearm, a Spotify now-playing display");
    let _ = writeln!(s, "Wants=network-online.target");
    let _ = writeln!(
        s,
        "After=network-online.target systemd-user-sessions.service"
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "[Service]");
    let _ = writeln!(s, "Type=simple");
    if let Some(user) = &opts.user {
        let _ = writeln!(s, "User={user}");
    }
    // The screen (video, render) and the keyboard (input) without a desktop session.
    let _ = writeln!(s, "SupplementaryGroups=video render input");
    if opts.kmsdrm {
        let _ = writeln!(s, "Environment=SDL_VIDEODRIVER=kmsdrm");
    }
    let mut exec = format!("{} run --fullscreen", word(&opts.exe));
    if let Some(config) = &opts.config {
        exec.push_str(" --config ");
        exec.push_str(&word(config));
    }
    let _ = writeln!(s, "ExecStart={exec}");
    let _ = writeln!(s, "Restart=on-failure");
    let _ = writeln!(s, "RestartSec=5");
    let _ = writeln!(s);
    let _ = writeln!(s, "[Install]");
    let _ = writeln!(s, "WantedBy=multi-user.target");
    s
}

/// A screen's backlight in `/sys/class/backlight/<name>` (or the folder `TONEARM_BACKLIGHT`
/// names): off writes 0 to `brightness`, on writes back what was there.
#[derive(Debug)]
pub struct SysfsBacklight {
    dir: PathBuf,
    /// The brightness before it was turned off.
    saved: Option<String>,
}

impl SysfsBacklight {
    /// The backlight `TONEARM_BACKLIGHT` names, else the first in `/sys/class/backlight`;
    /// `None` when there is none (then a dark screen is a black picture only).
    pub fn find() -> Option<SysfsBacklight> {
        let dir = match std::env::var_os("TONEARM_BACKLIGHT") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let mut entries: Vec<PathBuf> = std::fs::read_dir("/sys/class/backlight")
                    .ok()?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                entries.into_iter().next()?
            }
        };
        let found = dir.join("brightness").is_file();
        found.then_some(SysfsBacklight { dir, saved: None })
    }

    /// Turns the backlight on or off. A failure (no permission: the user is not in the
    /// `video` group) is logged once per change and otherwise ignored.
    pub fn set(&mut self, on: bool) {
        let path = self.dir.join("brightness");
        let result = if on {
            match self.saved.take() {
                Some(level) => std::fs::write(&path, level),
                None => Ok(()),
            }
        } else {
            match std::fs::read_to_string(&path) {
                Ok(level) if level.trim() != "0" => {
                    self.saved = Some(level.trim().to_owned());
                    std::fs::write(&path, "0")
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            log::warn!("backlight {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_the_display_in_full_screen_and_restarts_it() {
        let u = unit(&UnitOptions {
            exe: PathBuf::from("/usr/local/bin/tonearm"),
            config: Some(PathBuf::from("/home/pi/my %h \"cfg\"/config.toml")),
            user: Some("pi".into()),
            kmsdrm: true,
        });
        assert!(u.contains("\nUser=pi\n"), "{u}");
        assert!(u.contains("\nEnvironment=SDL_VIDEODRIVER=kmsdrm\n"), "{u}");
        assert!(
            u.contains(
                "\nExecStart=\"/usr/local/bin/tonearm\" run --fullscreen --config \"/home/pi/my %%h \\\"cfg\\\"/config.toml\"\n"
            ),
            "{u}"
        );
        assert!(u.contains("\nRestart=on-failure\n"), "{u}");
        assert!(u.ends_with("WantedBy=multi-user.target\n"), "{u}");
        let desktop = unit(&UnitOptions {
            exe: PathBuf::from("/t"),
            config: None,
            user: None,
            kmsdrm: false,
        });
        assert!(!desktop.contains("SDL_VIDEODRIVER") && !desktop.contains("User="));
        assert!(desktop.contains("\nExecStart=\"/t\" run --fullscreen\n"));
    }

    #[test]
    fn the_backlight_goes_to_zero_and_back() {
        let dir = std::env::temp_dir().join(format!("tonearm-bl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("brightness"), "200\n").unwrap();
        let mut bl = SysfsBacklight {
            dir: dir.clone(),
            saved: None,
        };
        bl.set(false);
        assert_eq!(
            std::fs::read_to_string(dir.join("brightness")).unwrap(),
            "0"
        );
        bl.set(false);
        bl.set(true);
        assert_eq!(
            std::fs::read_to_string(dir.join("brightness")).unwrap(),
            "200"
        );
        // On while on: left alone.
        std::fs::write(dir.join("brightness"), "150").unwrap();
        bl.set(true);
        assert_eq!(
            std::fs::read_to_string(dir.join("brightness")).unwrap(),
            "150"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
