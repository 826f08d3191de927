//! MQTT for the hub and the displays it feeds: the broker's address (`mqtt://` and
//! `mqtts://` URLs), the client's options (credentials from the config only, TLS always
//! verified), and [`Link`], a client on its own thread that reconnects with backoff and
//! reports what it hears over a channel.
//!
//! The client is `rumqttc` (MQTT 5), the ecosystem's usual one; its TLS is rustls with the
//! same ring provider and webpki roots as the HTTP transport, plus the CA of `mqtt_ca`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Filter, LastWill, Packet, PublishProperties};
use rumqttc::v5::{Client, ConnectionError, Event, Incoming, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};

use crate::config::SecretString;

/// The plain-text port.
pub const DEFAULT_PORT: u16 = 1883;
/// The TLS port.
pub const DEFAULT_TLS_PORT: u16 = 8883;
/// The id of a hub when none is given.
pub const DEFAULT_ID: &str = "tonearm";
/// The keep-alive (rumqttc's shortest): a client gone silent 1.5 times this long is gone,
/// and its last will goes out. (Debian's mosquitto 2.0.11 notices it later: 10.5 to 11.3 s
/// after a client froze, measured; hence the hub's [`HEARTBEAT`].)
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How often a hub says `online` again (QoS 0, not retained): a display that has heard
/// it and then hears nothing from the hub for `tonearm_firmware::hub::SILENT_MS` counts
/// it as gone, well within the 10 s a frozen hub's will can take to come.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Reconnection waits: from the first to the longest, doubling.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// See [`BACKOFF_FIRST`].
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Why MQTT cannot be set up. Each message is one line and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MqttError {
    /// The broker URL cannot be used.
    #[error("{0}")]
    Url(String),
    /// The CA file of `mqtt_ca` cannot be read or holds no certificate.
    #[error("mqtt_ca {}: {why}", path.display())]
    Ca {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The broker refused the user name or password.
    #[error(
        "the MQTT broker {broker} refused {user}: check mqtt_username and mqtt_password (or TONEARM_MQTT_PASSWORD)"
    )]
    Refused {
        /// `host:port`.
        broker: String,
        /// `user "name"`, or `the connection without a user name`.
        user: String,
    },
}

/// A broker's address: `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`, and for a display
/// the hub's id as the path (`mqtt://HOST/ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `mqtts://`.
    pub tls: bool,
    /// The host name or address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The path's id, if the URL has one.
    pub id: Option<String>,
}

impl BrokerUrl {
    /// Parses `url`. A user or password in it is refused (they would show in `ps` and in
    /// shell histories): they belong in the config.
    pub fn parse(url: &str) -> Result<BrokerUrl, String> {
        let url = url.trim();
        // Before anything that could echo it: a URL with a login is never printed.
        if url.contains('@') {
            return Err(
                "a broker URL must not carry a user or password: put them in the config's mqtt_username and mqtt_password (or TONEARM_MQTT_PASSWORD)"
                    .to_owned(),
            );
        }
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else {
            return Err(format!(
                "`{url}` is not a broker URL: use mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"
            ));
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            // `[::1]:1883`, `host:1883`; a bare IPv6 address needs brackets.
            Some((h, p)) if !p.contains(']') => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("`{url}`: `{p}` is not a port"))?;
                (h, port)
            }
            _ => (authority, if tls { DEFAULT_TLS_PORT } else { DEFAULT_PORT }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '?', '#', ' ', '[', ']']) {
            return Err(format!("`{url}` names no broker host"));
        }
        let path = path.trim_end_matches('/');
        let id = if path.is_empty() {
            None
        } else {
            check_id(path)?;
            Some(path.to_owned())
        };
        Ok(BrokerUrl {
            tls,
            host: host.to_owned(),
            port,
            id,
        })
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Checks a hub id: 1 to 32 of `a-z`, `0-9`, `_`, `-` (it is part of every topic and of
/// Home Assistant's ids).
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a hub id: use 1 to 32 of a-z, 0-9, _ and -"
        ))
    }
}

/// The topic `tonearm/<id>/<leaf>`.
pub fn topic(id: &str, leaf: &str) -> String {
    format!("tonearm/{id}/{leaf}")
}

/// Everything needed to reach a broker: its URL and the config's credentials and CA.
#[derive(Debug, Clone)]
pub struct Broker {
    /// Where.
    pub url: BrokerUrl,
    /// `mqtt_username`.
    pub username: Option<String>,
    /// `mqtt_password` or `TONEARM_MQTT_PASSWORD`.
    pub password: Option<SecretString>,
    /// `mqtt_ca`: a PEM file with the CA of a private broker (beside the public roots).
    pub ca: Option<PathBuf>,
}

