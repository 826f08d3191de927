//! What the display asks beyond the playback state, each within the daily budget: whether
//! the item playing is liked (the heart), what plays next (the queue), and the volume.
//!
//! - The library is asked once per item (never for ads, local files or items without an
//!   id), only while at least [`LIBRARY_MIN_LEFT_PERCENT`] of the day's budget is left.
//!   Which scopes the token has is learned from the token answer's `scope` when there is
//!   one, else from the first 403: a token without the library scopes shows no heart and
//!   no error, until the next login.
//! - The queue is asked once per item, in place of the poll after a change: its
//!   `currently_playing` confirms the item shown, so it costs no extra request when it
//!   agrees (and the poll follows at once when it does not). It is dropped first: only
//!   while [`QUEUE_MIN_LEFT_PERCENT`] of the budget is left.
//! - Volume presses change the shown volume at once and are sent as one request per
//!   burst ([`VOLUME_COALESCE_MS`] after the last press).

use super::machine::Session;
use super::vocab::{
    ControlCommand, ControlRefused, Features, Notice, Playback, RequestKind, VOLUME_COALESCE_MS,
    VOLUME_SHOWN_MS, VOLUME_STEP,
};
use crate::model::{ItemId, Kind, NowPlaying};
use crate::parse::{QueueHead, QueuedItem, TokenResponse, UPCOMING_IDS};

/// The library is asked only while this share of the day's budget is left.
pub const LIBRARY_MIN_LEFT_PERCENT: u32 = 35;
/// The queue is asked only while this share of the day's budget is left (the first
/// extra to go).
pub const QUEUE_MIN_LEFT_PERCENT: u32 = 40;

/// The state of the extras, kept in the [`Session`].
#[derive(Debug, Clone, Default)]
pub(super) struct Extras {
    pub(super) features: Features,
    /// Whether the token may use the library: `None` not known yet (try), `Some(false)`:
    /// no heart until the next login.
    library_ok: Option<bool>,
    /// The queue answered 403: not asked again.
    queue_refused: bool,
    /// Whether these items are liked (the item playing, and the queued ones asked about
    /// with it), the newest last.
    liked: heapless::Vec<(ItemId, bool), LIKED_CACHE>,
    /// The items the library was asked about last, in the request's order (the item
    /// playing first).
    library_asked: heapless::Vec<ItemId, LIBRARY_URIS>,
    /// The first queued items after the item playing, from the queue's answer.
    upcoming: heapless::Vec<(Kind, ItemId), UPCOMING_IDS>,
    /// What plays after the item with this id.
    up_next: Option<(ItemId, QueuedItem)>,
    /// The item the queue was asked about last.
    queue_asked: Option<ItemId>,
    /// The item a pending or unanswered like is for (kept from the press: the item
    /// playing may change before it is sent).
    like_target: Option<(Kind, ItemId)>,
    /// A volume to send when [`Extras::volume_send_at_ms`] comes.
    volume_target: Option<u8>,
    volume_send_at_ms: u64,
    /// The volume overlay shows until this time.
    volume_shown_until_ms: u64,
}

/// The id of the item, when it is one the library and the queue know (a track or an
/// episode with an id; not an ad, not a local file).
fn library_id(np: &NowPlaying) -> Option<&ItemId> {
    let listed = matches!(np.kind, Kind::Track | Kind::Episode) && !np.is_local;
    np.id.as_ref().filter(|_| listed)
}

/// The most items one library question asks about: the item playing and the first
/// queued ones (each after it needs no question of its own when it comes).
pub const LIBRARY_URIS: usize = 1 + UPCOMING_IDS;
/// How many items' liked state is remembered.
const LIKED_CACHE: usize = 8;

/// A `/me/library/contains` answer: its JSON array of booleans, in order. (Hand-read: a
/// flat array of `true` and `false` needs no tokenizer.)
#[derive(Debug, Clone, Default)]
pub(super) struct LibraryAnswer {
    word: heapless::String<5>,
    values: heapless::Vec<bool, LIBRARY_URIS>,
}

impl LibraryAnswer {
    /// Reads a chunk.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if b.is_ascii_lowercase() {
                if self.word.push(char::from(b)).is_err() {
                    self.word.clear();
                }
                let value = match self.word.as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                };
                if let Some(v) = value {
                    let _ = self.values.push(v);
                    self.word.clear();
                }
            } else {
                self.word.clear();
            }
        }
    }

    /// The booleans read, in order.
    pub(super) fn finish(&self) -> heapless::Vec<bool, LIBRARY_URIS> {
        self.values.clone()
    }
}

