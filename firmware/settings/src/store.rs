//! The record in flash: a partition of two slots (erase sectors) written in turn.
//!
//! Saving writes the *other* slot (erase, then write the record with the next sequence
//! number) and never touches the slot just read. Until the new record's last byte (its
//! checksum) is in flash, the old record is the newest valid one; after it, the new one
//! is. [`Store`] does this over any `embedded-storage` NOR flash; the tests cut the power
//! after every single write and check that.
//!
//! `tonearm provision` writes the same format into a partition image
//! ([`partition_image`]: slot 0 holds sequence 1, slot 1 is erased).

use embedded_storage::nor_flash::NorFlash;

use crate::record::{RECORD_MAX, RecordError, Settings, decode, encode, newest};

/// Where the ESP32-C3 board's settings partition starts in flash (the `tonearm` row of
/// its `partitions.csv`; the board's tests check the two agree).
pub const PARTITION_OFFSET: u32 = 0x3F_0000;
/// One slot: a 4 KiB erase sector; it holds the longest record ([`RECORD_MAX`]).
pub const SLOT_SIZE: u32 = 0x1000;
/// The partition: two slots (the size of the image `tonearm provision` writes).
pub const PARTITION_SIZE: u32 = 2 * SLOT_SIZE;

/// Why the store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The flash driver failed.
    Flash(E),
    /// The record could not be written (a field too long, a buffer too small).
    Record(RecordError),
    /// The partition is smaller than two slots, a slot is smaller than [`RECORD_MAX`],
    /// or they are not aligned to the erase size.
    Layout,
}

/// Two slots of `slot_size` bytes (a multiple of the flash's erase size, at least
/// [`RECORD_MAX`]) starting at `offset` in `flash`.
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
    /// needs [`RECORD_MAX`] bytes), or `None` when neither slot holds one. A slot of a
    /// format version newer than this code reads as no record (the other slot may
    /// still hold one it can read).
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
        let [a, b] = seqs;
        self.current =
            newest(a, b).and_then(|i| seqs.get(i).copied().flatten().map(|seq| (i, seq)));
        let Some((slot, _)) = self.current else {
            return Ok(None);
        };
        self.flash
            .read(self.slot_offset(slot), buf)
            .map_err(StoreError::Flash)?;
        Ok(decode(buf).ok().map(|(_, s)| s))
    }

    /// Saves `settings` (as a version-2 record) into the slot not holding the newest
    /// record (call [`Store::load`] first), using `buf` ([`RECORD_MAX`] bytes) to build
    /// it. `settings` may borrow from the buffer `load` filled: that is not `buf`.
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

    /// The sequence number of the newest record, once [`Store::load`] or
    /// [`Store::save`] found or wrote one.
    pub fn sequence(&self) -> Option<u32> {
        self.current.map(|(_, seq)| seq)
    }

    /// The flash back.
    pub fn into_inner(self) -> F {
        self.flash
    }
}

