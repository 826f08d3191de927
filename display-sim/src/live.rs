//! The account's playback, live: the session set up from the config and the stores, the
//! network thread, and [`StoreSink`], which keeps refreshed tokens and the budget's state.

use std::time::Duration;

use tonearm_core::Secret;
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{Credentials, Features, Session, Timing, TokenUpdate};
use tonearm_core::text::bounded;

use crate::config::{Config, SecretString};
use crate::net::{Bases, ThreadNetwork};
use crate::shell::{ShellError, TokenSink};
use crate::token_store::{
    AuthMode, QuotaStore, StoredToken, TokenSource, TokenStore, TokenStoreError, now_epoch_s,
    starting_token,
};
use crate::transport::{DEFAULT_MAX_BODY, TransportConfig, UreqTransport};

/// Why the live display cannot start. Each message is one line and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The token file cannot be read, or a token from the config cannot be stored.
    #[error(transparent)]
    Store(#[from] TokenStoreError),
    /// The client secret does not fit the session.
    #[error("client_secret is longer than 64 bytes: check the config")]
    SecretTooLong,
    /// The refresh token does not fit the session.
    #[error("the stored refresh token is too long: run tonearm login again")]
    RefreshTooLong,
}

/// What the live display runs with.
pub struct Live {
    /// The session, with its credentials, schedule, budget, night hours and any stored
    /// access token.
    pub session: Session,
    /// Requests on their own thread.
    pub net: ThreadNetwork,
    /// Where refreshed tokens and the budget's state go.
    pub sink: StoreSink,
}

