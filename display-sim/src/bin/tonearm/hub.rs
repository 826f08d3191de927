//! `tonearm hub` (one poller that publishes over MQTT) and `tonearm run --hub` (a display
//! fed by one).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use anyhow::Context as _;
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use tonearm_firmware::{App, Palette, Profile};
use tonearm_sim::config::{Config, MqttConfig};
use tonearm_sim::hub::{CoverTap, Publisher, TeeNetwork};
use tonearm_sim::lock::PollLock;
use tonearm_sim::mqtt::{Broker, BrokerUrl, DEFAULT_ID, check_id};
use tonearm_sim::shell::{Clock, Discard, LoopOptions, run_loop};

use crate::common::{ViewArgs, timeout_of};

/// Arguments of `tonearm hub`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct HubArgs {
    /// The MQTT broker: mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (8883, verified
    /// TLS; config mqtt_ca for a private CA). Default: the config's mqtt_url. The user and
    /// password come from the config (mqtt_username, mqtt_password) or
    /// TONEARM_MQTT_PASSWORD, never from here.
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// This hub's id: its topics are tonearm/ID/... (1 to 32 of a-z, 0-9, _ and -).
    #[arg(long, value_name = "ID", default_value = DEFAULT_ID)]
    pub id: String,
    /// Print the event lines its displays print (docs/events.md).
    #[arg(long)]
    pub events: bool,
    /// Exit 0 after this many seconds (real time).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Give up on a Spotify request after this many seconds (connecting: at most 10).
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub timeout: f64,
}

/// The broker at `url` with the config's credentials and CA.
fn broker(url: BrokerUrl, mqtt: &MqttConfig) -> Broker {
    Broker {
        url,
        username: mqtt.username.clone(),
        password: mqtt.password.clone(),
        ca: mqtt.ca.clone(),
    }
}

/// Runs `tonearm hub`.
pub fn run(args: &HubArgs, config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let url = match (&args.mqtt, &config.mqtt.url) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => anyhow::bail!(
            "no MQTT broker: pass --mqtt mqtt://HOST[:PORT] or set mqtt_url in {}",
            config.path.display()
        ),
    };
    let url = BrokerUrl::parse(&url).map_err(anyhow::Error::msg)?;
    if url.id.is_some() {
        anyhow::bail!("--mqtt takes no path: the hub's id is --id");
    }
    check_id(&args.id).map_err(anyhow::Error::msg)?;
    let timeout = timeout_of(args.timeout)?;
    let opts = ViewArgs {
        headless: true,
        events: args.events,
        duration: args.duration,
        ..ViewArgs::default()
    }
    .loop_options()?;
    let dir = config.token_path();
    let _lock = PollLock::acquire(dir.parent().unwrap_or(Path::new(".")))?;
    let live = tonearm_sim::live::start(&config, timeout)?;
    let tap = Rc::new(RefCell::new(CoverTap::default()));
    let mut publisher = Publisher::start(broker(url, &config.mqtt), &args.id, Rc::clone(&tap))?;
    // The largest layout: its app fetches Spotify's 300 px cover, which the hub scales for
    // its displays. Nothing is shown.
    let mut app: App<Rgb565, _> = App::new(Profile::Wide800x480, live.session);
    let mut net = TeeNetwork::new(live.net, tap);
    let mut sink = live.sink;
    let clock = Clock::new(1).with_time_of_day();
    let result = run_loop(&mut app, &mut net, &mut publisher, &mut sink, clock, &opts);
    publisher.finish();
    if let Some(e) = publisher.take_fatal() {
        return Err(e.into());
    }
    Ok(result?)
}

/// Runs `tonearm run --hub URL` (or with the config's `hub`): a display fed by a hub.
pub fn display(
    view: &ViewArgs,
    hub_url: Option<&str>,
    config_path: Option<&Path>,
) -> anyhow::Result<()> {
    let config = Config::load_for_hub_display(config_path)?;
    let Some(url) = hub_url.map(str::to_owned).or_else(|| config.hub.clone()) else {
        anyhow::bail!("no hub: pass --hub mqtt://HOST[:PORT]/ID or set hub in the config");
    };
    let url = BrokerUrl::parse(&url)
        .map_err(anyhow::Error::msg)
        .context("--hub")?;
    let id = url.id.clone().unwrap_or_else(|| DEFAULT_ID.to_owned());
    let mut view = view.clone();
    view.fullscreen |= config.fullscreen && !view.headless;
    let profile = view.profile(config.display_setting)?;
    let opts = view.loop_options()?;
    let broker = broker(url, &config.mqtt);
    match profile {
        Profile::Mono128x64 => fed::<BinaryColor>(profile, &view, broker, &id, &opts),
        _ => fed::<Rgb565>(profile, &view, broker, &id, &opts),
    }
}

fn fed<C>(
    profile: Profile,
    view: &ViewArgs,
    broker: Broker,
    id: &str,
    opts: &LoopOptions,
) -> anyhow::Result<()>
where
    C: Palette + Into<Rgb888> + From<Rgb888>,
{
    let clock = Clock::new(1).with_time_of_day();
    let (source, mut net) = tonearm_sim::hub_display::start(broker, id, move || clock.now_ms())?;
    let mut app: App<C, _> = App::new(profile, source);
    let result = view.show(&mut app, (&mut net, &mut Discard), clock, opts, "Tonearm");
    if let Some(e) = app.source().take_refused() {
        return Err(e.into());
    }
    result
}
