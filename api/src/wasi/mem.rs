//! Guest memory as the WASI calls see it: every pointer and length a guest passes is
//! checked here, and anything out of bounds is `EFAULT`, never a host panic.

use super::types::{Errno, WasiResult, layout};

/// A guest's linear memory during one call.
pub(crate) struct GuestMem<'a> {
    bytes: &'a mut [u8],
}

/// One `iovec`: a guest buffer.
#[derive(Copy, Clone, Debug)]
pub(crate) struct IoVec {
    pub ptr: u32,
    pub len: u32,
}

impl<'a> GuestMem<'a> {
    pub fn new(bytes: &'a mut [u8]) -> GuestMem<'a> {
        GuestMem { bytes }
    }

    fn range(&self, ptr: u32, len: u32) -> WasiResult<std::ops::Range<usize>> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    pub fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    fn array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let s = self.slice(ptr, N as u32)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }
    pub fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }
    pub fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }
    pub fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// A guest string: WASI strings are UTF-8 (`EILSEQ` otherwise).
    pub fn read_str(&self, ptr: u32, len: u32) -> WasiResult<&str> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    /// An array of `count` iovecs at `ptr`; each buffer is checked to lie in memory.
    pub fn iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<IoVec>> {
        let bytes = count.checked_mul(layout::IOVEC_SIZE).ok_or(Errno::Fault)?;
        self.range(ptr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = ptr + i * layout::IOVEC_SIZE;
            let v = IoVec {
                ptr: self.read_u32(at)?,
                len: self.read_u32(at + 4)?,
            };
            self.range(v.ptr, v.len)?;
            out.push(v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_efault() {
        let mut bytes = vec![0u8; 16];
        let mut m = GuestMem::new(&mut bytes);
        assert_eq!(m.read_u32(12), Ok(0));
        assert_eq!(m.read_u32(13), Err(Errno::Fault));
        assert_eq!(m.read_u64(u32::MAX), Err(Errno::Fault));
        assert_eq!(m.write_u64(9, 1), Err(Errno::Fault));
        assert_eq!(m.slice(16, 0).map(|s| s.len()), Ok(0));
        assert_eq!(m.slice(17, 0).map(|s| s.len()), Err(Errno::Fault));
        assert!(m.iovecs(0, u32::MAX).is_err());
        // An iovec pointing outside memory.
        m.write_u32(0, 8).unwrap();
        m.write_u32(4, 9).unwrap();
        assert_eq!(m.iovecs(0, 1).map(|v| v.len()), Err(Errno::Fault));
        m.write_u32(4, 8).unwrap();
        assert_eq!(m.iovecs(0, 1).map(|v| v.len()), Ok(1));
    }

    #[test]
    fn strings_must_be_utf8() {
        let mut bytes = b"ok\xff".to_vec();
        let m = GuestMem::new(&mut bytes);
        assert_eq!(m.read_str(0, 2), Ok("ok"));
        assert_eq!(m.read_str(0, 3), Err(Errno::Ilseq));
    }
}
