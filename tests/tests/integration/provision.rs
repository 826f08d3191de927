//! `tonearm provision` end to end: the binary against the fake accounts server, with real
//! headless Chromium approving the board's own login; the image it writes is read back
//! with the board's own record code (`tonearm-c3-shell`). And the refusals that happen
//! before any browser step (bad Wi-Fi settings, an existing output).

use std::path::{Path, PathBuf};

use tonearm_c3_shell::record::{self, Settings};
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

/// The record in the image's first slot, the second erased; the file private.
fn read_image(path: &Path) -> (Vec<u8>, u32) {
    let image = std::fs::read(path).expect("the image");
    assert_eq!(image.len(), record::PARTITION_SIZE as usize);
    let slot = record::SLOT_SIZE as usize;
    assert!(image[slot..].iter().all(|&b| b == 0xFF), "slot 1 is erased");
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
    let run = setup.provision(&[], &env, None);
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

    // The image, read with the board's code: the Wi-Fi, the client id, the token issued.
    let (image, seq) = read_image(&out);
    assert_eq!(seq, 1);
    let issued = setup.fake.refresh_tokens();
    assert_eq!(issued.len(), 1);
    let slot = record::SLOT_SIZE as usize;
    assert_eq!(
        record::decode(&image[..slot]).expect("record").1,
        Settings {
            ssid: "Café wifi 5G",
            password: "correct horse battery",
            client_id: CLIENT_ID,
            refresh_token: &issued[0],
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

#[test]
fn wifi_from_standard_input_and_force_replaces_an_old_image() {
    let setup = Setup::new();
    setup.write_config(&format!("client_id = \"{CLIENT_ID}\"\n"));
    std::fs::write(setup.out(), b"an older image").expect("write");
    // The SSID has spaces at its ends: kept, as a network name can have them.
    let run = setup.provision(&["--force"], &[], Some(" home net \nhunter2hunter2\r\n"));
    let url = run.authorize_url();
    let (status, page) = consent_without_browser(&setup.fake, &url, "agree");
    assert_eq!(status, 200, "{page}");
    let (code, _stdout, stderr) = run.finish();
    assert_eq!(code, 0, "stderr: {stderr}");
    let (image, _) = read_image(&setup.out());
    let settings = record::decode(&image[..record::SLOT_SIZE as usize])
        .expect("record")
        .1;
    assert_eq!(settings.ssid, " home net ");
    assert_eq!(settings.password, "hunter2hunter2");
    assert_eq!(settings.refresh_token, setup.fake.refresh_tokens()[0]);
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
    // The password never goes on the command line: there is no option for it.
    let (code, _, stderr) = setup
        .provision(&["--password", "hunter2hunter2"], &[], None)
        .finish();
    assert_eq!(code, 2, "{stderr}");
}