/// What a client announces and leaves behind.
#[derive(Debug, Clone)]
pub struct ClientSetup {
    /// The client id (unique per connection on a broker).
    pub client_id: String,
    /// The last will: retained `payload` on `topic`, sent by the broker when the client
    /// goes silent.
    pub will: Option<(String, String)>,
    /// The largest packet the client accepts (the broker sends nothing larger).
    pub max_packet: Option<u32>,
    /// Subscribed to after every connection (QoS 0).
    pub subscriptions: Vec<String>,
}

impl Broker {
    /// `user "name"` or `the connection without a user name`, for messages.
    pub fn who(&self) -> String {
        match &self.username {
            Some(u) => format!("user \"{u}\""),
            None => "the connection without a user name".to_owned(),
        }
    }

    /// The client options.
    pub fn options(&self, setup: &ClientSetup) -> Result<MqttOptions, MqttError> {
        let mut o = MqttOptions::new(&setup.client_id, &self.url.host, self.url.port);
        o.set_keep_alive(KEEP_ALIVE);
        o.set_clean_start(true);
        // Connecting includes TLS; a broker that never answers is given up on and retried.
        o.set_connection_timeout(10);
        if let Some(user) = &self.username {
            let pass = self.password.as_ref().map_or("", SecretString::expose);
            o.set_credentials(user.clone(), pass.to_owned());
        }
        if let Some((topic, payload)) = &setup.will {
            o.set_last_will(LastWill::new(
                topic.clone(),
                payload.clone(),
                QoS::AtLeastOnce,
                true,
                None,
            ));
        }
        o.set_max_packet_size(setup.max_packet);
        if self.url.tls {
            o.set_transport(Transport::Tls(TlsConfiguration::Rustls(Arc::new(
                tls_config(self.ca.as_deref())?,
            ))));
        }
        Ok(o)
    }
}

