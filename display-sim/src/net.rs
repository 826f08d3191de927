//! The desktop's network: requests performed on their own thread through the
//! [`Transport`](crate::transport::Transport), so the UI never blocks on them. Response
//! events come back over a channel as they arrive (head, body chunks, end or failure).

use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use tonearm_core::session::{Host, Request};

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

/// Requests on a background thread.
pub struct ThreadNetwork {
    jobs: Sender<Request>,
    events: Receiver<NetEvent>,
}

impl ThreadNetwork {
    /// Starts the network thread.
    pub fn spawn<T: Transport + Send + 'static>(transport: T, bases: Bases) -> Self {
        let (jobs, job_rx) = channel::<Request>();
        let (event_tx, events) = channel();
        std::thread::Builder::new()
            .name("tonearm-net".into())
            .spawn(move || {
                for req in job_rx {
                    perform(&transport, &bases, &req, &event_tx);
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

impl Network for ThreadNetwork {
    fn start(&mut self, req: Request, _now_ms: u64) {
        // The thread only stops with the process.
        let _ = self.jobs.send(req);
    }

    fn next_event(&mut self, timeout: Duration) -> Option<NetEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            // The thread is gone (it cannot be, short of a panic): report a failure so the
            // session backs off instead of waiting forever.
            Err(RecvTimeoutError::Disconnected) => {
                Some(NetEvent::Failure(tonearm_core::session::Failure::Io))
            }
        }
    }
}
