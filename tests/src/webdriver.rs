//! A small WebDriver client for headless Chromium: `chromedriver` on a loopback port,
//! driven with plain HTTP and JSON (W3C WebDriver) through `ureq`. No async runtime.
//!
//! ```no_run
//! use tonearm_tests::webdriver::{Browser, ChromeDriver};
//!
//! let driver = ChromeDriver::start().expect("chromedriver runs");
//! let browser = Browser::start(&driver).expect("a session");
//! browser.goto("http://127.0.0.1:1234/").expect("navigates");
//! browser.click("#agree").expect("clicks");
//! ```
//!
//! The browser runs headless, with background networking, sync, component updates and
//! QUIC off (the test machines have no network) and a fresh profile directory that is
//! removed afterwards. `TONEARM_CHROMEDRIVER` and `TONEARM_CHROMIUM` override the paths
//! (default `/usr/bin/chromedriver`, `/usr/bin/chromium`: Debian's `chromium-driver` and
//! `chromium`).

use std::fmt;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What went wrong talking to the driver or the browser.
#[derive(Debug)]
pub struct WebDriverError(String);

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebDriverError {}

/// The result of a WebDriver call.
pub type Result<T> = std::result::Result<T, WebDriverError>;

fn err(message: impl Into<String>) -> WebDriverError {
    WebDriverError(message.into())
}

/// A free loopback port (bound and released at once; good enough for tests).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| err(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("no free port: {e}")))
}

fn path_from_env(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A running `chromedriver`, stopped when dropped.
pub struct ChromeDriver {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl ChromeDriver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub fn start() -> Result<ChromeDriver> {
        let bin = path_from_env("TONEARM_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port()?;
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                err(format!(
                    "cannot start {}: {e} (apt-get install chromium-driver)",
                    bin.display()
                ))
            })?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let mut driver = ChromeDriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = driver.call("GET", "/status", None)
                && status["ready"] == true
            {
                return Ok(driver);
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                return Err(err(format!("chromedriver exited at start: {exit}")));
            }
            if Instant::now() > deadline {
                return Err(err("chromedriver did not become ready within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver call; returns the reply's `value`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(&json!({})).to_string()),
        }
        .map_err(|e| err(format!("{method} {path}: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .read_to_string()
            .map_err(|e| err(format!("{method} {path}: {e}")))?;
        let reply: Value = serde_json::from_str(&text)
            .map_err(|e| err(format!("{method} {path}: not JSON ({e}): {text}")))?;
        let value = reply.get("value").cloned().unwrap_or(Value::Null);
        if status != 200 {
            return Err(err(format!(
                "{method} {path}: {status} {}: {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"].as_str().unwrap_or("")
            )));
        }
        Ok(value)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session, closed (and its profile removed) when dropped.
pub struct Browser<'d> {
    driver: &'d ChromeDriver,
    session: String,
    _profile: tempfile::TempDir,
}

impl<'d> Browser<'d> {
    /// Starts headless Chromium with a fresh profile.
    pub fn start(driver: &'d ChromeDriver) -> Result<Browser<'d>> {
        let profile = tempfile::tempdir().map_err(|e| err(format!("no profile directory: {e}")))?;
        let binary = path_from_env("TONEARM_CHROMIUM", "/usr/bin/chromium");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=800,600",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
                    "goog:chromeOptions": {
                        "binary": binary.to_string_lossy(),
                        "args": args,
                    }
                }
            }
        });
        let value = driver.call("POST", "/session", Some(&caps))?;
        let session = value["sessionId"]
            .as_str()
            .ok_or_else(|| err(format!("no sessionId in {value}")))?
            .to_owned();
        Ok(Browser {
            driver,
            session,
            _profile: profile,
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(&json!({ "url": url })))
            .map(drop)
    }

    /// The current URL.
    pub fn url(&self) -> Result<String> {
        Ok(self
            .call("GET", "/url", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The page's title.
    pub fn title(&self) -> Result<String> {
        Ok(self
            .call("GET", "/title", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The page's HTML as the browser sees it now.
    pub fn source(&self) -> Result<String> {
        Ok(self
            .call("GET", "/source", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The first element matching a CSS selector.
    fn find(&self, css: &str) -> Result<String> {
        let value = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        )?;
        value[ELEMENT_KEY]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| err(format!("no element reference for {css}: {value}")))
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> Result<String> {
        let id = self.find(css)?;
        Ok(self
            .call("GET", &format!("/element/{id}/text"), None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// Clicks the first element matching `css` (a navigation it starts is waited for).
    pub fn click(&self, css: &str) -> Result<()> {
        let id = self.find(css)?;
        self.call("POST", &format!("/element/{id}/click"), Some(&json!({})))
            .map(drop)
    }

    /// Polls `check` until it returns `Some` or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&Browser<'d>) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "timed out waiting for {what} (at {:?}, title {:?})",
                    self.url().unwrap_or_default(),
                    self.title().unwrap_or_default()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.session), None);
    }
}
