//! [`RamFlash`]: NOR flash in memory, for tests and host tools that run a board's
//! settings code (the kit's loop tests, the hub end-to-end tests). Feature `ram-flash`
//! (it needs `alloc`).

use alloc::vec::Vec;

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};

/// A NOR flash of `self.0.len()` bytes in memory (4 KiB erase sectors, 4-byte writes);
/// access outside it is [`NorFlashErrorKind::OutOfBounds`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamFlash(pub Vec<u8>);

impl RamFlash {
    /// The bytes at `offset`, `len` long, when they lie inside.
    fn span(&mut self, offset: u32, len: usize) -> Result<&mut [u8], NorFlashErrorKind> {
        let at = usize::try_from(offset).map_err(|_| NorFlashErrorKind::OutOfBounds)?;
        let end = at.checked_add(len).ok_or(NorFlashErrorKind::OutOfBounds)?;
        self.0
            .get_mut(at..end)
            .ok_or(NorFlashErrorKind::OutOfBounds)
    }
}

impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        bytes.copy_from_slice(self.span(offset, bytes.len())?);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = to.checked_sub(from).ok_or(NorFlashErrorKind::OutOfBounds)?;
        self.span(from, len as usize)?.fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.span(offset, bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_erases_and_bounds() {
        let mut f = RamFlash(vec![0; 8192]);
        f.erase(0, 4096).unwrap();
        f.write(4, &[1, 2, 3, 4]).unwrap();
        let mut b = [0; 6];
        f.read(2, &mut b).unwrap();
        assert_eq!(b, [0xFF, 0xFF, 1, 2, 3, 4]);
        assert_eq!(f.0[4096], 0);
        assert_eq!(f.read(8190, &mut b), Err(NorFlashErrorKind::OutOfBounds));
        assert_eq!(f.erase(4096, 0), Err(NorFlashErrorKind::OutOfBounds));
        assert_eq!(f.capacity(), 8192);
    }
}
