//! The board's settings in flash: Wi-Fi SSID and password, the Spotify client id and the
//! refresh token, in a partition of two erase sectors ("slots") that are written in
//! turn, so a power cut at any moment leaves a complete record.
//!
//! A record, little-endian, padded with `0xFF` to a multiple of [`WRITE_ALIGN`]:
//!
//! | offset | size | field |
//! | ---: | ---: | --- |
//! | 0 | 4 | magic `TNRM` |
//! | 4 | 1 | format version (1) |
//! | 5 | 1 | reserved (0) |
//! | 6 | 2 | payload length `n` |
//! | 8 | 4 | sequence number (the newer slot has the higher one, serial-number arithmetic) |
//! | 12 | n | payload: four fields, each a `u16` length and UTF-8 bytes: SSID, password, client id, refresh token |
//! | 12 + n | 4 | CRC-32 (IEEE) of bytes `0 .. 12 + n` |
//!
//! Saving writes the *other* slot (erase, then write the record with the next sequence
//! number) and never touches the slot just read. Until the new record's last byte (its
//! checksum) is in flash, the old record is the newest valid one; after it, the new one
//! is. [`Store`] does this over any `embedded-storage` NOR flash; the tests cut the power
//! after every single write and check that.
//!
//! `tonearm provision` writes the same format into a partition image (slot 0 holds
//! sequence 1, slot 1 is erased).

use embedded_storage::nor_flash::NorFlash;

/// Where the settings partition starts in flash (the `tonearm` row of `partitions.csv`).
pub const PARTITION_OFFSET: u32 = 0x3F_0000;
/// One slot: an erase sector of the ESP32-C3's flash.
pub const SLOT_SIZE: u32 = 0x1000;
/// The partition: two slots (the size of the image `tonearm provision` writes).
pub const PARTITION_SIZE: u32 = 2 * SLOT_SIZE;

/// The fields' numbers in [`RecordError::TooLong`], in record order.
pub const FIELD_SSID: u8 = 0;
/// The password's number.
pub const FIELD_PASSWORD: u8 = 1;
/// The client id's number.
pub const FIELD_CLIENT_ID: u8 = 2;
/// The refresh token's number.
pub const FIELD_REFRESH_TOKEN: u8 = 3;

/// The record's magic bytes.
pub const MAGIC: [u8; 4] = *b"TNRM";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 12;
/// Writes are padded to this (the ESP32-C3's flash writes words).
pub const WRITE_ALIGN: usize = 4;
/// Longest SSID (802.11).
pub const SSID_MAX: usize = 32;
/// Longest WPA2 passphrase.
pub const PASSWORD_MAX: usize = 64;
/// Longest client id (Spotify's are 32 hex digits).
pub const CLIENT_ID_MAX: usize = 64;
/// Longest refresh token kept (Spotify's are about 130 bytes; the firmware allows 512).
pub const REFRESH_TOKEN_MAX: usize = 512;
/// Longest record: header, four length-prefixed fields at their maximum, checksum,
/// padding.
pub const RECORD_MAX: usize =
    pad(HEADER_LEN + 8 + SSID_MAX + PASSWORD_MAX + CLIENT_ID_MAX + REFRESH_TOKEN_MAX + 4);

const fn pad(n: usize) -> usize {
    n.div_ceil(WRITE_ALIGN) * WRITE_ALIGN
}

/// What the board keeps. Borrowed: decoding points into the read buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    /// The Wi-Fi network.
    pub ssid: &'a str,
    /// Its passphrase (empty for an open network).
    pub password: &'a str,
    /// The Spotify app's client id (PKCE: no secret on the board).
    pub client_id: &'a str,
    /// The refresh token; replaced after every rotation.
    pub refresh_token: &'a str,
}

