//! The settings flash: QEMU's CFI parallel flash (Intel command set, `pflash_cfi01`),
//! unit 1 at 0x2200_0000, 32 MiB, in 256 KiB erase blocks, 32 bits wide (two 16-bit
//! parts side by side, so each command is written to both halves of a word). A small
//! `embedded-storage` driver: reads in read-array mode, word programs and block erases
//! polled on the status register. QEMU writes through to the image file, so what the
//! board saves survives a restart of the VM.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Unit 1 on the virt machine.
pub const BASE: usize = 0x2200_0000;
/// 32 MiB.
pub const SIZE: usize = 32 * 1024 * 1024;
/// The erase block.
pub const BLOCK: usize = 256 * 1024;

const READ_ARRAY: u32 = 0x00ff_00ff;
const CLEAR_STATUS: u32 = 0x0050_0050;
const PROGRAM: u32 = 0x0040_0040;
const ERASE: u32 = 0x0020_0020;
const CONFIRM: u32 = 0x00d0_00d0;
/// Status: ready (bit 7 of each part).
const READY: u32 = 0x0080_0080;
/// Status: erase or program failed, or the block is locked (bits 5, 4, 1).
const FAILED: u32 = 0x0032_0032;

/// Why a flash operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Out of the device, or not aligned.
    Bounds,
    /// The device reported a failed erase or program.
    Device,
}

impl NorFlashError for Error {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            Error::Bounds => NorFlashErrorKind::OutOfBounds,
            Error::Device => NorFlashErrorKind::Other,
        }
    }
}

/// The flash at [`BASE`].
pub struct Pflash(());

impl Pflash {
    /// The one driver of unit 1.
    pub fn take() -> Pflash {
        Pflash(())
    }

    fn write_word(offset: usize, value: u32) {
        // SAFETY: inside the device (callers check bounds), word-aligned.
        unsafe { core::ptr::write_volatile((BASE + offset) as *mut u32, value) }
    }

    fn read_word(offset: usize) -> u32 {
        // SAFETY: as above.
        unsafe { core::ptr::read_volatile((BASE + offset) as *const u32) }
    }

    /// Waits for the device, then goes back to read-array mode.
    fn finish(offset: usize) -> Result<(), Error> {
        let status = loop {
            let s = Self::read_word(offset);
            if s & READY == READY {
                break s;
            }
        };
        let result = if status & FAILED != 0 {
            Self::write_word(offset, CLEAR_STATUS);
            Err(Error::Device)
        } else {
            Ok(())
        };
        Self::write_word(offset, READ_ARRAY);
        result
    }

    fn check(offset: u32, len: usize, align: usize) -> Result<usize, Error> {
        let offset = offset as usize;
        if !offset.is_multiple_of(align)
            || !len.is_multiple_of(align)
            || offset.checked_add(len).is_none_or(|end| end > SIZE)
        {
            return Err(Error::Bounds);
        }
        Ok(offset)
    }
}

impl ErrorType for Pflash {
    type Error = Error;
}

impl ReadNorFlash for Pflash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Error> {
        let offset = Self::check(offset, bytes.len(), 1)?;
        Self::write_word(offset & !3, READ_ARRAY);
        for (i, b) in bytes.iter_mut().enumerate() {
            // SAFETY: inside the device (checked above).
            *b = unsafe { core::ptr::read_volatile((BASE + offset + i) as *const u8) };
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl NorFlash for Pflash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = BLOCK;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Error> {
        let start = Self::check(from, to.saturating_sub(from) as usize, BLOCK)?;
        for block in (start..to as usize).step_by(BLOCK) {
            Self::write_word(block, ERASE);
            Self::write_word(block, CONFIRM);
            Self::finish(block)?;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        let start = Self::check(offset, bytes.len(), 4)?;
        for (i, word) in bytes.chunks_exact(4).enumerate() {
            let at = start + 4 * i;
            let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            Self::write_word(at, PROGRAM);
            Self::write_word(at, value);
            Self::finish(at)?;
        }
        Ok(())
    }
}