/// Sets up the live display from `config`: the starting token (seeding the token store
/// from the config or the environment when it is empty), the session, the budget's
/// stored state, and the network with `timeout` per request. Prints on stderr what the
/// user should know (not logged in, a quota file set aside).
pub fn start(config: &Config, timeout: Duration) -> Result<Live, LiveError> {
    let store = TokenStore::new(config.token_path());
    let start = starting_token(store.load()?, config, store.path())?;
    if let Some(s) = &start
        && s.needs_seeding()
    {
        store.save(&s.token)?;
    }
    let mut creds = Credentials {
        client_id: bounded(&config.client_id).0,
        client_secret: None,
        refresh_token: None,
    };
    if let Some(secret) = &config.client_secret {
        creds.client_secret = Some(Secret::new(secret.expose()).ok_or(LiveError::SecretTooLong)?);
    }
    if let Some(s) = &start {
        creds.refresh_token =
            Some(Secret::new(s.token.refresh_token.expose()).ok_or(LiveError::RefreshTooLong)?);
    } else {
        eprintln!("tonearm: not logged in: run tonearm login");
    }
    let mode = if creds.client_secret.is_some() {
        AuthMode::Secret
    } else {
        AuthMode::Pkce
    };
    let timing = Timing {
        poll_playing_ms: millis(config.poll_playing),
        poll_paused_ms: millis(config.poll_paused),
        poll_idle_max_ms: millis(config.poll_idle),
        ..Timing::default()
    };
    let seed = u64::from(std::process::id()) ^ now_epoch_s().rotate_left(17);
    let mut session = Session::new(creds, timing, seed);
    // The budget and a quota hold outlive the process (and a logout).
    let quota = QuotaStore::new(config.quota_path());
    let (quota_state, warning) = quota.load_for_start();
    if let Some(w) = warning {
        eprintln!("tonearm: {w}");
    }
    session.set_budget(config.daily_requests, quota_state);
    session.set_night(config.night);
    session.set_features(Features {
        like: config.like,
        up_next: config.up_next,
    });
    let authorized_at = start.as_ref().and_then(|s| s.token.authorized_at);
    if let Some(s) = &start
        && authorized_at.is_none()
    {
        let why = match s.source {
            TokenSource::Env => "the token came from SPOTIFY_REFRESH_TOKEN",
            TokenSource::ConfigFile => "the token came from the config's refresh_token",
            TokenSource::TokenFile => "token.json does not record it",
        };
        log::info!(
            "no six-month login warning: when this login was authorized is unknown ({why}); tonearm login records it"
        );
    }
    session.set_authorized_at(authorized_at);
    if let Some(s) = &start
        && let (Some(access), Some(left)) = (
            &s.token.access_token,
            s.token.access_remaining(now_epoch_s()),
        )
        && let Some(access) = Secret::new(access.expose())
    {
        session.set_access_token(access, 0, millis(left));
    }
    let transport = UreqTransport::new(
        TransportConfig::default()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .request_timeout(timeout)
            // Bodies stream into the parser; nothing Spotify sends comes near this.
            .max_body(DEFAULT_MAX_BODY),
    );
    let net = ThreadNetwork::spawn(
        transport,
        Bases {
            api: config.api_base.clone(),
            accounts: config.accounts_base.clone(),
        },
    );
    let sink = StoreSink {
        store,
        current: start.map(|s| s.token),
        mode,
        quota,
        quota_failing: false,
        token_unsaved: false,
    };
    Ok(Live { session, net, sink })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Persists refreshed tokens at once (atomically: see the token store), and the budget's
/// state to `quota.json`.
pub struct StoreSink {
    store: TokenStore,
    current: Option<StoredToken>,
    mode: AuthMode,
    quota: QuotaStore,
    /// The last quota write failed (warned once; the next success says so).
    quota_failing: bool,
    /// `current` holds tokens the last write could not keep (a rotated refresh token may
    /// be the only valid one): tried again at every save and at the end.
    token_unsaved: bool,
}

impl StoreSink {
    fn save_current(&mut self) -> Result<(), ShellError> {
        let Some(token) = &self.current else {
            return Ok(());
        };
        self.store
            .save(token)
            .map_err(|source| ShellError::SaveToken {
                path: self.store.path().to_path_buf(),
                source,
            })?;
        if std::mem::take(&mut self.token_unsaved) {
            eprintln!("tonearm: {} written again", self.store.path().display());
        }
        log::info!(
            "token saved{}",
            if token.access_token.is_some() {
                ""
            } else {
                " (no access token)"
            }
        );
        Ok(())
    }

    /// Another try for tokens a write could not keep (before each quota save, and at the
    /// end); the display goes on meanwhile with the tokens in memory.
    fn retry_unsaved(&mut self) {
        if self.token_unsaved
            && let Err(e) = self.save_current()
        {
            log::info!("{e}");
        }
    }
}

impl TokenSink for StoreSink {
    fn tokens(&mut self, update: TokenUpdate) -> Result<(), ShellError> {
        let expires_at = now_epoch_s().saturating_add(update.expires_in_ms / 1000);
        let access = SecretString::new(update.access_token.expose());
        let token = match (self.current.take(), update.refresh_token) {
            (Some(mut t), new_refresh) => {
                if let Some(r) = new_refresh {
                    t.refresh_token = SecretString::new(r.expose());
                }
                t.access_token = Some(access);
                t.access_expires_at = Some(expires_at);
                t
            }
            (None, Some(r)) => StoredToken {
                refresh_token: SecretString::new(r.expose()),
                access_token: Some(access),
                access_expires_at: Some(expires_at),
                auth_mode: self.mode,
                authorized_at: None,
            },
            (None, None) => return Ok(()),
        };
        // Kept in memory whatever the write does: a rotated refresh token may be the only
        // one Spotify still accepts.
        self.current = Some(token);
        if let Err(e) = self.save_current() {
            if !self.token_unsaved {
                let cause = std::error::Error::source(&e)
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default();
                eprintln!(
                    "tonearm: warning: {e}{cause}; the new token is kept in memory and \
                     written as soon as it can be (before the display stops at the latest)"
                );
            }
            self.token_unsaved = true;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ShellError> {
        if self.token_unsaved {
            self.save_current()?;
        }
        Ok(())
    }

    /// A failed write is a warning, not the end: the display goes on, and the next change
    /// of the state tries again.
    fn quota(&mut self, state: QuotaState) -> Result<(), ShellError> {
        self.retry_unsaved();
        match self.quota.save(&state) {
            Ok(()) => {
                if std::mem::take(&mut self.quota_failing) {
                    eprintln!("tonearm: {} written again", self.quota.path().display());
                }
                log::debug!(
                    "quota state saved ({} requests in the window{})",
                    state.used(),
                    if state.hold_until_s != 0 {
                        ", a quota hold"
                    } else {
                        ""
                    }
                );
            }
            Err(e) if !self.quota_failing => {
                self.quota_failing = true;
                eprintln!(
                    "tonearm: warning: {e}: the request budget's state is not kept across a restart"
                );
            }
            Err(e) => log::info!("{e}"),
        }
        Ok(())
    }
}