/// rustls with ring, the webpki roots and the CA file (if any); verification on.
fn tls_config(ca: Option<&Path>) -> Result<rustls::ClientConfig, MqttError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca {
        let err = |why: String| MqttError::Ca {
            path: path.to_path_buf(),
            why,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| err(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(e.to_string()))?;
        if certs.is_empty() {
            return Err(err("holds no PEM certificate".to_owned()));
        }
        for c in certs {
            roots.add(c).map_err(|e| err(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MqttError::Url(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// What the client thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Connected (again); the subscriptions are made.
    Connected,
    /// The connection is gone (or could not be made); the thread retries after a wait.
    Disconnected(String),
    /// The broker refused the credentials (retried too, with the longest wait).
    Refused(ConnectReturnCode),
    /// A message.
    Message(Message),
}

/// A message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// Published retained (the subscriptions keep the flag as published: a retained
    /// message published while subscribed says so too).
    pub retain: bool,
    /// Its MQTT 5 user property `url`, if any (the cover's).
    pub url: Option<String>,
}

/// A client on its own thread (which ends, with the connection, when the link is
/// dropped).
pub struct Link {
    client: Client,
    events: Receiver<LinkEvent>,
    stop: Arc<AtomicBool>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
    }
}

impl Link {
    /// Starts the client thread: it connects, subscribes after each connection, and
    /// reconnects after a loss with waits from [`BACKOFF_FIRST`] to [`BACKOFF_MAX`].
    pub fn start(broker: &Broker, setup: &ClientSetup) -> Result<Link, MqttError> {
        let options = broker.options(setup)?;
        let (client, mut connection) = Client::new(options, 64);
        let (tx, events) = channel();
        let sub_client = client.clone();
        let subscriptions = setup.subscriptions.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("tonearm-mqtt".into())
            .spawn(move || {
                let mut backoff = BACKOFF_FIRST;
                for event in connection.iter() {
                    // Every keep-alive brings an event at the least (a ping), so a dropped
                    // link is noticed within seconds.
                    if stopped.load(Ordering::Relaxed)
                        || !forward(event, &tx, &sub_client, &subscriptions, &mut backoff)
                    {
                        return;
                    }
                }
            })
            .map_err(|e| MqttError::Url(format!("cannot start the MQTT thread: {e}")))?;
        Ok(Link {
            client,
            events,
            stop,
        })
    }

    /// The next event, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<LinkEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(e) => Some(e),
            Err(RecvTimeoutError::Timeout) => None,
            // The thread is gone (it cannot be while the client lives): no news, but no
            // busy loop either.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                None
            }
        }
    }

    /// Publishes without waiting (QoS 1 when `retain`, else 0). A full queue (the broker
    /// gone for long) drops it: what is retained is published again on reconnection.
    pub fn publish(&self, topic: &str, retain: bool, payload: Vec<u8>) {
        let qos = if retain {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        if let Err(e) = self.client.try_publish(topic, qos, retain, payload) {
            log::info!("MQTT publish to {topic} dropped: {e}");
        }
    }

    /// Publishes with a user property `url` (the cover's).
    pub fn publish_with_url(&self, topic: &str, retain: bool, payload: Vec<u8>, url: &str) {
        let props = PublishProperties {
            user_properties: vec![("url".to_owned(), url.to_owned())],
            ..PublishProperties::default()
        };
        let qos = if retain {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        if let Err(e) = self
            .client
            .try_publish_with_properties(topic, qos, retain, payload, props)
        {
            log::info!("MQTT publish to {topic} dropped: {e}");
        }
    }

    /// Disconnects cleanly (no last will).
    pub fn disconnect(&self) {
        let _ = self.client.try_disconnect();
    }
}

/// Handles one event of the connection; `false` when the thread is to stop.
fn forward(
    event: Result<Event, ConnectionError>,
    tx: &Sender<LinkEvent>,
    client: &Client,
    subscriptions: &[String],
    backoff: &mut Duration,
) -> bool {
    let out = match event {
        Ok(Event::Incoming(Incoming::ConnAck(_))) => {
            *backoff = BACKOFF_FIRST;
            // Retain as published: a command someone published retained is seen as such
            // (and ignored), even when it arrives live. No local: the client does not
            // hear its own messages.
            let filters = subscriptions.iter().map(|s| {
                let mut f = Filter::new(s.as_str(), QoS::AtMostOnce);
                f.preserve_retain = true;
                f.nolocal = true;
                f
            });
            if !subscriptions.is_empty()
                && let Err(e) = client.try_subscribe_many(filters)
            {
                log::info!("MQTT subscribe: {e}");
            }
            LinkEvent::Connected
        }
        Ok(Event::Incoming(Packet::Publish(p))) => {
            let url = p.properties.as_ref().and_then(|pr| {
                pr.user_properties
                    .iter()
                    .find(|(k, _)| k == "url")
                    .map(|(_, v)| v.clone())
            });
            LinkEvent::Message(Message {
                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                payload: p.payload.to_vec(),
                retain: p.retain,
                url,
            })
        }
        Ok(_) => return true,
        Err(ConnectionError::ConnectionRefused(code)) => {
            let _ = tx.send(LinkEvent::Refused(code));
            std::thread::sleep(BACKOFF_MAX);
            return true;
        }
        Err(ConnectionError::RequestsDone) => return false,
        Err(e) => {
            let why = e.to_string();
            log::info!("MQTT: {why}; again in {} s", backoff.as_secs());
            if tx.send(LinkEvent::Disconnected(why)).is_err() {
                return false;
            }
            std::thread::sleep(*backoff);
            *backoff = (*backoff * 2).min(BACKOFF_MAX);
            return true;
        }
    };
    tx.send(out).is_ok()
}

/// Whether a refusal is about the credentials.
pub fn is_credentials(code: ConnectReturnCode) -> bool {
    matches!(
        code,
        ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let u = BrokerUrl::parse("mqtt://broker.lan").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.id),
            (false, "broker.lan", 1883, None)
        );
        let u = BrokerUrl::parse("mqtts://broker.lan:8884/").unwrap();
        assert_eq!((u.tls, u.port), (true, 8884));
        let u = BrokerUrl::parse("mqtts://10.0.0.2").unwrap();
        assert_eq!(u.port, 8883);
        let u = BrokerUrl::parse("mqtt://127.0.0.1:18830/kitchen").unwrap();
        assert_eq!(u.id.as_deref(), Some("kitchen"));
        assert_eq!(u.address(), "127.0.0.1:18830");
        let u = BrokerUrl::parse("mqtt://[::1]:1884").unwrap();
        assert_eq!(
            (u.host.as_str(), u.address().as_str()),
            ("::1", "[::1]:1884")
        );
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://x:0",
            "mqtt://x:99999",
            "mqtt://x/Kitchen",
            "mqtt://x/a/b",
        ] {
            assert!(BrokerUrl::parse(bad).is_err(), "{bad}");
        }
        for with_login in [
            "mqtt://me:secret@x",
            "mqtt://me:sec/ret@x",
            "tcp://me:secret@x",
            "mqtts://me@x:8883/desk",
        ] {
            let e = BrokerUrl::parse(with_login).unwrap_err();
            assert!(
                e.contains("mqtt_username") && !e.contains("secret") && !e.contains("ret@"),
                "{e}"
            );
        }
    }

    #[test]
    fn hub_ids() {
        for ok in ["tonearm", "kitchen-2", "a", "x_y", &"a".repeat(32)] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Kitchen", "a b", "a/b", "é", &"a".repeat(33), "+", "#"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = tls_config(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("ca.pem") && err.contains("no PEM"), "{err}");
        assert!(tls_config(Some(&dir.path().join("missing.pem"))).is_err());
        assert!(tls_config(None).is_ok());
    }
}
