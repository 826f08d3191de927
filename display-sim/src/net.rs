//! The desktop's network: requests performed on their own thread through the
//! [`Transport`], so the UI never blocks on them. Response
//! events come back over a channel as they arrive (head, body chunks, end or failure).

use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use tonearm_core::session::{Failure, Host, Method, Request};
use tonearm_firmware::art::ImageRequest;

use crate::shell::{NetEvent, Network};
use crate::transport::{HttpRequest, Transport};

/// Where the two hosts are (from the config: `api_base`, `accounts_base`).
#[derive(Debug, Clone)]
pub struct Bases {
    /// e.g. `https://api.spotify.com/v1`
    pub api: String,
    /// e.g. `https://accounts.spotify.com`
    pub accounts: String,
}

/// One job of the network thread.
enum Job {
    Api(Box<Request>),
    Image(ImageRequest),
}

/// Requests on a background thread.
pub struct ThreadNetwork {
    jobs: Sender<Job>,
    events: Receiver<NetEvent>,
}

impl ThreadNetwork {
    /// Starts the network thread.
    pub fn spawn<T: Transport + Send + 'static>(transport: T, bases: Bases) -> Self {
        let (jobs, job_rx) = channel::<Job>();
        let (event_tx, events) = channel();
        std::thread::Builder::new()
            .name("tonearm-net".into())
            .spawn(move || {
                for job in job_rx {
                    match job {
                        Job::Api(req) => perform(&transport, &bases, &req, &event_tx),
                        Job::Image(req) => fetch_image(&transport, &req, &event_tx),
                    }
                }
            })
            .ok();
        ThreadNetwork { jobs, events }
    }
}

fn perform<T: Transport>(transport: &T, bases: &Bases, req: &Request, tx: &Sender<NetEvent>) {
    let base = match req.host {
        Host::Api => &bases.api,
        Host::Accounts => &bases.accounts,
    };
    let url = format!("{}{}", base.trim_end_matches('/'), req.path);
    let mut headers: Vec<(&str, &str)> = vec![("Accept", "application/json")];
    if !req.authorization.is_empty() {
        headers.push(("Authorization", req.authorization.as_str()));
    }
    if req.has_form_body() {
        headers.push(("Content-Type", "application/x-www-form-urlencoded"));
    }
    let http = HttpRequest {
        method: req.method,
        url: &url,
        headers: &headers,
        body: req.has_form_body().then_some(req.body.as_bytes()),
    };
    let result = transport.send(
        &http,
        &mut |head| {
            let _ = tx.send(NetEvent::Head {
                status: head.status,
                retry_after: head.retry_after.clone(),
            });
        },
        &mut |chunk| {
            if tx.send(NetEvent::Body(chunk.to_vec())).is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    let _ = tx.send(match result {
        Ok(_) => NetEvent::End,
        Err(e) => {
            log::info!(
                "{} {}: {e}",
                req.method.as_str(),
                req.path.split('?').next().unwrap_or("")
            );
            NetEvent::Failure(e.failure())
        }
    });
}

/// Fetches an image through the same transport (https except loopback, the same
/// timeouts), with no credentials and its own cap: past `max_bytes` the body is dropped
/// and the fetch fails as too large.
fn fetch_image<T: Transport>(transport: &T, req: &ImageRequest, tx: &Sender<NetEvent>) {
    let headers: [(&str, &str); 1] = [("Accept", "image/jpeg")];
    let http = HttpRequest {
        method: Method::Get,
        url: req.url.as_str(),
        headers: &headers,
        body: None,
    };
    let mut received = 0usize;
    let mut too_large = false;
    let result = transport.send(
        &http,
        &mut |head| {
            let _ = tx.send(NetEvent::Head {
                status: head.status,
                retry_after: None,
            });
        },
        &mut |chunk| {
            received = received.saturating_add(chunk.len());
            if received > req.max_bytes {
                too_large = true;
                return ControlFlow::Break(());
            }
            if tx.send(NetEvent::Body(chunk.to_vec())).is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    let _ = tx.send(match result {
        Ok(_) if too_large => NetEvent::Failure(Failure::TooLarge),
        Ok(_) => NetEvent::End,
        Err(e) => {
            log::info!("image fetch: {e}");
            NetEvent::Failure(e.failure())
        }
    });
}

impl Network for ThreadNetwork {
    fn start(&mut self, req: Request, _now_ms: u64) {
        // The thread only stops with the process.
        let _ = self.jobs.send(Job::Api(Box::new(req)));
    }

    fn start_image(&mut self, req: ImageRequest, _now_ms: u64) {
        let _ = self.jobs.send(Job::Image(req));
    }

    fn next_event(&mut self, timeout: Duration) -> Option<NetEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            // The thread is gone (it cannot be, short of a panic): report a failure so the
            // session backs off instead of waiting forever.
            Err(RecvTimeoutError::Disconnected) => Some(NetEvent::Failure(Failure::Io)),
        }
    }
}
