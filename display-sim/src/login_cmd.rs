//! `tonearm login` and `tonearm logout`.

use std::path::Path;

use crate::config::Config;
use crate::token_store::TokenStore;

/// Arguments of `tonearm login`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The loopback port of the redirect URI `http://127.0.0.1:PORT/callback` (register
    /// exactly this URI in your Spotify app).
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Your Spotify app's client id (saved to the config).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Print the authorize URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// Runs `tonearm login`.
pub fn run(_args: &LoginArgs, _config_path: Option<&Path>) -> anyhow::Result<()> {
    anyhow::bail!("login is not implemented yet")
}

/// Runs `tonearm logout`: removes the token file (the refresh token in the config or the
/// environment, if any, stays: say so).
pub fn logout(config_path: Option<&Path>) -> anyhow::Result<()> {
    let path = match Config::load(config_path) {
        Ok(config) => config.token_path(),
        Err(_) => match config_path {
            Some(p) => p
                .parent()
                .map_or_else(|| "token.json".into(), |d| d.join("token.json")),
            None => crate::config::default_path()?.with_file_name("token.json"),
        },
    };
    let store = TokenStore::new(&path);
    match std::fs::remove_file(store.path()) {
        Ok(()) => eprintln!("tonearm: logged out: removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("tonearm: not logged in (no {})", path.display());
        }
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot remove {}", path.display())));
        }
    }
    Ok(())
}
