//! A real MQTT broker for tests: Debian's `/usr/sbin/mosquitto` on a free `127.0.0.1`
//! port (never 1883), with authentication on, and a recording MQTT 5 client.
//!
//! [`Mosquitto`] writes its config, password file (made with `mosquitto_passwd`) and log
//! into a temporary folder, starts the broker and waits until it accepts connections. The
//! listener is bound to `127.0.0.1` only; `allow_anonymous false`. Started as root the
//! broker would drop to the `mosquitto` user and could not read the private temporary
//! folder, so the config says `user root` (a broker started by another user ignores it).
//! [`Mosquitto::stop`] (SIGTERM), [`Mosquitto::kill`] (SIGKILL) and [`Mosquitto::restart`]
//! (the same port, the same users) let a test take the broker away and bring it back; the
//! broker is killed when dropped. Retained messages survive a restart only with
//! [`MosquittoBuilder::persistence`] on (the default is off: a restarted broker has lost
//! every retained message, as one that lost its disk would have).
//!
//! [`Recorder`] is an MQTT 5 client (`rumqttc::v5`) that subscribes to a filter (`#` by
//! default) with credentials and records every message the broker delivered: topic,
//! payload, retain flag (subscribed with *retain as published*, so a live message keeps
//! its flag) and user properties. It resubscribes after every reconnect, so it sees what a
//! publisher sends again after a broker restart. It can publish too.
//!
//! ```no_run
//! use std::time::Duration;
//! use tonearm_tests::mosquitto::{Mosquitto, Recorder};
//!
//! let broker = Mosquitto::start();
//! let rec = Recorder::start(&broker, "#");
//! broker.publish("tonearm/desk/command", b"next", false).unwrap();
//! let m = rec.wait_for_topic("tonearm/desk/command", Duration::from_secs(5)).unwrap();
//! assert_eq!(m.payload, b"next");
//! ```

use std::fs::File;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Filter, Packet};
use rumqttc::v5::{Client, ConnectionError, Event, MqttOptions};

/// The broker.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
/// The user every broker of [`Mosquitto::start`] knows.
pub const USER: &str = "tonearm-test";
/// That user's password.
pub const PASSWORD: &str = "broker-secret-8cf2e1";

/// How long a start waits for the broker to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How a broker is set up (see [`Mosquitto::builder`]).
#[derive(Debug, Clone)]
#[must_use]
pub struct MosquittoBuilder {
    users: Vec<(String, String)>,
    persistence: bool,
    extra: String,
}

