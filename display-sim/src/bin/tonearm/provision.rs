//! `tonearm provision`: the settings partition image for the ESP32-C3 board (what goes
//! in and how it is checked: [`tonearm_sim::provision`]).

use std::path::{Path, PathBuf};

use tonearm_settings::record::{self, Settings};
use tonearm_settings::store;
use tonearm_sim::config::Config;
use tonearm_sim::oauth::{self, Flow, Tokens};
use tonearm_sim::provision::{
    ProvisionError, board_options, check_out, check_wifi, hub_login, image, read_trust_roots,
    read_wifi, write_image,
};
use tonearm_sim::token_store::now_epoch_s;

use crate::common::{LoginArgs, timeout_of};

/// Arguments of `tonearm provision`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProvisionArgs {
    /// Where to write the 8 KiB partition image (it holds the Wi-Fi password and a
    /// Spotify login: delete it once flashed).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// The board's time zone as a POSIX TZ rule (such as CET-1CEST,M3.5.0,M10.5.0/3 or
    /// UTC0) [default: the computer's, from TZ or /etc/localtime; UTC if it has none]
    #[arg(long, value_name = "RULE")]
    pub tz: Option<String>,
    /// The board's daily request budget: 0 (none) or 100 to 100000 [default: the
    /// firmware's, 700]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub daily_requests: Option<String>,
    /// The board's night hours, local time (dark screen, rare polls), such as 23:00-07:00
    #[arg(long, value_name = "HH:MM-HH:MM")]
    pub night: Option<String>,
    /// A trust anchor of the board's own, beside the roots built into the firmware: an
    /// X.509 certificate (PEM or DER, at most 2 KiB), such as a home TLS proxy's root.
    /// Up to twice. The board still verifies every connection.
    #[arg(long = "trust-root", value_name = "FILE")]
    pub trust_root: Vec<PathBuf>,
    /// A board fed by this hub (tonearm hub) instead of a Spotify login of its own:
    /// mqtt://HOST[:PORT]/ID (an empty path means tonearm). No browser, no client id; the
    /// broker's user and password come from the config (mqtt_username, mqtt_password) or
    /// TONEARM_MQTT_PASSWORD, never from here.
    #[arg(long, value_name = "URL")]
    pub hub: Option<String>,
    /// The browser login, as for `tonearm login`.
    #[command(flatten)]
    pub login: LoginArgs,
}

/// Runs `tonearm provision`.
pub fn run(args: &ProvisionArgs, config_path: Option<&Path>) -> anyhow::Result<()> {
    if let Some(url) = &args.hub {
        return run_hub(args, url, config_path);
    }
    let timeout = timeout_of(args.login.timeout)?;
    if args.login.port == 0 {
        anyhow::bail!(
            "--port 0: give the port of the redirect URI registered in your Spotify app (default 8888)"
        );
    }
    check_out(&args.out, args.force)?;
    let board = board_options(
        args.tz.as_deref(),
        args.daily_requests.as_deref(),
        args.night.as_deref(),
    )?;
    let trust_roots = read_trust_roots(&args.trust_root)?;
    let config = oauth::login_config(args.login.client_id.as_deref(), config_path, false)?;
    if config.client_id.len() > record::CLIENT_ID_MAX {
        return Err(ProvisionError::ClientIdLength(config.client_id.len()).into());
    }
    let wifi = read_wifi()?;
    check_wifi(&wifi)?;
    if tonearm_sim::interrupted() {
        return Err(ProvisionError::Interrupted.into());
    }

    eprintln!(
        "tonearm: the board gets a Spotify login of its own (sharing the desktop's would make the two revoke each other's)"
    );
    let flow = Flow {
        config: &config,
        port: args.login.port,
        no_browser: args.login.no_browser,
        timeout,
        use_secret: false,
        command: "tonearm provision",
    };
    let client_id = config.client_id.clone();
    let night = board.night.map(|n| n.to_string());
    let missing = oauth::browser_login(&flow, |tokens: Tokens| -> anyhow::Result<_> {
        let missing = tokens.missing_scopes();
        let settings = Settings {
            ssid: &wifi.ssid,
            password: wifi.password.expose(),
            client_id: &client_id,
            refresh_token: tokens.refresh_token.expose(),
            authorized_at: Some(now_epoch_s()),
            tz: board.tz.rule.as_deref(),
            night: night.as_deref(),
            daily_requests: board.daily_requests,
            roots: [
                trust_roots.first().map(|r| r.der.as_slice()),
                trust_roots.get(1).map(|r| r.der.as_slice()),
            ],
            ..Settings::default()
        };
        let image = image(&settings)?;
        write_image(&args.out, &image, args.force).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::Error::from(ProvisionError::Exists(args.out.clone()))
                    .context("nothing was written (it appeared during the login)")
            } else {
                anyhow::Error::from(e.source)
                    .context(format!("cannot write {}", args.out.display()))
            }
        })?;
        Ok(missing)
    })?;

    let out = args.out.display();
    eprintln!(
        "tonearm: wrote {out}: the ESP32-C3 board's settings ({} bytes: Wi-Fi \"{}\", client id {}, the board's own refresh token{})",
        store::PARTITION_SIZE,
        wifi.ssid.escape_debug(),
        client_id,
        board.summary()
    );
    for root in &trust_roots {
        eprintln!(
            "tonearm: the board also trusts {} (from {})",
            root.name,
            root.path.display()
        );
    }
    if let Some(line) = board.tz.note() {
        eprintln!("tonearm: {line}");
    }
    if let Some(missing) = missing {
        eprintln!(
            "tonearm: warning: Spotify did not grant {missing}: the board may miss what needs it; run tonearm provision again to grant it"
        );
    }
    eprintln!("tonearm: flash it into the board's settings partition with:");
    println!(
        "espflash write-bin {:#x} {}",
        store::PARTITION_OFFSET,
        shell_quote(&args.out)
    );
    eprintln!(
        "tonearm: {out} holds your Wi-Fi password and a Spotify login: delete it once flashed"
    );
    Ok(())
}

