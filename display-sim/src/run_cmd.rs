//! `tonearm run` (and `tonearm` alone): the account's playback, live; the demo when no
//! account is set up.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use tonearm_core::Secret;
use tonearm_core::budget::QuotaState;
use tonearm_core::session::{Credentials, Session, Timing, TokenUpdate};
use tonearm_core::text::bounded;
use tonearm_firmware::{App, Palette, Profile};

use crate::config::{Config, ConfigError};
use crate::demo_cmd::{DemoArgs, ViewArgs};
use crate::net::{Bases, ThreadNetwork};
use crate::quota_store::QuotaStore;
use crate::shell::{Clock, Headless, LoopOptions, TokenSink, run_loop};
use crate::token_store::{StoredToken, TokenSource, TokenStore, now_epoch_s, starting_token};
use crate::transport::{TransportConfig, UreqTransport};

/// Arguments of `tonearm run`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    /// Give up on a request after this many seconds (connecting: at most 10).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_S)]
    pub timeout: f64,
}

/// The default of `--timeout`.
const DEFAULT_TIMEOUT_S: f64 = 20.0;

impl Default for RunArgs {
    /// The values clap gives when no option is passed.
    fn default() -> Self {
        RunArgs {
            view: ViewArgs::default(),
            timeout: DEFAULT_TIMEOUT_S,
        }
    }
}

/// Runs `tonearm run`.
pub fn run(args: &RunArgs, config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = match Config::load(config_path) {
        Ok(config) => config,
        // Nothing set up at all: the demo, and how to get out of it.
        Err(ConfigError::MissingClientId { path }) if config_path.is_none() && !path.exists() => {
            eprintln!(
                "tonearm: no Spotify account set up, showing the demo. To see yours: tonearm login --client-id YOUR_APP_ID (see README: Login)"
            );
            return crate::demo_cmd::run(&DemoArgs {
                speed: 1,
                view: args.view.clone(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let profile = match &args.view.display {
        Some(name) => crate::render_cmd::parse_profile(name).map_err(anyhow::Error::msg)?,
        None => config.display,
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!(
            "invalid --timeout {}: use a number of seconds",
            args.timeout
        );
    }
    let opts = args.view.loop_options()?;
    match profile {
        Profile::Mono128x64 => live::<BinaryColor>(profile, args, &config, &opts),
        _ => live::<Rgb565>(profile, args, &config, &opts),
    }
}

/// Persists refreshed tokens at once (atomically: see the token store), and the budget's
/// state to `quota.json`.
struct StoreSink {
    store: TokenStore,
    current: Option<StoredToken>,
    mode: crate::token_store::AuthMode,
    quota: QuotaStore,
    /// The last quota write failed (warned once; the next success says so).
    quota_failing: bool,
}

impl TokenSink for StoreSink {
    fn tokens(&mut self, update: TokenUpdate) -> anyhow::Result<()> {
        let expires_at = now_epoch_s().saturating_add(update.expires_in_ms / 1000);
        let access = crate::config::SecretString::new(update.access_token.expose());
        let token = match (self.current.take(), update.refresh_token) {
            (Some(mut t), new_refresh) => {
                if let Some(r) = new_refresh {
                    t.refresh_token = crate::config::SecretString::new(r.expose());
                }
                t.access_token = Some(access);
                t.access_expires_at = Some(expires_at);
                t
            }
            (None, Some(r)) => StoredToken {
                refresh_token: crate::config::SecretString::new(r.expose()),
                access_token: Some(access),
                access_expires_at: Some(expires_at),
                auth_mode: self.mode,
                authorized_at: None,
            },
            (None, None) => return Ok(()),
        };
        self.store.save(&token).with_context(|| {
            format!(
                "cannot save the new token to {}",
                self.store.path().display()
            )
        })?;
        log::info!(
            "token saved{}",
            if token.access_token.is_some() {
                ""
            } else {
                " (no access token)"
            }
        );
        self.current = Some(token);
        Ok(())
    }

    /// A failed write is a warning, not the end: the display goes on, and the next change
    /// of the state tries again.
    fn quota(&mut self, state: QuotaState) -> anyhow::Result<()> {
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

fn live<C>(
    profile: Profile,
    args: &RunArgs,
    config: &Config,
    opts: &LoopOptions,
) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888> + From<Rgb888>,
{
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
        creds.client_secret = Some(
            Secret::new(secret.expose())
                .context("client_secret is longer than 64 bytes: check the config")?,
        );
    }
    if let Some(s) = &start {
        creds.refresh_token = Some(
            Secret::new(s.token.refresh_token.expose())
                .context("the stored refresh token is too long: run tonearm login again")?,
        );
    } else {
        eprintln!("tonearm: not logged in: run tonearm login");
    }
    let mode = if creds.client_secret.is_some() {
        crate::token_store::AuthMode::Secret
    } else {
        crate::token_store::AuthMode::Pkce
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
    let timeout = Duration::from_secs_f64(args.timeout);
    let transport = UreqTransport::new(
        TransportConfig::default()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .request_timeout(timeout)
            // Bodies stream into the parser; nothing Spotify sends comes near this.
            .max_body(crate::transport::DEFAULT_MAX_BODY),
    );
    let mut net = ThreadNetwork::spawn(
        transport,
        Bases {
            api: config.api_base.clone(),
            accounts: config.accounts_base.clone(),
        },
    );
    let mut tokens = StoreSink {
        store,
        current: start.map(|s| s.token),
        mode,
        quota,
        quota_failing: false,
    };
    let mut app: App<C> = App::new(profile, session);
    let clock = Clock::new(1).with_time_of_day();
    if args.view.headless {
        return run_loop(&mut app, &mut net, &mut Headless, &mut tokens, clock, opts);
    }
    #[cfg(feature = "window")]
    {
        let scale = args.view.window_scale(profile)?;
        let mut window = crate::window::WindowOutput::new(profile, scale, "Tonearm")?;
        run_loop(&mut app, &mut net, &mut window, &mut tokens, clock, opts)
    }
    #[cfg(not(feature = "window"))]
    anyhow::bail!("this build has no window (the `window` feature is off): use --headless")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