impl MosquittoBuilder {
    /// Adds a user (the first one is what [`Mosquitto::user`] answers).
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.push((name.to_owned(), password.to_owned()));
        self
    }

    /// Whether retained messages survive [`Mosquitto::restart`] (saved on SIGTERM and
    /// loaded again; a [`Mosquitto::kill`] loses what changed since the start). Default
    /// off.
    pub fn persistence(mut self, on: bool) -> Self {
        self.persistence = on;
        self
    }

    /// Extra lines for `mosquitto.conf` (e.g. `max_keepalive 10`).
    pub fn config_lines(mut self, lines: &str) -> Self {
        self.extra.push_str(lines);
        if !lines.ends_with('\n') {
            self.extra.push('\n');
        }
        self
    }

    /// Starts the broker. Panics if it cannot (the test cannot go on then).
    pub fn start(self) -> Mosquitto {
        self.try_start()
            .unwrap_or_else(|e| panic!("cannot start mosquitto: {e}"))
    }

    /// Starts the broker on a free port.
    pub fn try_start(mut self) -> Result<Mosquitto, String> {
        if self.users.is_empty() {
            self.users.push((USER.to_owned(), PASSWORD.to_owned()));
        }
        let dir = tempfile::Builder::new()
            .prefix("tonearm-mosquitto-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        let mut broker = Mosquitto {
            dir,
            port: 0,
            child: None,
            users: self.users,
            persistence: self.persistence,
            extra: self.extra,
            starts: 0,
        };
        broker.write_passwords()?;
        // A free port may be taken between our probe and the broker's bind: try again.
        let mut last = String::new();
        for _ in 0..5 {
            broker.port = free_port()?;
            match broker.spawn() {
                Ok(()) => return Ok(broker),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// A running (or stopped) mosquitto. Killed when dropped.
pub struct Mosquitto {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    users: Vec<(String, String)>,
    persistence: bool,
    extra: String,
    starts: u32,
}

impl Mosquitto {
    /// A broker with one user ([`USER`] / [`PASSWORD`]), no persistence.
    pub fn start() -> Mosquitto {
        Mosquitto::builder().start()
    }

    /// A broker to set up.
    pub fn builder() -> MosquittoBuilder {
        MosquittoBuilder {
            users: Vec::new(),
            persistence: false,
            extra: String::new(),
        }
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The port (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// The first user's name.
    pub fn user(&self) -> &str {
        &self.users[0].0
    }

    /// The first user's password.
    pub fn password(&self) -> &str {
        &self.users[0].1
    }

    /// The broker's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The folder with the config, the password file and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The broker's log so far (every start appends to it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Whether the broker process is alive.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the broker with SIGTERM (it saves its retained messages when persistence is
    /// on) and waits for it; SIGKILL after 5 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the broker (SIGKILL): clients see their connections drop, nothing is saved.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port (stopping it first if it runs). Panics if
    /// it cannot start (retries for a few seconds while the port is still held).
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("mosquitto did not restart: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// `mosquitto_pub` against this broker as the first user (`-h`, `-p`, `-u`, `-P`
    /// given): add `-t`, `-m` and the rest.
    pub fn pub_command(&self) -> Command {
        self.pub_command_as(&self.users[0].0, &self.users[0].1)
    }

    /// `mosquitto_pub` as `user` with `password`.
    pub fn pub_command_as(&self, user: &str, password: &str) -> Command {
        let mut cmd = Command::new("mosquitto_pub");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-u", user, "-P", password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Publishes `payload` on `topic` with `mosquitto_pub` (QoS 1, MQTT 5), as the first
    /// user: as Home Assistant or a person at a shell would. An empty payload is sent as
    /// such (`-n`). Err with `mosquitto_pub`'s output if it failed.
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) -> Result<(), String> {
        let mut cmd = self.pub_command();
        cmd.args(["-V", "mqttv5", "-q", "1", "-t", topic]);
        if retain {
            cmd.arg("-r");
        }
        let out = if payload.is_empty() {
            cmd.arg("-n").output()
        } else {
            // `-s`: the message is the whole of standard input (any bytes, any size).
            cmd.arg("-s").stdin(Stdio::piped());
            let mut child = cmd.spawn().map_err(|e| format!("mosquitto_pub: {e}"))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(payload)
                    .map_err(|e| format!("mosquitto_pub's input: {e}"))?;
            }
            child.wait_with_output()
        }
        .map_err(|e| format!("mosquitto_pub: {e}"))?;
        check(&out)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    fn write_passwords(&self) -> Result<(), String> {
        let file = self.dir.path().join("passwd");
        for (i, (user, password)) in self.users.iter().enumerate() {
            let mut cmd = Command::new("mosquitto_passwd");
            if i == 0 {
                cmd.arg("-c");
            }
            let out = cmd
                .arg("-b")
                .arg(&file)
                .args([user, password])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("mosquitto_passwd: {e}"))?;
            check(&out)?;
        }
        Ok(())
    }

    fn write_config(&self) -> Result<PathBuf, String> {
        let dir = self.dir.path();
        let mut conf = format!(
            "# Written by tonearm-tests' mosquitto harness.\n\
             user root\n\
             listener {port} 127.0.0.1\n\
             allow_anonymous false\n\
             password_file {passwd}\n\
             log_dest stderr\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n\
             connection_messages true\n\
             log_timestamp_format %H:%M:%S\n",
            port = self.port,
            passwd = dir.join("passwd").display(),
        );
        if self.persistence {
            conf.push_str(&format!(
                "persistence true\npersistence_location {}/\nautosave_interval 1\n",
                dir.display()
            ));
        } else {
            conf.push_str("persistence false\n");
        }
        conf.push_str(&self.extra);
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    /// Starts the process and waits until it accepts connections.
    fn spawn(&mut self) -> Result<(), String> {
        let conf = self.write_config()?;
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log: {e}"))?;
        self.starts += 1;
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("{MOSQUITTO}: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!(
                    "mosquitto exited ({status}) on port {}:\n{}",
                    self.port,
                    self.log()
                ));
            }
            if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill();
                return Err(format!(
                    "mosquitto did not listen on {} within {START_TIMEOUT:?}:\n{}",
                    self.addr(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for Mosquitto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mosquitto")
            .field("addr", &self.addr())
            .field("pid", &self.pid())
            .field("starts", &self.starts)
            .finish_non_exhaustive()
    }
}

/// A port that was free a moment ago on 127.0.0.1 (never 1883).
fn free_port() -> Result<u16, String> {
    loop {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
        let port = l.local_addr().map_err(|e| format!("bind: {e}"))?.port();
        if port != 1883 && port != 8883 {
            return Ok(port);
        }
    }
}

/// Sends `sig` (`TERM`, `KILL`, `STOP`, `CONT`) to the process `pid` with kill(1).
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn check(out: &Output) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// One message the broker delivered to a [`Recorder`].
#[derive(Debug, Clone)]
pub struct Message {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The retain flag as published (or set on a retained message sent at subscription).
    pub retain: bool,
    /// The MQTT 5 user properties, in order.
    pub user_properties: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
    /// The connection it arrived on (1 for the first; it grows with each reconnect).
    pub connection: u32,
}

impl Message {
    /// The payload as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// The payload as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// The first user property named `name`.
    pub fn user_property(&self, name: &str) -> Option<&str> {
        self.user_properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Log {
    messages: Vec<Message>,
    /// Connections acknowledged (ConnAck with success).
    connections: u32,
    /// Subscriptions acknowledged on the current connection.
    subscribed: bool,
    /// The last refusal of the broker (ConnAck with an error code).
    refused: Option<ConnectReturnCode>,
    /// The last connection error, as text.
    last_error: Option<String>,
}

struct Shared {
    log: Mutex<Log>,
    changed: Condvar,
    stop: AtomicBool,
}

/// An MQTT 5 client that records what the broker delivers on its filter. Disconnects when
/// dropped.
pub struct Recorder {
    client: Client,
    shared: Arc<Shared>,
}

impl Recorder {
    /// Connects to `broker` as its first user, subscribes to `filter` (QoS 1, retain as
    /// published) and waits until the subscription holds. Panics if it does not within
    /// 10 s.
    pub fn start(broker: &Mosquitto, filter: &str) -> Recorder {
        let r = Recorder::connect(broker.port(), broker.user(), broker.password(), filter);
        if let Err(e) = r.wait_subscribed(Duration::from_secs(10)) {
            panic!("the recorder did not subscribe to {filter}: {e}");
        }
        r
    }

    /// Connects to 127.0.0.1:`port` as `user` and subscribes to `filter` on every
    /// connection, without waiting (see [`Recorder::wait_subscribed`],
    /// [`Recorder::refused`]).
    pub fn connect(port: u16, user: &str, password: &str, filter: &str) -> Recorder {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut opts = MqttOptions::new(
            format!("tonearm-recorder-{}-{n}", std::process::id()),
            "127.0.0.1",
            port,
        );
        opts.set_keep_alive(Duration::from_secs(5))
            .set_credentials(user, password)
            // Big enough for the 1 MiB messages the tests publish.
            .set_max_packet_size(Some(4 << 20));
        let (client, mut connection) = Client::new(opts, 64);
        let shared = Arc::new(Shared {
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let filter = filter.to_owned();
        let sub_client = client.clone();
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("mqtt-recorder".to_owned())
            .spawn(move || {
                let shared = thread_shared;
                while !shared.stop.load(Ordering::Relaxed) {
                    let Ok(event) = connection.recv() else {
                        break; // every client handle is gone
                    };
                    let mut log = shared.log.lock().unwrap_or_else(|e| e.into_inner());
                    match event {
                        Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                            if ack.code == ConnectReturnCode::Success {
                                log.connections += 1;
                                log.subscribed = false;
                                let mut f = Filter::new(filter.clone(), QoS::AtLeastOnce);
                                f.preserve_retain = true;
                                let _ = sub_client.try_subscribe_many([f]);
                            } else {
                                log.refused = Some(ack.code);
                            }
                        }
                        Ok(Event::Incoming(Packet::SubAck(_))) => log.subscribed = true,
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let connection = log.connections;
                            log.messages.push(Message {
                                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                                payload: p.payload.to_vec(),
                                retain: p.retain,
                                user_properties: p
                                    .properties
                                    .map(|pr| pr.user_properties)
                                    .unwrap_or_default(),
                                at: Instant::now(),
                                connection,
                            });
                        }
                        Ok(_) => {}
                        Err(e) => {
                            if let ConnectionError::ConnectionRefused(code) = &e {
                                log.refused = Some(*code);
                            }
                            log.subscribed = false;
                            log.last_error = Some(e.to_string());
                            drop(log);
                            shared.changed.notify_all();
                            // Reconnect attempts: not in a tight loop.
                            std::thread::sleep(Duration::from_millis(100));
                            continue;
                        }
                    }
                    drop(log);
                    shared.changed.notify_all();
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the recorder's thread: {e}"));
        Recorder { client, shared }
    }

    /// Waits until the subscription holds on the current connection; Err with the last
    /// error (or refusal) if it does not within `timeout`.
    pub fn wait_subscribed(&self, timeout: Duration) -> Result<(), String> {
        let log = self.wait_until(timeout, |l| l.subscribed || l.refused.is_some());
        match (log.subscribed, log.refused) {
            (true, _) => Ok(()),
            (false, Some(code)) => Err(format!("refused: {code:?}")),
            (false, None) => Err(log
                .last_error
                .clone()
                .unwrap_or_else(|| "no answer".to_owned())),
        }
    }

    /// The broker's last refusal of this client's connection, if any (e.g.
    /// `BadUserNamePassword`).
    pub fn refused(&self) -> Option<ConnectReturnCode> {
        self.lock().refused
    }

    /// Waits up to `timeout` for a refusal.
    pub fn wait_refused(&self, timeout: Duration) -> Option<ConnectReturnCode> {
        self.wait_until(timeout, |l| l.refused.is_some()).refused
    }

    /// How many connections the broker acknowledged so far.
    pub fn connections(&self) -> u32 {
        self.lock().connections
    }

    /// Every message recorded so far, in order of arrival.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().messages.clone()
    }

    /// How many messages were recorded so far (an index for [`Recorder::since`]).
    pub fn count(&self) -> usize {
        self.lock().messages.len()
    }

    /// The messages recorded after the first `n`.
    pub fn since(&self, n: usize) -> Vec<Message> {
        self.lock().messages.get(n..).unwrap_or_default().to_vec()
    }

    /// The messages on `topic`.
    pub fn on(&self, topic: &str) -> Vec<Message> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.topic == topic)
            .cloned()
            .collect()
    }

    /// The last message on `topic`.
    pub fn last(&self, topic: &str) -> Option<Message> {
        self.lock()
            .messages
            .iter()
            .rev()
            .find(|m| m.topic == topic)
            .cloned()
    }

    /// Waits up to `timeout` for a message recorded after the first `from` that satisfies
    /// `pred`; returns the first such.
    pub fn wait_for_after(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&Message) -> bool,
    ) -> Option<Message> {
        let found = |l: &Log| {
            l.messages
                .get(from..)
                .unwrap_or_default()
                .iter()
                .find(|m| pred(m))
                .cloned()
        };
        let log = self.wait_until(timeout, |l| found(l).is_some());
        found(&log)
    }

    /// Waits up to `timeout` for any message (recorded so far or later) that satisfies
    /// `pred`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Message) -> bool) -> Option<Message> {
        self.wait_for_after(0, timeout, pred)
    }

    /// Waits up to `timeout` for a message on `topic` (recorded so far or later).
    pub fn wait_for_topic(&self, topic: &str, timeout: Duration) -> Option<Message> {
        self.wait_for(timeout, |m| m.topic == topic)
    }

    /// Publishes from this client (QoS 1).
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.to_vec())
            .unwrap_or_else(|e| panic!("the recorder cannot publish: {e}"));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Log) -> bool,
    ) -> std::sync::MutexGuard<'_, Log> {
        let deadline = Instant::now() + timeout;
        let mut log = self.lock();
        while !done(&log) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            log = self
                .shared
                .changed
                .wait_timeout(log, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        log
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // The thread ends at its next event (the disconnect, or a failed reconnect).
        let _ = self.client.try_disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn publishes_and_receives_with_authentication() {
        let broker = Mosquitto::start();
        assert_ne!(broker.port(), 1883);
        let rec = Recorder::start(&broker, "#");
        broker.publish("a/b", b"hello", false).unwrap();
        let m = rec.wait_for_topic("a/b", T).expect("delivered");
        assert_eq!(m.payload, b"hello");
        assert!(!m.retain);
        // Retained, as published (the recorder asked for retain-as-published).
        broker.publish("a/r", b"kept", true).unwrap();
        let m = rec.wait_for_topic("a/r", T).expect("delivered");
        assert!(m.retain);
        // A late subscriber gets the retained one, not the other.
        let late = Recorder::start(&broker, "a/#");
        let m = late.wait_for_topic("a/r", T).expect("retained");
        assert_eq!(m.text(), "kept");
        std::thread::sleep(Duration::from_millis(200));
        assert!(late.on("a/b").is_empty());
        // The recorder publishes with user properties absent, and sees its own message.
        rec.publish("a/c", b"\x00\xffbin", false);
        let m = rec.wait_for_topic("a/c", T).expect("own message");
        assert_eq!(m.payload, b"\x00\xffbin");
        assert!(m.user_properties.is_empty());
        // Only loopback.
        assert!(broker.log().contains("127.0.0.1"), "{}", broker.log());
    }

    #[test]
    fn user_properties_and_a_big_message_are_recorded() {
        let broker = Mosquitto::start();
        let rec = Recorder::start(&broker, "#");
        let out = broker
            .pub_command()
            .args(["-V", "mqttv5", "-t", "p/q", "-m", "x"])
            .args(["-D", "PUBLISH", "user-property", "url", "http://x/y"])
            .output()
            .unwrap();
        check(&out).unwrap();
        let m = rec.wait_for_topic("p/q", T).expect("delivered");
        assert_eq!(m.user_property("url"), Some("http://x/y"));
        let big = vec![b'z'; 1 << 20];
        broker.publish("p/big", &big, true).unwrap();
        let m = rec.wait_for_topic("p/big", T).expect("1 MiB delivered");
        assert_eq!(m.payload.len(), 1 << 20);
    }

    #[test]
    fn a_wrong_password_is_refused() {
        let broker = Mosquitto::builder()
            .user("alice", "right-one")
            .user("bob", "other")
            .start();
        assert_eq!(broker.user(), "alice");
        let out = broker
            .pub_command_as("alice", "wrong-one")
            .args(["-t", "x", "-m", "y"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not authorised") || err.contains("authori"),
            "{err}"
        );
        let rec = Recorder::connect(broker.port(), "alice", "wrong-one", "#");
        let code = rec.wait_refused(T).expect("refused");
        assert!(
            matches!(
                code,
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
            ),
            "{code:?}"
        );
        assert_eq!(rec.connections(), 0);
        // The second user works.
        let ok = Recorder::connect(broker.port(), "bob", "other", "#");
        ok.wait_subscribed(T).unwrap();
        // No anonymous access either.
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &broker.port().to_string()])
            .args(["-t", "x", "-m", "y"])
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    #[test]
    fn restarts_on_the_same_port_and_clients_reconnect() {
        let mut broker = Mosquitto::start();
        let port = broker.port();
        let rec = Recorder::start(&broker, "#");
        broker.publish("r/kept", b"1", true).unwrap();
        rec.wait_for_topic("r/kept", T).unwrap();
        let pid = broker.pid().unwrap();
        broker.restart();
        assert_eq!(broker.port(), port);
        assert_ne!(broker.pid(), Some(pid));
        // The recorder reconnects and resubscribes.
        let deadline = Instant::now() + T;
        while rec.connections() < 2 {
            assert!(Instant::now() < deadline, "no reconnect: {}", broker.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        rec.wait_subscribed(T).unwrap();
        let n = rec.count();
        broker.publish("r/after", b"2", false).unwrap();
        let m = rec
            .wait_for_after(n, T, |m| m.topic == "r/after")
            .expect("after the restart");
        assert_eq!(m.connection, 2);
        // Without persistence the retained message is gone.
        let late = Recorder::start(&broker, "r/#");
        std::thread::sleep(Duration::from_millis(300));
        assert!(late.on("r/kept").is_empty());
        // Stopped: nothing listens.
        broker.stop();
        assert!(!broker.is_running());
        assert!(TcpStream::connect_timeout(&broker.addr(), Duration::from_millis(200)).is_err());
    }

    #[test]
    fn persistence_keeps_retained_messages_across_a_restart() {
        let mut broker = Mosquitto::builder().persistence(true).start();
        broker.publish("s/kept", b"still here", true).unwrap();
        broker.restart();
        let rec = Recorder::start(&broker, "s/#");
        let m = rec
            .wait_for_topic("s/kept", T)
            .expect("retained after restart");
        assert_eq!(m.text(), "still here");
        assert!(m.retain);
    }
}
