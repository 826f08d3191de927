//! `tonearm provision` end to end: the binary against the fake accounts server, with real
//! headless Chromium approving the board's own login; the image it writes is read back
//! with the boards' own record code (`tonearm-settings`): the Wi-Fi, the login and its
//! time (`authorized_at`), the time zone (`--tz`, or the computer's from `TZ` or
//! `/etc/localtime`, or none), the budget and night hours, the extra trust roots
//! (`--trust-root`, PEM or DER). Images of the first record version still read. And the refusals that happen before any browser step (bad Wi-Fi
//! settings, bad board options, an existing output).

use std::path::{Path, PathBuf};

use tonearm_settings::record::{self, Settings};
use tonearm_settings::store::{self, Store};
use tonearm_tests::fake_spotify::Route;

use super::login::{
    CLIENT_ID, Login, Setup, assert_no_secrets, check_authorize_url, chromedriver,
    consent_without_browser, open_authorize_page, wait_for_tonearm_page,
};

const SECRET: &str = "desktop-client-secret";

impl Setup {
    fn out(&self) -> PathBuf {
        self.dir.path().join("board.bin")
    }

    /// `tonearm provision --no-browser --port P --config C --out O` plus `args`.
    fn provision(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Login {
        let port = self.port.to_string();
        let config = self.config();
        let out = self.out();
        let mut all = vec![
            "provision",
            "--no-browser",
            "--port",
            &port,
            "--config",
            config.to_str().expect("utf-8 path"),
            "--out",
            out.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        Login::start_with(&all, env, stdin)
    }
}

const CET: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Unix seconds now.
fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The record in the image's first slot (format version 2), the second erased; the file
/// private.
fn read_image(path: &Path) -> (Vec<u8>, u32) {
    let image = std::fs::read(path).expect("the image");
    assert_eq!(image.len(), store::PARTITION_SIZE as usize);
    let slot = store::SLOT_SIZE as usize;
    assert!(image[slot..].iter().all(|&b| b == 0xFF), "slot 1 is erased");
    assert_eq!(image[4], record::VERSION, "a version-2 record");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the image holds secrets");
    }
    let seq = record::decode(&image[..slot]).expect("a record").0;
    (image, seq)
}

#[test]
fn provision_in_chromium_writes_the_boards_own_login_and_wifi() {
    let setup = Setup::new();
    // The desktop has a client secret configured: the board's login must not use it.
    setup.fake.set_client(CLIENT_ID, Some(SECRET));
    setup.write_config(&format!(
        "client_id = \"{CLIENT_ID}\"\nclient_secret = \"{SECRET}\"\n"
    ));
    let config_before = std::fs::read(setup.config()).expect("config");
    let env = [
        ("TONEARM_WIFI_SSID", "Café wifi 5G"),
        ("TONEARM_WIFI_PASSWORD", "correct horse battery"),
    ];
    let before = now_s();
    let run = setup.provision(
        &[
            "--tz",
            CET,
            "--daily-requests",
            "2500",
            "--night",
            "23:00-07:00",
        ],
        &env,
        None,
    );
    let url = run.authorize_url();
    check_authorize_url(&setup, &url);

    let driver = chromedriver();
    let browser = open_authorize_page(&driver, &url);
    browser.click("#agree").expect("click Agree");
    let message = wait_for_tonearm_page(&browser, "Tonearm: logged in");
    assert!(message.contains("logged in"), "{message}");

    let (code, stdout, stderr) = run.finish();
    assert_eq!(code, 0, "stderr: {stderr}");
    let out = setup.out();
    assert_eq!(
        stdout,
        format!("{url}\nespflash write-bin 0x3f0000 {}\n", out.display()),
        "stdout holds the URL and the flash command"
    );
    assert!(stderr.contains("wrote"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "time zone {CET}, 2500 requests a day, night 23:00-07:00)"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("this computer's"),
        "--tz: no note: {stderr}"
    );
    assert!(stderr.contains("delete it once flashed"), "{stderr}");

    // The exchange: PKCE only, no Basic auth even with a configured secret.
    let exchanges = setup.fake.requests_to(Route::Token);
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    assert_eq!(exchanges[0].header("authorization"), None);
    assert_eq!(
        exchanges[0].form_field("client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert!(exchanges[0].form_field("code_verifier").is_some());

    // The image, read with the board's code: the Wi-Fi, the client id, the token issued
    // and when, the time zone, the budget and the night.
    let (image, seq) = read_image(&out);
    assert_eq!(seq, 1);
    let issued = setup.fake.refresh_tokens();
    assert_eq!(issued.len(), 1);
    let slot = store::SLOT_SIZE as usize;
    let settings = record::decode(&image[..slot]).expect("record").1;
    let authorized_at = settings.authorized_at.expect("authorized_at");
    assert!(
        (before..=now_s()).contains(&authorized_at),
        "{authorized_at} is the login's time"
    );
    assert_eq!(
        settings,
        Settings {
            ssid: "Café wifi 5G",
            password: "correct horse battery",
            client_id: CLIENT_ID,
            refresh_token: &issued[0],
            authorized_at: Some(authorized_at),
            tz: Some(CET),
            night: Some("23:00-07:00"),
            daily_requests: Some(2500),
            ..Settings::default()
        }
    );

    // The desktop's own login and config are untouched.
    assert!(!setup.token().exists(), "no desktop token written");
    assert_eq!(
        std::fs::read(setup.config()).expect("config"),
        config_before
    );
    // No temporary file left beside the image.
    let names: Vec<String> = std::fs::read_dir(setup.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    assert_no_secrets(
        &setup.fake,
        &["correct horse battery", SECRET],
        &stdout,
        &stderr,
    );
}

/// A TZif file: version `version` (0 for the first, which has no footer), an empty
/// table, then `footer` on a line of its own (version 2 and later).
fn tzif(version: u8, footer: &str) -> Vec<u8> {
    let mut block = b"TZif".to_vec();
    block.push(version);
    block.extend_from_slice(&[0; 15]);
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt; one type, "UTC".
    for n in [0u32, 0, 0, 0, 1, 4] {
        block.extend_from_slice(&n.to_be_bytes());
    }
    block.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    block.extend_from_slice(b"UTC\0");
    let mut file = block.clone();
    if version != 0 {
        file.extend_from_slice(&block);
        file.extend_from_slice(format!("\n{footer}\n").as_bytes());
    }
    file
}

/// Provisions with the Wi-Fi from standard input, `args` and `env`, consenting without a
/// browser; the settings read back and standard error.
fn provision_quietly(
    setup: &Setup,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Settings<'static>, String) {
    let run = setup.provision(args, env, Some(" home net \nhunter2hunter2\r\n"));
    let url = run.authorize_url();
    let (status, page) = consent_without_browser(&setup.fake, &url, "agree");
    assert_eq!(status, 200, "{page}");
    let (code, _stdout, stderr) = run.finish();
    assert_eq!(code, 0, "stderr: {stderr}");
    let (image, _) = read_image(&setup.out());
    let image: &'static [u8] = Vec::leak(image);
    let settings = record::decode(&image[..store::SLOT_SIZE as usize])
        .expect("record")
        .1;
    (settings, stderr)
}

#[test]
fn wifi_from_standard_input_and_force_replaces_an_old_image() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    std::fs::write(setup.out(), b"an older image").expect("write");
    // The SSID has spaces at its ends: kept, as a network name can have them.
    let before = now_s();
    let (settings, _) = provision_quietly(&setup, &["--force", "--tz", "UTC0"], &[]);
    assert_eq!(settings.ssid, " home net ");
    assert_eq!(settings.password, "hunter2hunter2");
    assert_eq!(settings.refresh_token, setup.fake.refresh_tokens()[0]);
    assert!((before..=now_s()).contains(&settings.authorized_at.expect("authorized_at")));
    assert_eq!(settings.tz, Some("UTC0"));
    // Without --daily-requests and --night: the firmware's default budget, no night.
    assert_eq!((settings.daily_requests, settings.night), (None, None));
}

/// Without `--tz` the board gets this computer's zone: the rule at the end of the zone
/// file `TZ` names (or `/etc/localtime`), or, when there is none, no rule (UTC), said in
/// one line.
#[test]
fn the_time_zone_defaults_to_the_computers() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    let zone = setup.dir.path().join("Paris");
    std::fs::write(&zone, tzif(b'2', CET)).expect("write");
    let tz = format!(":{}", zone.display());
    let (settings, stderr) = provision_quietly(&setup, &["--force"], &[("TZ", &tz)]);
    assert_eq!(settings.tz, Some(CET));
    assert!(
        stderr.contains(&format!(
            "tonearm: the board's time zone is this computer's: {CET} (from TZ={tz}; --tz RULE sets another)\n"
        )),
        "{stderr}"
    );

    // TZ as a POSIX rule itself.
    let (settings, _) =
        provision_quietly(&setup, &["--force"], &[("TZ", "EST5EDT,M3.2.0,M11.1.0")]);
    assert_eq!(settings.tz, Some("EST5EDT,M3.2.0,M11.1.0"));

    // A first-version zone file has no rule: UTC, and the line says so.
    std::fs::write(&zone, tzif(0, "")).expect("write");
    let (settings, stderr) = provision_quietly(&setup, &["--force"], &[("TZ", &tz)]);
    assert_eq!(settings.tz, None);
    let note: Vec<&str> = stderr.lines().filter(|l| l.contains("UTC")).collect();
    assert_eq!(
        note,
        [format!(
            "tonearm: no time zone rule found in TZ={tz}: the board will show UTC (--tz RULE sets one, such as --tz {CET})"
        )],
        "{stderr}"
    );

    // No TZ: /etc/localtime's rule, whatever this machine's zone is (none: UTC).
    let (settings, stderr) = provision_quietly(&setup, &["--force"], &[("TZ", "")]);
    let local = std::fs::read("/etc/localtime").ok().and_then(|b| {
        let text = String::from_utf8_lossy(&b).into_owned();
        let body = text.strip_suffix('\n')?;
        let rule = &body[body.rfind('\n')? + 1..];
        (b.get(4).is_some_and(|v| *v >= b'2') && !rule.is_empty()).then(|| rule.to_owned())
    });
    assert_eq!(settings.tz.map(str::to_owned), local, "{stderr}");
    assert!(stderr.contains("/etc/localtime"), "{stderr}");
}

/// The roots every board builds in (firmware/kit/roots): real certificates to pass as
/// `--trust-root`.
const G2: &[u8] = include_bytes!("../../../firmware/kit/roots/digicert-global-root-g2.der");
const G3: &[u8] = include_bytes!("../../../firmware/kit/roots/digicert-global-root-g3.der");

/// `der` as a PEM file's text.
fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// `--trust-root` twice (a DER file and a PEM one): both certificates in the record, byte
/// for byte, in order, and each named on standard error as the board's boot log names it.
#[test]
fn trust_roots_are_written_and_named() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    let der = setup.dir.path().join("proxy-root.der");
    let pem_path = setup.dir.path().join("second root.pem");
    std::fs::write(&der, G2).expect("write");
    std::fs::write(&pem_path, pem(G3)).expect("write");
    let (settings, stderr) = provision_quietly(
        &setup,
        &[
            "--force",
            "--tz",
            "UTC0",
            "--trust-root",
            der.to_str().expect("utf-8"),
            "--trust-root",
            pem_path.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(settings.roots, [Some(G2), Some(G3)]);
    assert!(
        stderr.contains(&format!(
            "tonearm: the board also trusts \"DigiCert Global Root G2\" (SHA-256 cb:3c:cb:b7:60:31:e5:e0...) (from {})\n",
            der.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "tonearm: the board also trusts \"DigiCert Global Root G3\" (SHA-256 31:ad:66:48:"
        ),
        "{stderr}"
    );
    // The other settings as without roots.
    assert_eq!(settings.tz, Some("UTC0"));
    assert_eq!(settings.refresh_token, setup.fake.refresh_tokens()[0]);
    // Without --trust-root: none.
    let (settings, _) = provision_quietly(&setup, &["--force", "--tz", "UTC0"], &[]);
    assert_eq!(settings.roots, [None, None]);
}

/// An image that the first version of `tonearm provision` wrote (record format 1: the
/// Wi-Fi and the login only) still reads, through the store the board uses: no time zone
/// (UTC), no login time, the default budget.
#[test]
fn version_1_images_still_read() {
    // Slot 0 as the version-1 code wrote it (sequence 7), byte for byte.
    const V1: &[u8] = &[
        0x54, 0x4e, 0x52, 0x4d, 0x01, 0x00, 0x61, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x43,
        0x61, 0x66, 0xc3, 0xa9, 0x20, 0x77, 0x69, 0x66, 0x69, 0x1c, 0x00, 0x63, 0x6f, 0x72, 0x72,
        0x65, 0x63, 0x74, 0x20, 0x68, 0x6f, 0x72, 0x73, 0x65, 0x20, 0x62, 0x61, 0x74, 0x74, 0x65,
        0x72, 0x79, 0x20, 0x73, 0x74, 0x61, 0x70, 0x6c, 0x65, 0x20, 0x00, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x30, 0x31, 0x32,
        0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x13, 0x00,
        0x41, 0x51, 0x42, 0x2d, 0x72, 0x65, 0x66, 0x72, 0x65, 0x73, 0x68, 0x2d, 0x74, 0x6f, 0x6b,
        0x65, 0x6e, 0x2d, 0x31, 0x03, 0x86, 0xad, 0x88, 0xff, 0xff, 0xff,
    ];
    let mut image = vec![0xFF; store::PARTITION_SIZE as usize];
    image[..V1.len()].copy_from_slice(V1);
    let mut store = Store::new(RamFlash(image), 0, store::SLOT_SIZE).expect("layout");
    let mut buf = vec![0u8; record::RECORD_MAX];
    let settings = store.load(&mut buf).expect("flash").expect("a record");
    assert_eq!(
        settings,
        Settings {
            ssid: "Café wifi",
            password: "correct horse battery staple",
            client_id: "0123456789abcdef0123456789abcdef",
            refresh_token: "AQB-refresh-token-1",
            ..Settings::default()
        }
    );
    assert_eq!(store.sequence(), Some(7));
}

/// An image file as NOR flash (erase sets 0xFF, writes clear bits).
struct RamFlash(Vec<u8>);

impl tonearm_settings::embedded_storage::nor_flash::ErrorType for RamFlash {
    type Error = core::convert::Infallible;
}

impl tonearm_settings::embedded_storage::nor_flash::ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        bytes.copy_from_slice(&self.0[at..at + bytes.len()]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl tonearm_settings::embedded_storage::nor_flash::NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0[from as usize..to as usize].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        for (i, b) in bytes.iter().enumerate() {
            self.0[offset as usize + i] &= b;
        }
        Ok(())
    }
}

/// A provision that must fail before the browser step: exit 1, one line naming the
/// problem, no URL, nothing exchanged, the output as it was.
fn refused(setup: &Setup, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>, want: &str) {
    let before = std::fs::read(setup.out()).ok();
    let (code, stdout, stderr) = setup.provision(args, env, stdin).finish();
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "", "no URL");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("tonearm: "), "{stderr}");
    assert!(stderr.contains(want), "want {want:?} in {stderr}");
    assert!(setup.fake.requests().is_empty(), "nothing sent");
    assert_eq!(
        std::fs::read(setup.out()).ok(),
        before,
        "the output as it was"
    );
}

#[test]
fn bad_wifi_settings_and_an_existing_image_are_refused_before_the_browser() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    let ssid = ("TONEARM_WIFI_SSID", "home");
    refused(
        &setup,
        &[],
        &[],
        None,
        "no Wi-Fi network given: set TONEARM_WIFI_SSID",
    );
    refused(
        &setup,
        &[],
        &[ssid],
        None,
        "no Wi-Fi password given: set TONEARM_WIFI_PASSWORD",
    );
    refused(
        &setup,
        &[],
        &[ssid, ("TONEARM_WIFI_PASSWORD", "short")],
        None,
        "shorter than 8 characters",
    );
    refused(
        &setup,
        &[],
        &[
            ("TONEARM_WIFI_SSID", &"s".repeat(33)),
            ("TONEARM_WIFI_PASSWORD", ""),
        ],
        None,
        "33 bytes long",
    );
    refused(
        &setup,
        &[],
        &[],
        Some("home\nmot de passe é\n"),
        "printable ASCII",
    );
    std::fs::write(setup.out(), b"another board's image").expect("write");
    refused(
        &setup,
        &[],
        &[ssid, ("TONEARM_WIFI_PASSWORD", "")],
        None,
        "exists: pass --force",
    );
    // Without a client id: how to give one (provision does not save it anywhere).
    let bare = Setup::new();
    refused(
        &bare,
        &[],
        &[ssid, ("TONEARM_WIFI_PASSWORD", "")],
        None,
        "no client id: pass --client-id YOUR_APP_ID (from your app in the Spotify developer dashboard), set SPOTIFY_CLIENT_ID, or put client_id in",
    );
    // The board's options are checked before the Wi-Fi is asked for, each in one line.
    let wifi = [ssid, ("TONEARM_WIFI_PASSWORD", "")];
    std::fs::remove_file(setup.out()).expect("remove");
    refused(
        &setup,
        &["--tz", "Europe/Paris"],
        &wifi,
        None,
        "--tz \"Europe/Paris\": not a POSIX TZ rule: give one such as CET-1CEST,M3.5.0,M10.5.0/3",
    );
    refused(
        &setup,
        &["--daily-requests", "50"],
        &wifi,
        None,
        "--daily-requests \"50\": must be 0 (no budget) or a whole number of requests from 100 to 100000",
    );
    refused(
        &setup,
        &["--daily-requests", "-1"],
        &wifi,
        None,
        "must be 0 (no budget)",
    );
    refused(
        &setup,
        &["--night", "23-7"],
        &wifi,
        None,
        "--night \"23-7\": expected HH:MM-HH:MM",
    );
    // Trust roots are checked before the Wi-Fi too: at most two, each one certificate.
    let root = setup.dir.path().join("root.der");
    std::fs::write(&root, G2).expect("write");
    let root = root.to_str().expect("utf-8");
    refused(
        &setup,
        &[
            "--trust-root",
            root,
            "--trust-root",
            root,
            "--trust-root",
            root,
        ],
        &wifi,
        None,
        "--trust-root given 3 times: the board keeps at most 2 trust roots of its own",
    );
    refused(
        &setup,
        &["--trust-root", root, "--trust-root", root],
        &wifi,
        None,
        "the same certificate as",
    );
    let key = setup.dir.path().join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    refused(
        &setup,
        &["--trust-root", key.to_str().expect("utf-8")],
        &wifi,
        None,
        "key.pem: not an X.509 certificate (PEM or DER)",
    );
    refused(
        &setup,
        &["--trust-root", "/nonexistent/root.pem"],
        &wifi,
        None,
        "--trust-root /nonexistent/root.pem: cannot read it",
    );
    // The password never goes on the command line: there is no option for it.
    let (code, _, stderr) = setup
        .provision(&["--password", "hunter2hunter2"], &[], None)
        .finish();
    assert_eq!(code, 2, "{stderr}");
}

// ---------------------------------------------------------------------------------------
// `tonearm provision --hub URL`: a board fed by a hub, with no Spotify login at all.

/// Runs `tonearm provision --config DIR/config.toml --out DIR/board.bin` plus `args` in a
/// folder of its own (`config`: the config's text; none: an empty one), with the Wi-Fi from `env`
/// and no Spotify variables; no server exists (nothing could be asked). Returns the
/// exit code, standard output and error, and the folder.
fn provision_hub(
    config: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config.unwrap_or_default()).expect("config");
    let out = std::process::Command::new(tonearm_tests::tonearm_bin())
        .arg("provision")
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(dir.path().join("board.bin"))
        .args(args)
        .env_remove("SPOTIFY_CLIENT_ID")
        .env_remove("SPOTIFY_CLIENT_SECRET")
        .env_remove("SPOTIFY_REFRESH_TOKEN")
        .env_remove("TONEARM_MQTT_PASSWORD")
        .env("TONEARM_WIFI_SSID", "home net")
        .env("TONEARM_WIFI_PASSWORD", "hunter2hunter2")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("tonearm runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

#[test]
fn provision_hub_writes_the_hub_and_its_login_and_no_spotify_login() {
    // The password from the environment, the user from the config (no client id there).
    let (code, stdout, stderr, dir) = provision_hub(
        Some("mqtt_username = \"board-user\"\n"),
        &[
            "--hub",
            "mqtt://192.0.2.1:1884/desk",
            "--tz",
            CET,
            "--night",
            "23:00-07:00",
        ],
        &[("TONEARM_MQTT_PASSWORD", "broker-pw-from-env-71")],
    );
    assert_eq!(code, 0, "stderr: {stderr}");
    let out = dir.path().join("board.bin");
    assert_eq!(
        stdout,
        format!("espflash write-bin 0x3f0000 {}\n", out.display()),
        "no authorize URL: the flash command only"
    );
    assert!(
        stderr.contains(
            "fed by the hub mqtt://192.0.2.1:1884/desk as user \"board-user\"; no Spotify login"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("broker-pw-from-env-71"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(
        stderr.contains("the broker's password: delete it"),
        "{stderr}"
    );
    let (image, seq) = read_image(&out);
    assert_eq!(seq, 1);
    let (_, settings) = record::decode(&image[..store::SLOT_SIZE as usize]).expect("record");
    assert_eq!(
        settings,
        Settings {
            ssid: "home net",
            password: "hunter2hunter2",
            tz: Some(CET),
            night: Some("23:00-07:00"),
            hub_url: Some("mqtt://192.0.2.1:1884/desk"),
            mqtt_user: Some("board-user"),
            mqtt_password: Some("broker-pw-from-env-71"),
            ..Settings::default()
        },
        "no client id, no refresh token, no login time, no budget"
    );
    // As the board reads it.
    let hub = settings.hub().expect("valid").expect("a hub");
    assert_eq!(
        (hub.host, hub.port, hub.id, hub.tls),
        ("192.0.2.1", 1884, "desk", false)
    );
    assert_eq!(hub.user, Some("board-user"));
    assert_eq!(hub.password, Some("broker-pw-from-env-71"));
    // The board's flash code reads the file as it is.
    let mut store = Store::new(RamFlash(image), 0, store::SLOT_SIZE).expect("layout");
    let mut buf = [0u8; record::RECORD_MAX];
    let read = store.load(&mut buf).expect("readable").expect("a record");
    assert_eq!(read.hub_url, Some("mqtt://192.0.2.1:1884/desk"));

    // The password from the config; no path (the id `tonearm`); a config without MQTT
    // keys gives a board that connects without a user.
    let (code, _, stderr, dir) = provision_hub(
        Some("mqtt_username = \"u\"\nmqtt_password = \"pw-in-config-55\"\n"),
        &["--hub", "mqtt://broker.lan", "--tz", "UTC0"],
        &[],
    );
    assert_eq!(code, 0, "stderr: {stderr}");
    let (image, _) = read_image(&dir.path().join("board.bin"));
    let (_, settings) = record::decode(&image[..store::SLOT_SIZE as usize]).expect("record");
    let hub = settings.hub().expect("valid").expect("a hub");
    assert_eq!(
        (hub.host, hub.port, hub.id),
        ("broker.lan", 1883, "tonearm")
    );
    assert_eq!(settings.mqtt_password, Some("pw-in-config-55"));
    assert!(!stderr.contains("pw-in-config-55"), "{stderr}");
    let (code, _, stderr, dir) = provision_hub(None, &["--hub", "mqtt://broker.lan/x"], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stderr.contains("without a user name"), "{stderr}");
    assert!(
        stderr.contains("holds your Wi-Fi password: delete it"),
        "{stderr}"
    );
    let (image, _) = read_image(&dir.path().join("board.bin"));
    let (_, settings) = record::decode(&image[..store::SLOT_SIZE as usize]).expect("record");
    assert_eq!((settings.mqtt_user, settings.mqtt_password), (None, None));
}

#[test]
fn provision_hub_refuses_what_a_board_fed_by_a_hub_cannot_use() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--hub", "mqtt://user:pw-in-url-93@broker/desk"],
            "must not carry a user or password",
        ),
        (&["--hub", "mqtts://broker/desk"], "no TLS to a broker yet"),
        (&["--hub", "http://broker/desk"], "mqtt://HOST"),
        (&["--hub", "mqtt://broker/Desk"], "id"),
        (
            &["--hub", "mqtt://broker/desk", "--client-id", "abc"],
            "--client-id with --hub",
        ),
        (
            &["--hub", "mqtt://broker/desk", "--daily-requests", "700"],
            "--daily-requests with --hub",
        ),
        (
            &["--hub", "mqtt://broker/desk", "--no-browser"],
            "--no-browser with --hub",
        ),
    ];
    for (args, want) in cases {
        let (code, stdout, stderr, dir) = provision_hub(None, args, &[]);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: want {want:?} in {stderr}");
        assert!(!stderr.contains("pw-in-url-93"), "{stderr}");
        assert!(
            !dir.path().join("board.bin").exists(),
            "{args:?}: nothing written"
        );
    }
    // A login the record cannot keep.
    let long = format!("mqtt_username = \"{}\"\n", "u".repeat(65));
    let (code, _, stderr, _) = provision_hub(Some(&long), &["--hub", "mqtt://broker/desk"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("mqtt_username is 65 bytes"), "{stderr}");
}
