//! `tonearm login` and `tonearm logout` (the flow itself: [`tonearm_sim::oauth`]).

use std::path::Path;

use tonearm_sim::config::{self, Config};
use tonearm_sim::oauth::{self, Flow, LoginError};
use tonearm_sim::token_store::{TokenStore, TokenStoreError};

use crate::common::{LoginArgs, timeout_of};

/// Runs `tonearm login`.
pub fn run(args: &LoginArgs, config_path: Option<&Path>) -> anyhow::Result<()> {
    let timeout = timeout_of(args.timeout)?;
    if args.port == 0 {
        return Err(LoginError::PortZero.into());
    }
    let config = oauth::login_config(args.client_id.as_deref(), config_path, true)?;
    let store = TokenStore::new(config.token_path());
    // Fail before the browser step if the token file cannot even be read.
    match store.load() {
        Ok(_) | Err(TokenStoreError::Corrupt { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let flow = Flow {
        config: &config,
        port: args.port,
        no_browser: args.no_browser,
        timeout,
        use_secret: true,
        command: "tonearm login",
    };
    let done = oauth::browser_login(&flow, |tokens| -> anyhow::Result<_> {
        Ok(oauth::store_login(&config, &store, tokens)?)
    })?;

    let store_note = match done.set_aside {
        Some(p) => format!(" (the old one was corrupt: moved to {})", p.display()),
        None => String::new(),
    };
    eprintln!(
        "tonearm: logged in; token saved to {}{store_note}",
        store.path().display()
    );
    match done.config {
        Ok(config::Saved::Written) => {
            eprintln!("tonearm: client id saved to {}", config.path.display())
        }
        Ok(config::Saved::Unchanged) => {}
        Err(e) => anyhow::bail!(
            "the token was saved, but the client id could not be saved: {e}; add client_id = \"{}\" to the config yourself",
            config.client_id
        ),
    }
    if let Some(missing) = done.missing_scopes {
        eprintln!(
            "tonearm: warning: Spotify did not grant {missing}: the display may miss what needs it (controls, the device); run tonearm login again to grant it"
        );
    }
    eprintln!("tonearm: run tonearm to see what is playing");
    Ok(())
}

/// Runs `tonearm logout`: removes the token file, and only it. A refresh token in the
/// config or the environment stays, and tonearm would go on using it: say so. `quota.json`
/// stays too, on purpose: Spotify's quota is per developer account, and a new login does
/// not reset it.
pub fn logout(config_path: Option<&Path>) -> anyhow::Result<()> {
    let loaded = Config::load(config_path);
    let path = match &loaded {
        Ok(config) => config.token_path(),
        Err(_) => match config_path {
            Some(p) => p
                .parent()
                .map_or_else(|| "token.json".into(), |d| d.join("token.json")),
            None => config::default_path()?.with_file_name("token.json"),
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
    let quota = path.with_file_name(tonearm_sim::token_store::quota::FILE_NAME);
    if quota.exists() {
        eprintln!(
            "tonearm: kept {}: the request budget's state (Spotify's quota is per developer account; a new login does not reset it)",
            quota.display()
        );
    }
    if let Ok(config) = &loaded
        && let Some((_, origin)) = &config.refresh_token
    {
        let place = match origin {
            config::Origin::Env => "SPOTIFY_REFRESH_TOKEN is set".to_owned(),
            config::Origin::File => format!("{} holds a refresh_token", config.path.display()),
        };
        eprintln!(
            "tonearm: note: {place}: tonearm will go on using it; remove it to log out fully"
        );
    }
    Ok(())
}