impl Session {
    /// Which extras to ask for (config `like`, `up_next`; both on by default).
    pub fn set_features(&mut self, features: Features) {
        self.extras.features = features;
    }

    /// The extras asked for.
    pub fn features(&self) -> Features {
        self.extras.features
    }

    /// The item playing, if any.
    fn item(&self) -> Option<&NowPlaying> {
        match &self.playback {
            Playback::Item { np, .. } => Some(np),
            _ => None,
        }
    }

    /// Whether the item playing gets a heart: likes are on, the token may use the
    /// library, and the item is a track or an episode with an id.
    pub fn has_heart(&self) -> bool {
        self.extras.features.like
            && self.extras.library_ok != Some(false)
            && self.item().and_then(library_id).is_some()
    }

    /// Whether the item playing is liked; `None` while unknown or without a heart.
    pub fn liked(&self) -> Option<bool> {
        let id = self.item().and_then(library_id)?;
        self.cached_liked(id).filter(|_| self.has_heart())
    }

    /// What the library said of `id`, if it is remembered.
    fn cached_liked(&self, id: &ItemId) -> Option<bool> {
        self.extras
            .liked
            .iter()
            .rev()
            .find(|(l, _)| l == id)
            .map(|(_, v)| *v)
    }

    /// Remembers whether `id` is liked (the oldest goes when the cache is full).
    fn remember_liked(&mut self, id: ItemId, liked: bool) {
        let cache = &mut self.extras.liked;
        cache.retain(|(l, _)| *l != id);
        if cache.is_full() {
            cache.remove(0);
        }
        let _ = cache.push((id, liked));
    }

    /// The Spotify URIs the next library question asks about: the item playing, then the
    /// queued items not known yet (as many as `fits` lets in).
    pub(super) fn library_uris(&self) -> heapless::Vec<(Kind, ItemId), LIBRARY_URIS> {
        let mut out = heapless::Vec::new();
        if let Some(np) = self.item()
            && let Some(id) = library_id(np)
        {
            let _ = out.push((np.kind, id.clone()));
        }
        for (kind, id) in &self.extras.upcoming {
            if self.cached_liked(id).is_none() && !out.iter().any(|(_, o)| o == id) {
                let _ = out.push((*kind, id.clone()));
            }
        }
        out
    }

    /// What plays after the item playing, when known (and `up_next` is on).
    pub fn up_next(&self) -> Option<&QueuedItem> {
        let id = self.item().and_then(|np| np.id.as_ref())?;
        match &self.extras.up_next {
            Some((l, next)) if l == id && self.extras.features.up_next => Some(next),
            _ => None,
        }
    }

    /// A mirror's heart and up-next line (see [`Session::apply_mirror`]): for the item
    /// with the mirror's id.
    pub(super) fn mirror_extras(
        &mut self,
        id: Option<ItemId>,
        liked: Option<bool>,
        next: Option<QueuedItem>,
    ) {
        self.extras.liked.clear();
        self.extras.up_next = None;
        if let Some(id) = id {
            if let Some(l) = liked {
                let _ = self.extras.liked.push((id.clone(), l));
            }
            self.extras.up_next = next.map(|n| (id, n));
        }
    }

    /// Shows the volume overlay until `until_ms`.
    pub(super) fn show_volume_until(&mut self, until_ms: u64) {
        self.extras.volume_shown_until_ms = until_ms;
    }

    /// The volume overlay is up at `now_ms`.
    pub(super) fn volume_shown(&self, now_ms: u64) -> bool {
        now_ms < self.extras.volume_shown_until_ms
    }

    /// Whether at least `percent` of the day's budget is left (always, without one).
    fn budget_left_at_least(&self, percent: u32) -> bool {
        if !self.budget.is_set() {
            return true;
        }
        let limit = u64::from(self.budget.limit());
        let left = limit.saturating_sub(u64::from(self.budget.used()));
        left * 100 >= limit * u64::from(percent)
    }

    /// The library is to be asked about the item playing now.
    pub(super) fn library_due(&self, now_ms: u64) -> bool {
        let Some(id) = self.item().and_then(library_id) else {
            return false;
        };
        self.extras.features.like
            && self.extras.library_ok != Some(false)
            && self.cached_liked(id).is_none()
            && self.extras.library_asked.first() != Some(id)
            // The queue first, when it is to be asked: the library then asks about the
            // items after this one too.
            && !self.queue_due(now_ms)
            && !self.is_dark(now_ms)
            && self.budget_left_at_least(LIBRARY_MIN_LEFT_PERCENT)
    }

