//! `tonearm service`: the systemd unit that starts the display at boot (see
//! [`tonearm_sim::service`] and the README's "Starting at boot").

use std::path::PathBuf;

use anyhow::Context as _;
use tonearm_sim::service::{UnitOptions, unit};

/// Arguments of `tonearm service`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceArgs {
    /// The user the display runs as (default: the user running this).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Under a desktop session (X or Wayland) rather than straight on the screen with
    /// SDL's KMS/DRM driver (Raspberry Pi OS Lite).
    #[arg(long)]
    pub desktop: bool,
    /// Write the unit here (e.g. /etc/systemd/system/tonearm.service) instead of printing
    /// it.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Runs `tonearm service`.
pub fn run(args: &ServiceArgs, config: Option<&std::path::Path>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let config = match config {
        Some(p) => Some(std::path::absolute(p).context("cannot make the config path absolute")?),
        None => tonearm_sim::config::default_path().ok(),
    };
    let user = args.user.clone().or_else(|| std::env::var("USER").ok());
    let text = unit(&UnitOptions {
        exe,
        config,
        user: user.filter(|u| u != "root"),
        kmsdrm: !args.desktop,
    });
    match &args.out {
        None => print!("{text}"),
        Some(path) => {
            tonearm_sim::atomic::write_atomically(
                path,
                text.as_bytes(),
                &tonearm_sim::atomic::Options::default(),
            )?;
            eprintln!(
                "tonearm: wrote {}; then: sudo systemctl daemon-reload && sudo systemctl enable --now {}",
                path.display(),
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("tonearm")
            );
        }
    }
    Ok(())
}