/// `tonearm provision --hub URL`: a board fed by a hub, with no Spotify login at all.
fn run_hub(args: &ProvisionArgs, url: &str, config_path: Option<&Path>) -> anyhow::Result<()> {
    if args.login.client_id.is_some() {
        return Err(ProvisionError::NotWithHub("--client-id").into());
    }
    if args.login.no_browser {
        return Err(ProvisionError::NotWithHub("--no-browser").into());
    }
    if args.daily_requests.is_some() {
        return Err(ProvisionError::NotWithHub("--daily-requests").into());
    }
    check_out(&args.out, args.force)?;
    let board = board_options(args.tz.as_deref(), None, args.night.as_deref())?;
    let trust_roots = read_trust_roots(&args.trust_root)?;
    // The broker's login, as `tonearm run --hub` reads it (no client id needed).
    let config = Config::load_for_hub_display(config_path)?;
    let hub = hub_login(url, &config.mqtt)?;
    let wifi = read_wifi()?;
    check_wifi(&wifi)?;
    if tonearm_sim::interrupted() {
        return Err(ProvisionError::Interrupted.into());
    }
    let night = board.night.map(|n| n.to_string());
    let settings = Settings {
        ssid: &wifi.ssid,
        password: wifi.password.expose(),
        tz: board.tz.rule.as_deref(),
        night: night.as_deref(),
        roots: [
            trust_roots.first().map(|r| r.der.as_slice()),
            trust_roots.get(1).map(|r| r.der.as_slice()),
        ],
        hub_url: Some(&hub.url),
        mqtt_user: hub.user.as_deref(),
        mqtt_password: hub.password.as_ref().map(|p| p.expose()),
        ..Settings::default()
    };
    let image = image(&settings)?;
    write_image(&args.out, &image, args.force).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::Error::from(ProvisionError::Exists(args.out.clone()))
        } else {
            anyhow::Error::from(e.source).context(format!("cannot write {}", args.out.display()))
        }
    })?;
    let out = args.out.display();
    let who = match &hub.user {
        Some(u) => format!("as user \"{}\"", u.escape_debug()),
        None => "without a user name".to_owned(),
    };
    eprintln!(
        "tonearm: wrote {out}: the board's settings ({} bytes: Wi-Fi \"{}\", fed by the hub {} {who}; no Spotify login{})",
        store::PARTITION_SIZE,
        wifi.ssid.escape_debug(),
        hub.shown,
        board.summary()
    );
    for root in &trust_roots {
        eprintln!(
            "tonearm: the board also trusts {} (from {})",
            root.name,
            root.path.display()
        );
    }
    if let Some(line) = board.tz.note() {
        eprintln!("tonearm: {line}");
    }
    eprintln!("tonearm: flash it into the board's settings partition with:");
    println!(
        "espflash write-bin {:#x} {}",
        store::PARTITION_OFFSET,
        shell_quote(&args.out)
    );
    let secrets = if hub.password.is_some() {
        "your Wi-Fi password and the broker's password"
    } else {
        "your Wi-Fi password"
    };
    eprintln!("tonearm: {out} holds {secrets}: delete it once flashed");
    Ok(())
}

/// `path` as a shell word (quoted when it holds anything but safe characters).
fn shell_quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@".contains(&b))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote(Path::new("out/board.bin")), "out/board.bin");
        assert_eq!(
            shell_quote(Path::new("my board's.bin")),
            r"'my board'\''s.bin'"
        );
        assert_eq!(shell_quote(Path::new("")), "''");
    }
}