impl core::fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Settings")
            .field("ssid", &self.ssid)
            .field("password", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// Why a record cannot be written or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// A field is longer than its maximum (which field: 0 SSID, 1 password, 2 client
    /// id, 3 refresh token). Shorten it; the limits are the `*_MAX` constants.
    TooLong(u8),
    /// The buffer is smaller than the record; give it [`RECORD_MAX`] bytes.
    BufferTooSmall,
    /// Not a record (erased flash, another format, or a torn write).
    NoRecord,
    /// A record of a newer format version: update the firmware.
    UnknownVersion,
    /// The checksum does not match (a torn write or worn flash).
    Checksum,
    /// The payload is inconsistent (lengths, or text that is not UTF-8).
    Malformed,
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecordError::TooLong(i) => write!(f, "field {i} is too long"),
            RecordError::BufferTooSmall => f.write_str("buffer too small for the record"),
            RecordError::NoRecord => f.write_str("no record"),
            RecordError::UnknownVersion => f.write_str("record of a newer format version"),
            RecordError::Checksum => f.write_str("record checksum mismatch"),
            RecordError::Malformed => f.write_str("malformed record"),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`), bitwise: records are small and
/// rare, so no table.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Writes the record for `settings` with sequence number `seq` into `buf`; returns its
/// length (a multiple of [`WRITE_ALIGN`]).
pub fn encode(settings: &Settings<'_>, seq: u32, buf: &mut [u8]) -> Result<usize, RecordError> {
    let fields = [
        (FIELD_SSID, settings.ssid, SSID_MAX),
        (FIELD_PASSWORD, settings.password, PASSWORD_MAX),
        (FIELD_CLIENT_ID, settings.client_id, CLIENT_ID_MAX),
        (
            FIELD_REFRESH_TOKEN,
            settings.refresh_token,
            REFRESH_TOKEN_MAX,
        ),
    ];
    let mut payload = 0usize;
    for (i, text, max) in fields {
        if text.len() > max {
            return Err(RecordError::TooLong(i));
        }
        payload += 2 + text.len();
    }
    let end = HEADER_LEN + payload;
    let total = pad(end + 4);
    let out = buf.get_mut(..total).ok_or(RecordError::BufferTooSmall)?;
    out.fill(0xFF);
    let len16 = u16::try_from(payload).map_err(|_| RecordError::Malformed)?;
    let mut w = Writer { buf: out, at: 0 };
    w.put(&MAGIC)?;
    w.put(&[VERSION, 0])?;
    w.put(&len16.to_le_bytes())?;
    w.put(&seq.to_le_bytes())?;
    for (_, text, _) in fields {
        let n = u16::try_from(text.len()).map_err(|_| RecordError::Malformed)?;
        w.put(&n.to_le_bytes())?;
        w.put(text.as_bytes())?;
    }
    let crc = crc32(w.buf.get(..end).ok_or(RecordError::Malformed)?);
    w.put(&crc.to_le_bytes())?;
    Ok(total)
}

struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        let end = self.at + bytes.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or(RecordError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

/// Reads a record from the start of `bytes` (a slot's contents, or at least the
/// record); returns its sequence number and the settings, borrowed from `bytes`.
pub fn decode(bytes: &[u8]) -> Result<(u32, Settings<'_>), RecordError> {
    let header = bytes.get(..HEADER_LEN).ok_or(RecordError::NoRecord)?;
    if header.get(..4) != Some(&MAGIC[..]) {
        return Err(RecordError::NoRecord);
    }
    if header.get(4) != Some(&VERSION) {
        return Err(RecordError::UnknownVersion);
    }
    let payload = usize::from(u16::from_le_bytes([header[6], header[7]]));
    let seq = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    let end = HEADER_LEN + payload;
    let body = bytes.get(..end).ok_or(RecordError::Checksum)?;
    let stored = bytes.get(end..end + 4).ok_or(RecordError::Checksum)?;
    if crc32(body) != u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]) {
        return Err(RecordError::Checksum);
    }
    let mut r = body.get(HEADER_LEN..).ok_or(RecordError::Malformed)?;
    let mut field = |max: usize| -> Result<&str, RecordError> {
        let (len, rest) = r.split_at_checked(2).ok_or(RecordError::Malformed)?;
        let n = usize::from(u16::from_le_bytes([len[0], len[1]]));
        if n > max {
            return Err(RecordError::Malformed);
        }
        let (text, rest) = rest.split_at_checked(n).ok_or(RecordError::Malformed)?;
        r = rest;
        core::str::from_utf8(text).map_err(|_| RecordError::Malformed)
    };
    let settings = Settings {
        ssid: field(SSID_MAX)?,
        password: field(PASSWORD_MAX)?,
        client_id: field(CLIENT_ID_MAX)?,
        refresh_token: field(REFRESH_TOKEN_MAX)?,
    };
    if !r.is_empty() {
        return Err(RecordError::Malformed);
    }
    Ok((seq, settings))
}

/// Whether sequence number `a` is newer than `b` (serial-number arithmetic, so the
/// counter may wrap).
pub fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Which slot of two holds the newest valid record, given their decoded sequence
/// numbers (`None` for a slot without a valid record).
pub fn newest(a: Option<u32>, b: Option<u32>) -> Option<usize> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if newer(y, x) { 1 } else { 0 }),
        (Some(_), None) => Some(0),
        (None, Some(_)) => Some(1),
        (None, None) => None,
    }
}

/// Why the store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The flash driver failed.
    Flash(E),
    /// The record could not be written (a field too long, a buffer too small).
    Record(RecordError),
    /// The partition is smaller than two slots, or not aligned to the erase size.
    Layout,
}

/// Two slots of `slot_size` bytes (a multiple of the flash's erase size) starting at
/// `offset` in `flash`.
#[derive(Debug)]
pub struct Store<F> {
    flash: F,
    offset: u32,
    slot_size: u32,
    /// The slot holding the newest valid record and its sequence number, once known.
    current: Option<(usize, u32)>,
}

impl<F: NorFlash> Store<F> {
    /// A store over `flash`; checks the layout.
    pub fn new(flash: F, offset: u32, slot_size: u32) -> Result<Self, StoreError<F::Error>> {
        let erase = u32::try_from(F::ERASE_SIZE).map_err(|_| StoreError::Layout)?;
        let fits = offset
            .checked_add(slot_size.checked_mul(2).ok_or(StoreError::Layout)?)
            .is_some_and(|end| end as usize <= flash.capacity());
        if erase == 0
            || !offset.is_multiple_of(erase)
            || !slot_size.is_multiple_of(erase)
            || (slot_size as usize) < RECORD_MAX
            || !fits
        {
            return Err(StoreError::Layout);
        }
        Ok(Store {
            flash,
            offset,
            slot_size,
            current: None,
        })
    }

    fn slot_offset(&self, slot: usize) -> u32 {
        self.offset + if slot == 0 { 0 } else { self.slot_size }
    }

    /// Reads both slots; returns the newest valid settings (borrowed from `buf`, which
    /// needs [`RECORD_MAX`] bytes), or `None` when neither slot holds one.
    pub fn load<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<Option<Settings<'b>>, StoreError<F::Error>> {
        let buf = buf
            .get_mut(..RECORD_MAX)
            .ok_or(StoreError::Record(RecordError::BufferTooSmall))?;
        let mut seqs = [None, None];
        for (slot, seq) in seqs.iter_mut().enumerate() {
            self.flash
                .read(self.slot_offset(slot), buf)
                .map_err(StoreError::Flash)?;
            *seq = decode(buf).ok().map(|(s, _)| s);
        }
        self.current = newest(seqs[0], seqs[1]).and_then(|i| Some((i, seqs[i]?)));
        let Some((slot, _)) = self.current else {
            return Ok(None);
        };
        self.flash
            .read(self.slot_offset(slot), buf)
            .map_err(StoreError::Flash)?;
        Ok(decode(buf).ok().map(|(_, s)| s))
    }

    /// Saves `settings` into the slot not holding the newest record (call
    /// [`Store::load`] first), using `buf` ([`RECORD_MAX`] bytes) to build it.
    pub fn save(
        &mut self,
        settings: &Settings<'_>,
        buf: &mut [u8],
    ) -> Result<(), StoreError<F::Error>> {
        let (slot, seq) = match self.current {
            Some((cur, seq)) => (1 - cur, seq.wrapping_add(1)),
            None => (0, 1),
        };
        let len = encode(settings, seq, buf).map_err(StoreError::Record)?;
        let record = buf
            .get(..len)
            .ok_or(StoreError::Record(RecordError::BufferTooSmall))?;
        let start = self.slot_offset(slot);
        self.flash
            .erase(start, start + self.slot_size)
            .map_err(StoreError::Flash)?;
        self.flash.write(start, record).map_err(StoreError::Flash)?;
        self.current = Some((slot, seq));
        Ok(())
    }

    /// The flash back.
    pub fn into_inner(self) -> F {
        self.flash
    }
}

/// A partition image with `settings` in slot 0 (sequence 1) and slot 1 erased, as
/// `tonearm provision` writes it: `image` must be two slots long.
pub fn partition_image(settings: &Settings<'_>, image: &mut [u8]) -> Result<(), RecordError> {
    image.fill(0xFF);
    if !image.len().is_multiple_of(2) || image.len() / 2 < RECORD_MAX {
        return Err(RecordError::BufferTooSmall);
    }
    encode(settings, 1, image).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_storage::nor_flash::{ErrorType, NorFlashError, NorFlashErrorKind, ReadNorFlash};

    const SAMPLE: Settings<'static> = Settings {
        ssid: "Café wifi",
        password: "correct horse battery staple",
        client_id: "0123456789abcdef0123456789abcdef",
        refresh_token: "AQB-refresh-token-1",
    };

    #[test]
    fn round_trip() {
        let mut buf = [0u8; RECORD_MAX];
        let n = encode(&SAMPLE, 7, &mut buf).unwrap();
        assert_eq!(n % WRITE_ALIGN, 0);
        assert_eq!(&buf[..4], b"TNRM");
        assert_eq!(decode(&buf[..n]), Ok((7, SAMPLE)));
        // The longest record fits RECORD_MAX exactly.
        let long = Settings {
            ssid: &"s".repeat(SSID_MAX),
            password: &"p".repeat(PASSWORD_MAX),
            client_id: &"c".repeat(CLIENT_ID_MAX),
            refresh_token: &"r".repeat(REFRESH_TOKEN_MAX),
        };
        let mut buf = [0u8; RECORD_MAX];
        assert_eq!(encode(&long, 1, &mut buf), Ok(RECORD_MAX));
        assert_eq!(decode(&buf).map(|(_, s)| s), Ok(long));
    }

    #[test]
    fn limits_and_errors() {
        let mut buf = [0u8; RECORD_MAX];
        let too_long = "r".repeat(REFRESH_TOKEN_MAX + 1);
        let s = Settings {
            refresh_token: &too_long,
            ..SAMPLE
        };
        assert_eq!(encode(&s, 1, &mut buf), Err(RecordError::TooLong(3)));
        let long_ssid = "s".repeat(SSID_MAX + 1);
        let s = Settings {
            ssid: &long_ssid,
            ..SAMPLE
        };
        assert_eq!(encode(&s, 1, &mut buf), Err(RecordError::TooLong(0)));
        assert_eq!(
            encode(&SAMPLE, 1, &mut [0u8; 20]),
            Err(RecordError::BufferTooSmall)
        );
        assert_eq!(decode(&[0xFF; 64]), Err(RecordError::NoRecord));
        assert_eq!(decode(&[]), Err(RecordError::NoRecord));
        let n = encode(&SAMPLE, 1, &mut buf).unwrap();
        let mut v2 = buf;
        v2[4] = 2;
        assert_eq!(decode(&v2), Err(RecordError::UnknownVersion));
        // Every single bit flip is caught (CRC-32 finds all of them).
        let used = HEADER_LEN + usize::from(u16::from_le_bytes([buf[6], buf[7]])) + 4;
        for i in 0..used {
            for bit in 0..8 {
                let mut c = buf;
                c[i] ^= 1 << bit;
                assert!(decode(&c[..n]).is_err(), "{i}:{bit}");
            }
        }
        // Every truncation fails without a panic.
        for k in 0..used {
            assert!(decode(&buf[..k]).is_err());
        }
        // The Debug output hides the secrets.
        let dbg = format!("{SAMPLE:?}");
        assert!(!dbg.contains("horse") && !dbg.contains("AQB"), "{dbg}");
    }

    #[test]
    fn crc_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn sequence_order_wraps() {
        assert!(newer(2, 1));
        assert!(!newer(1, 2));
        assert!(!newer(5, 5));
        assert!(newer(0, u32::MAX));
        assert_eq!(newest(Some(1), Some(2)), Some(1));
        assert_eq!(newest(Some(u32::MAX), Some(0)), Some(1));
        assert_eq!(newest(Some(3), None), Some(0));
        assert_eq!(newest(None, None), None);
    }

    /// NOR flash in RAM: erase sets 0xFF, writes only clear bits (and must be aligned),
    /// and the power can be cut after a number of byte writes (the rest of that write
    /// and everything later is lost).
    struct SimFlash {
        mem: Vec<u8>,
        budget: Option<usize>,
        erases: usize,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum SimError {
        PowerCut,
        Align,
    }

    impl NorFlashError for SimError {
        fn kind(&self) -> NorFlashErrorKind {
            match self {
                SimError::PowerCut => NorFlashErrorKind::Other,
                SimError::Align => NorFlashErrorKind::NotAligned,
            }
        }
    }

    impl ErrorType for SimFlash {
        type Error = SimError;
    }

    impl SimFlash {
        fn new(size: usize) -> Self {
            SimFlash {
                mem: vec![0xFF; size],
                budget: None,
                erases: 0,
            }
        }

        fn spend(&mut self) -> Result<(), SimError> {
            match &mut self.budget {
                Some(0) => Err(SimError::PowerCut),
                Some(n) => {
                    *n -= 1;
                    Ok(())
                }
                None => Ok(()),
            }
        }
    }

    impl ReadNorFlash for SimFlash {
        const READ_SIZE: usize = 1;
        fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
            let o = offset as usize;
            bytes.copy_from_slice(&self.mem[o..o + bytes.len()]);
            Ok(())
        }
        fn capacity(&self) -> usize {
            self.mem.len()
        }
    }

    impl NorFlash for SimFlash {
        const WRITE_SIZE: usize = 4;
        const ERASE_SIZE: usize = 4096;
        fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
            if !from.is_multiple_of(4096) || !to.is_multiple_of(4096) {
                return Err(SimError::Align);
            }
            // An erase is one step: cut before it, it does not happen; a real erase cut
            // midway leaves garbage, which the checksum rejects like an erased slot.
            self.spend()?;
            self.erases += 1;
            self.mem[from as usize..to as usize].fill(0xFF);
            Ok(())
        }
        fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
            if !offset.is_multiple_of(4) || !bytes.len().is_multiple_of(4) {
                return Err(SimError::Align);
            }
            for (i, &b) in bytes.iter().enumerate() {
                self.spend()?;
                self.mem[offset as usize + i] &= b;
            }
            Ok(())
        }
    }

    fn token(n: usize) -> String {
        format!("AQB-refresh-token-{n}")
    }

    #[test]
    fn layout_is_checked() {
        assert!(matches!(
            Store::new(SimFlash::new(8192), 0, 4096),
            Ok(Store { .. })
        ));
        assert!(matches!(
            Store::new(SimFlash::new(8192), 0, 8192),
            Err(StoreError::Layout)
        ));
        assert!(matches!(
            Store::new(SimFlash::new(16384), 100, 4096),
            Err(StoreError::Layout)
        ));
    }

    #[test]
    fn saves_alternate_slots() {
        let mut store = Store::new(SimFlash::new(3 * 4096), 4096, 4096).unwrap();
        let mut buf = [0u8; RECORD_MAX];
        assert_eq!(store.load(&mut buf), Ok(None));
        for n in 1..=5 {
            let t = token(n);
            store
                .save(
                    &Settings {
                        refresh_token: &t,
                        ..SAMPLE
                    },
                    &mut buf,
                )
                .unwrap();
            let got = store.load(&mut buf).unwrap().unwrap();
            assert_eq!(got.refresh_token, t);
        }
        let flash = store.into_inner();
        assert_eq!(flash.erases, 5);
        // The first sector (outside the partition) was never touched.
        assert!(flash.mem[..4096].iter().all(|&b| b == 0xFF));
    }

    /// The power is cut after every possible number of flash steps during the rotation
    /// from token 1 to token 2: afterwards the board reads token 1 or token 2, never
    /// nothing, and the next save still works.
    #[test]
    fn power_cut_at_every_step_leaves_a_token() {
        let mut buf = [0u8; RECORD_MAX];
        let mut seen_old = false;
        let mut seen_new = false;
        for cut in 0.. {
            let mut store = Store::new(SimFlash::new(2 * 4096), 0, 4096).unwrap();
            let (t1, t2) = (token(1), token(2));
            let s1 = Settings {
                refresh_token: &t1,
                ..SAMPLE
            };
            store.save(&s1, &mut buf).unwrap();
            store.load(&mut buf).unwrap();
            let mut flash = store.into_inner();
            flash.budget = Some(cut);
            let mut store = Store::new(flash, 0, 4096).unwrap();
            store.load(&mut buf).unwrap();
            let s2 = Settings {
                refresh_token: &t2,
                ..SAMPLE
            };
            let finished = store.save(&s2, &mut buf).is_ok();
            // Reboot.
            let mut flash = store.into_inner();
            flash.budget = None;
            let mut store = Store::new(flash, 0, 4096).unwrap();
            let got = store
                .load(&mut buf)
                .unwrap()
                .map(|s| s.refresh_token.to_string());
            match got.as_deref() {
                Some(t) if t == t1 => {
                    assert!(
                        !finished,
                        "cut {cut}: the save finished but the old token is read"
                    );
                    seen_old = true;
                }
                Some(t) if t == t2 => seen_new = true,
                other => panic!("cut {cut}: {other:?}"),
            }
            // The board can rotate again after the cut.
            let t3 = token(3);
            store
                .save(
                    &Settings {
                        refresh_token: &t3,
                        ..SAMPLE
                    },
                    &mut buf,
                )
                .unwrap();
            let got = store.load(&mut buf).unwrap().unwrap();
            assert_eq!(got.refresh_token, t3);
            if finished {
                break;
            }
        }
        assert!(seen_old && seen_new);
    }

    #[test]
    fn image_for_provisioning() {
        let mut image = vec![0u8; 2 * 4096];
        partition_image(&SAMPLE, &mut image).unwrap();
        assert!(image[4096..].iter().all(|&b| b == 0xFF));
        let mut flash = SimFlash::new(2 * 4096);
        flash.mem.copy_from_slice(&image);
        let mut store = Store::new(flash, 0, 4096).unwrap();
        let mut buf = [0u8; RECORD_MAX];
        assert_eq!(store.load(&mut buf), Ok(Some(SAMPLE)));
        assert_eq!(
            partition_image(&SAMPLE, &mut [0u8; 100]),
            Err(RecordError::BufferTooSmall)
        );
    }

    #[test]
    fn partition_table_agrees_with_the_constants() {
        // The row `provision`'s image and the board's Store both rely on.
        let csv = include_str!("../../partitions.csv");
        let row = csv
            .lines()
            .find(|l| l.starts_with("tonearm,"))
            .expect("a tonearm row in partitions.csv");
        let cols: Vec<&str> = row.split(',').map(str::trim).collect();
        let hex = |s: &str| u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(hex(cols[3]), PARTITION_OFFSET, "{row}");
        assert_eq!(hex(cols[4]), PARTITION_SIZE, "{row}");
        assert_eq!(PARTITION_SIZE, 2 * SLOT_SIZE);
        assert!(SLOT_SIZE as usize >= RECORD_MAX);
        assert_eq!(PARTITION_OFFSET % SLOT_SIZE, 0);
    }
}