    /// The queue is to be asked (in place of the poll that is due). Never without the
    /// `queue` feature.
    pub(super) fn queue_due(&self, now_ms: u64) -> bool {
        if cfg!(not(feature = "queue")) {
            return false;
        }
        let Some(np) = self.item() else {
            return false;
        };
        let Some(id) = np.id.as_ref() else {
            return false;
        };
        self.extras.features.up_next
            && !self.extras.queue_refused
            && np.is_playing
            && !np.is_local
            && self.extras.queue_asked.as_ref() != Some(id)
            && !self.is_dark(now_ms)
            && self.budget_left_at_least(QUEUE_MIN_LEFT_PERCENT)
    }

    /// A coalesced volume is ready to go.
    pub(super) fn volume_due(&self, now_ms: u64) -> Option<u8> {
        self.extras
            .volume_target
            .filter(|_| now_ms >= self.extras.volume_send_at_ms)
    }

    /// When a coalesced volume becomes due (`u64::MAX`: none waits).
    pub(super) fn volume_due_at(&self) -> u64 {
        match self.extras.volume_target {
            Some(_) => self.extras.volume_send_at_ms,
            None => u64::MAX,
        }
    }

    /// A request of `kind` is being sent: remember what it asks about.
    pub(super) fn extras_sent(&mut self, kind: RequestKind) {
        let id = self.item().and_then(|np| np.id.clone());
        match kind {
            RequestKind::Library => {
                self.extras.library_asked =
                    self.library_uris().into_iter().map(|(_, id)| id).collect();
            }
            RequestKind::Queue => self.extras.queue_asked = id,
            RequestKind::Control(ControlCommand::Volume(_)) => self.extras.volume_target = None,
            _ => {}
        }
    }

    /// The token answer lists its scopes: whether the library may be used.
    pub(super) fn extras_token(&mut self, token: &TokenResponse) {
        if !token.scope.is_empty() {
            self.extras.library_ok = Some(
                token.has_scope("user-library-read") && token.has_scope("user-library-modify"),
            );
        }
    }

    /// The library's answer for the items asked about, in order.
    pub(super) fn library_answered(&mut self, status: u16, liked: &[bool]) {
        match status {
            200..=299 => {
                let asked = core::mem::take(&mut self.extras.library_asked);
                for (id, v) in asked.iter().zip(liked) {
                    // A press made while the question was out wins.
                    if self.cached_liked(id).is_none() {
                        self.remember_liked(id.clone(), *v);
                    }
                }
                // (Kept as asked: the item playing is not asked again.)
                self.extras.library_asked = asked;
                self.extras.library_ok = Some(true);
            }
            403 => self.extras.library_ok = Some(false),
            // Anything else: no heart state for this item (not asked again).
            _ => {}
        }
    }

    /// The queue's answer; `true` when it confirms the item shown (it then stands for
    /// the poll it replaced).
    pub(super) fn queue_answered(&mut self, status: u16, head: Option<QueueHead>) -> bool {
        if status == 403 {
            self.extras.queue_refused = true;
            return false;
        }
        let Some(head) = head.filter(|_| (200..300).contains(&status)) else {
            return false;
        };
        let Some(current) = self.item().and_then(|np| np.id.clone()) else {
            return false;
        };
        if head.current_id.as_ref() != Some(&current) {
            return false;
        }
        self.extras.upcoming = head.upcoming;
        self.extras.up_next = head.next.map(|next| (current, next));
        true
    }

    /// A like was answered: a 403 means the token lacks the scope (no heart, no error);
    /// another refusal undoes the press (on the item pressed, whatever plays now).
    pub(super) fn like_answered(&mut self, liked: bool, status: u16) -> Option<Notice> {
        let target = self.extras.like_target.take();
        match status {
            200..=299 => None,
            403 => {
                self.extras.library_ok = Some(false);
                self.extras.liked.clear();
                None
            }
            _ => {
                if let Some((_, id)) = target {
                    self.remember_liked(id, !liked);
                }
                Some(Notice::ControlFailed)
            }
        }
    }

