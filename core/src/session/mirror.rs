//! A mirror: a [`Session`] that never talks to Spotify and shows what a hub publishes
//! (the displays of `tonearm run --hub`, and boards fed by a hub).
//!
//! The hub's [`HubState`] is applied as it arrives ([`Session::apply_mirror`]); its Unix
//! times become this session's monotonic time at receipt, so the position interpolates
//! and the waits count down as on the hub. When the hub is gone ([`Session::mirror_lost`])
//! the last state stays, offline, with how long the hub has been gone. Everything that reads a session (the view,
//! the event lines) reads a mirror the same way.

use super::machine::Session;
use super::vocab::{Credentials, Features, Health, Notice, Playback, Timing, VOLUME_SHOWN_MS};
use crate::hub::{HubHealth, HubPlayback, HubState};
use crate::model::item_id;
use crate::secret::Secret;
use crate::text::bounded;

/// What a mirror shows beside the playback (kept in the [`Session`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Mirror {
    /// The hub's health.
    pub(super) health: HubHealth,
    /// Unix ms minus monotonic ms at the last message (the display's wall clock, or the
    /// message's own `at_ms` when the display has none).
    pub(super) unix_offset: Option<i64>,
    /// The hub's screen is dark.
    pub(super) dark: bool,
    pub(super) login_ends_s: Option<u64>,
    /// The hub has been unreachable since this monotonic time.
    pub(super) lost_since_ms: Option<u64>,
}

/// The id a mirrored item carries (the hub sends no ids: the heart and the up-next line
/// are keyed on it).
const MIRROR_ID: &str = "hub";

impl Session {
    /// A session that shows what a hub publishes: it never asks for a request
    /// ([`Session::poll`] waits), holds no credentials, and shows `connecting` until the
    /// first [`Session::apply_mirror`].
    pub fn mirror(timing: Timing) -> Session {
        let creds = Credentials {
            client_id: bounded(MIRROR_ID).0,
            client_secret: None,
            refresh_token: Secret::new(MIRROR_ID),
        };
        let mut s = Session::new(creds, timing, 1);
        s.mirror = Some(Mirror::default());
        s
    }

    /// Whether this is a mirror.
    pub fn is_mirror(&self) -> bool {
        self.mirror.is_some()
    }

    /// Shows `state`, received at `now_ms` (a session that is no mirror ignores it).
    pub fn apply_mirror(&mut self, now_ms: u64, state: &HubState) {
        if self.mirror.is_none() {
            return;
        }
        // The display's clock, else the message's own time; neither (a board whose SNTP
        // went unanswered, nothing playing): the last offset known stays.
        let unix_now = self.unix_ms(now_ms).or(state.at_ms);
        let known = self.mirror.as_ref().and_then(|m| m.unix_offset);
        let offset = unix_now
            .map(|u| {
                i64::try_from(u)
                    .unwrap_or(i64::MAX)
                    .saturating_sub(i64::try_from(now_ms).unwrap_or(i64::MAX))
            })
            .or(known);
        let mono = |unix: u64| -> u64 {
            let Some(offset) = offset else { return now_ms };
            let m = i64::try_from(unix)
                .unwrap_or(i64::MAX)
                .saturating_sub(offset);
            u64::try_from(m).unwrap_or(0).min(now_ms)
        };
        let old_volume = self.mirrored_volume();
        self.playback = match &state.playback {
            HubPlayback::Unknown => Playback::Unknown,
            HubPlayback::Nothing => match self.playback {
                Playback::Nothing { since_ms } => Playback::Nothing { since_ms },
                _ => Playback::Nothing { since_ms: now_ms },
            },
            HubPlayback::Item(np) => {
                let mut np = np.clone();
                np.id = item_id(MIRROR_ID);
                let received_ms = state.at_ms.map_or(now_ms, mono);
                Playback::Item { np, received_ms }
            }
        };
        // The heart and the up-next line, as the hub has them.
        self.mirror_extras(item_id(MIRROR_ID), state.liked, state.up_next.clone());
        self.set_features(Features {
            like: state.liked.is_some(),
            up_next: state.up_next.is_some(),
        });
        let new_volume = self.mirrored_volume();
        if old_volume.is_some() && new_volume.is_some() && old_volume != new_volume {
            self.show_volume_until(now_ms.saturating_add(VOLUME_SHOWN_MS));
        }
        self.set_mirror_notice(state.notice);
        if let Some(m) = self.mirror.as_mut() {
            m.health = state.health;
            m.unix_offset = offset;
            m.dark = state.dark;
            m.login_ends_s = state.login_ends_s;
            m.lost_since_ms = None;
        }
        self.bump();
    }

    /// The hub is unreachable (its availability says `offline`, or the broker is gone)
    /// since `since_ms`: the last state stays, shown offline for as long as it has been
    /// gone.
    pub fn mirror_lost(&mut self, since_ms: u64) {
        if let Some(m) = self.mirror.as_mut()
            && m.lost_since_ms.is_none()
        {
            m.lost_since_ms = Some(since_ms);
            self.bump();
        }
    }

    /// Shows `notice` (a press the hub could not be told of).
    pub fn mirror_notice(&mut self, now_ms: u64, notice: Notice) {
        self.set_notice(now_ms, notice);
    }

    /// The mirror's health at `now_ms` (see [`Session::status`]).
    pub(super) fn mirror_health(&self, m: &Mirror, now_ms: u64) -> Health {
        if let Some(lost) = m.lost_since_ms {
            // Since the hub was last known to be there (what it said held until then,
            // however long ago it said it).
            return Health::Offline {
                for_ms: now_ms.saturating_sub(lost),
            };
        }
        let Some(offset) = m.unix_offset else {
            // No time at all: the hub's waits cannot be placed; shown as just begun.
            return m.health.at_unknown_time();
        };
        let unix = i64::try_from(now_ms)
            .unwrap_or(i64::MAX)
            .saturating_add(offset);
        m.health.at(u64::try_from(unix).unwrap_or(0))
    }

    fn mirrored_volume(&self) -> Option<u8> {
        match &self.playback {
            Playback::Item { np, .. } => np.device.as_ref().and_then(|d| d.volume_percent),
            _ => None,
        }
    }
}