/// A partition image with `settings` in slot 0 (sequence 1) and slot 1 erased, as
/// `tonearm provision` writes it: `image` must be two slots of at least [`RECORD_MAX`]
/// bytes each.
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
    use crate::record::tests::{SAMPLE, v1_record};
    use crate::record::{Quota, VERSION};
    use embedded_storage::nor_flash::{ErrorType, NorFlashError, NorFlashErrorKind, ReadNorFlash};

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
        assert!(SLOT_SIZE as usize >= RECORD_MAX);
        assert_eq!(PARTITION_SIZE, 2 * SLOT_SIZE);
        assert_eq!(PARTITION_OFFSET % SLOT_SIZE, 0);
    }

    #[test]
    fn saves_alternate_slots() {
        let mut store = Store::new(SimFlash::new(3 * 4096), 4096, 4096).unwrap();
        let mut buf = [0u8; RECORD_MAX];
        assert_eq!(store.load(&mut buf), Ok(None));
        assert_eq!(store.sequence(), None);
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
            assert_eq!(store.sequence(), Some(n as u32));
        }
        let flash = store.into_inner();
        assert_eq!(flash.erases, 5);
        // The first sector (outside the partition) was never touched.
        assert!(flash.mem[..4096].iter().all(|&b| b == 0xFF));
    }

    /// A board with a version-1 record (written by the old `tonearm provision`) reads it,
    /// and its first save (a rotation) writes version 2 into the other slot with the
    /// next sequence number, the version-1 record left as it was until the save after.
    #[test]
    fn version_1_partition_upgrades_on_the_first_save() {
        let mut flash = SimFlash::new(2 * 4096);
        let v1 = v1_record(41, "home", "hunter2hunter2", "cid", "AQB-old");
        flash.mem[4096..4096 + v1.len()].copy_from_slice(&v1);
        let mut store = Store::new(flash, 0, 4096).unwrap();
        let mut buf = [0u8; RECORD_MAX];
        let old = store.load(&mut buf).unwrap().unwrap();
        assert_eq!(old.refresh_token, "AQB-old");
        assert_eq!((old.tz, old.quota), (None, None));
        assert_eq!(store.sequence(), Some(41));
        let (ssid, password, client_id) = (
            old.ssid.to_owned(),
            old.password.to_owned(),
            old.client_id.to_owned(),
        );
        let new = Settings {
            ssid: &ssid,
            password: &password,
            client_id: &client_id,
            refresh_token: "AQB-new",
            quota: Some(Quota::default()),
            ..Settings::default()
        };
        let mut out = [0u8; RECORD_MAX];
        store.save(&new, &mut out).unwrap();
        let flash = store.into_inner();
        assert_eq!(flash.mem[4], VERSION, "slot 0 now holds version 2");
        assert_eq!(
            &flash.mem[4096..4096 + v1.len()],
            &v1[..],
            "slot 1 untouched"
        );
        let mut store = Store::new(flash, 0, 4096).unwrap();
        assert_eq!(store.load(&mut buf).unwrap(), Some(new));
        assert_eq!(store.sequence(), Some(42));
    }

    /// The power is cut after every possible number of flash steps during the rotation
    /// from token 1 to token 2 (and a quota save with it): afterwards the board reads
    /// the whole old record or the whole new one, never nothing, and the next save
    /// still works.
    #[test]
    fn power_cut_at_every_step_leaves_a_token() {
        let mut buf = [0u8; RECORD_MAX];
        let mut seen_old = false;
        let mut seen_new = false;
        let (t1, t2) = (token(1), token(2));
        let s1 = Settings {
            refresh_token: &t1,
            ..SAMPLE
        };
        let s2 = Settings {
            refresh_token: &t2,
            quota: Some(Quota {
                hour: 7,
                ..Quota::default()
            }),
            ..SAMPLE
        };
        for cut in 0.. {
            let mut store = Store::new(SimFlash::new(2 * 4096), 0, 4096).unwrap();
            store.save(&s1, &mut buf).unwrap();
            store.load(&mut buf).unwrap();
            let mut flash = store.into_inner();
            flash.budget = Some(cut);
            let mut store = Store::new(flash, 0, 4096).unwrap();
            store.load(&mut buf).unwrap();
            let finished = store.save(&s2, &mut buf).is_ok();
            // Reboot.
            let mut flash = store.into_inner();
            flash.budget = None;
            let mut store = Store::new(flash, 0, 4096).unwrap();
            let got = store.load(&mut buf).unwrap();
            match got {
                Some(s) if s == s1 => {
                    assert!(
                        !finished,
                        "cut {cut}: the save finished but the old record is read"
                    );
                    seen_old = true;
                }
                Some(s) if s == s2 => seen_new = true,
                other => panic!("cut {cut}: {other:?}"),
            }
            // The board can rotate again after the cut.
            let t3 = token(3);
            let s3 = Settings {
                refresh_token: &t3,
                ..SAMPLE
            };
            store.save(&s3, &mut buf).unwrap();
            assert_eq!(store.load(&mut buf).unwrap(), Some(s3));
            if finished {
                break;
            }
        }
        assert!(seen_old && seen_new);
    }

    #[test]
    fn image_for_provisioning() {
        let mut image = vec![0u8; PARTITION_SIZE as usize];
        partition_image(&SAMPLE, &mut image).unwrap();
        assert_eq!(image[4], VERSION);
        assert!(image[SLOT_SIZE as usize..].iter().all(|&b| b == 0xFF));
        let mut flash = SimFlash::new(2 * 4096);
        flash.mem.copy_from_slice(&image);
        let mut store = Store::new(flash, 0, 4096).unwrap();
        let mut buf = [0u8; RECORD_MAX];
        assert_eq!(store.load(&mut buf), Ok(Some(SAMPLE)));
        assert_eq!(store.sequence(), Some(1));
        assert_eq!(
            partition_image(&SAMPLE, &mut [0u8; 100]),
            Err(RecordError::BufferTooSmall)
        );
    }
}