    /// The item a pending like is for, as a query-string URI's parts.
    pub(super) fn like_target(&self) -> Option<&(Kind, ItemId)> {
        self.extras.like_target.as_ref()
    }

    /// A like that got no answer (a failure) or was dropped (a quota answer, a halt):
    /// its item's heart is asked again rather than shown as pressed.
    pub(super) fn like_lost(&mut self) {
        if let Some((_, id)) = self.extras.like_target.take() {
            self.extras.liked.retain(|(l, _)| *l != id);
            self.extras.library_asked.clear();
        }
    }

    /// Drops what waits to be sent of the extras (a volume, a like): the budget, a quota
    /// answer or a halt took their turn. The next poll shows the true state.
    pub(super) fn drop_pending_extras(&mut self) {
        self.extras.volume_target = None;
        self.like_lost();
    }

    /// A poll's answer: a volume still being changed wins over the one it reports.
    pub(super) fn keep_volume_target(&self, np: &mut NowPlaying) {
        if let (Some(v), Some(d)) = (self.extras.volume_target, np.device.as_mut()) {
            d.volume_percent = Some(v);
        }
    }

    /// A like press: the new state, shown at once (the command follows).
    pub(super) fn press_like(&mut self, set: Option<bool>) -> Result<Option<bool>, ControlRefused> {
        if !self.has_heart() {
            return Err(ControlRefused::Unavailable);
        }
        let id = self
            .item()
            .and_then(library_id)
            .cloned()
            .ok_or(ControlRefused::Unavailable)?;
        let now = self.liked();
        let want = set.unwrap_or(!now.unwrap_or(false));
        if now == Some(want) {
            // Already so: nothing to send (the hub's `like` is idempotent).
            return Ok(None);
        }
        let kind = self.item().map_or(Kind::Track, |np| np.kind);
        self.extras.like_target = Some((kind, id.clone()));
        self.remember_liked(id, want);
        Ok(Some(want))
    }

    /// A volume press: the new volume, shown at once and sent once the burst is over.
    pub(super) fn press_volume(
        &mut self,
        now_ms: u64,
        change: VolumeChange,
    ) -> Result<(), ControlRefused> {
        let Playback::Item { np, .. } = &mut self.playback else {
            return Err(ControlRefused::NothingPlaying);
        };
        let Some(device) = np.device.as_mut() else {
            return Err(ControlRefused::Unavailable);
        };
        let (Some(current), true, false) = (
            device.volume_percent,
            !device.volume_fixed,
            device.is_restricted,
        ) else {
            return Err(ControlRefused::Disallowed);
        };
        let target = match change {
            VolumeChange::Up => current.saturating_add(VOLUME_STEP).min(100),
            VolumeChange::Down => current.saturating_sub(VOLUME_STEP),
            VolumeChange::To(v) => v.min(100),
        };
        device.volume_percent = Some(target);
        self.extras.volume_shown_until_ms = now_ms.saturating_add(VOLUME_SHOWN_MS);
        if Some(target) != Some(current) || self.extras.volume_target.is_some() {
            self.extras.volume_target = Some(target);
            self.extras.volume_send_at_ms = now_ms.saturating_add(VOLUME_COALESCE_MS);
        }
        Ok(())
    }

    /// A volume command was answered: `VOLUME_CONTROL_DISALLOW` greys the volume out.
    pub(super) fn volume_answered(&mut self, status: u16, fixed: bool) -> Option<Notice> {
        match status {
            200..=299 => None,
            _ if fixed => {
                if let Playback::Item { np, .. } = &mut self.playback
                    && let Some(d) = np.device.as_mut()
                {
                    d.volume_fixed = true;
                }
                Some(Notice::VolumeFixed)
            }
            404 => Some(Notice::NoActiveDevice),
            _ => Some(Notice::ControlFailed),
        }
    }
}

/// How a volume press changes the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VolumeChange {
    Up,
    Down,
    To(u8),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_answers() {
        for (body, want) in [
            (&b"[true]"[..], &[true][..]),
            (b"[ false ]", &[false]),
            (b"[true,false, true]", &[true, false, true]),
            (b"[]", &[]),
            (b"{\"error\":1}", &[]),
            (b"[true,true,true,true,true,false]", &[true; 5]),
        ] {
            let mut a = LibraryAnswer::default();
            for b in body.chunks(1) {
                a.feed(b);
            }
            assert_eq!(a.finish(), want, "{}", core::str::from_utf8(body).unwrap());
        }
    }
}
