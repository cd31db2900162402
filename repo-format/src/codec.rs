//! Bounds-checked little-endian reader and writer shared by every binary encoding.

use crate::{Error, Result};

/// Appends primitive values to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// Unsigned LEB128.
    pub(crate) fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }
    /// Length-prefixed (varint) byte string.
    pub(crate) fn blob(&mut self, v: &[u8]) {
        self.varint(v.len() as u64);
        self.bytes(v);
    }
    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads primitive values, failing with a typed error instead of panicking.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    structure: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8], structure: &'static str) -> Self {
        Self { input, structure }
    }
    fn truncated(&self) -> Error {
        Error::Truncated {
            structure: self.structure,
        }
    }
    pub(crate) fn malformed(&self, reason: &'static str) -> Error {
        Error::Malformed {
            structure: self.structure,
            reason,
        }
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.input.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = self.u8()?;
            let part = u64::from(byte & 0x7f);
            if i == 9 && part > 1 {
                return Err(self.malformed("varint overflows 64 bits"));
            }
            value |= part << (7 * i);
            if byte & 0x80 == 0 {
                // Canonical encodings only, so every value has exactly one byte form.
                if i > 0 && byte == 0 {
                    return Err(self.malformed("non-canonical varint"));
                }
                return Ok(value);
            }
        }
        Err(self.malformed("varint longer than 10 bytes"))
    }
    /// A count of elements that each take at least `min_elem_len` bytes: refused when the
    /// remaining input cannot hold that many, so no length field can force a large allocation.
    pub(crate) fn count(&mut self, min_elem_len: usize) -> Result<usize> {
        let n = self.varint()?;
        let max = self.input.len() / min_elem_len.max(1);
        if n > max as u64 {
            return Err(self.truncated());
        }
        Ok(n as usize)
    }
    pub(crate) fn blob(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        if n > self.input.len() as u64 {
            return Err(self.truncated());
        }
        self.take(n as usize)
    }
    pub(crate) fn string(&mut self) -> Result<String> {
        let raw = self.blob()?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| self.malformed("string is not UTF-8"))
    }
    pub(crate) fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.malformed("boolean byte is not 0 or 1")),
        }
    }
    /// Fails unless the whole input was consumed.
    pub(crate) fn finish(self) -> Result<()> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(self.malformed("trailing bytes"))
        }
    }
}

/// Checks a structure's leading version byte: `current` is what this build writes.
pub(crate) fn check_version(structure: &'static str, found: u8, current: u8) -> Result<u8> {
    if found > current {
        Err(Error::UnsupportedVersion {
            structure,
            found,
            supported: current,
        })
    } else if found == 0 {
        Err(Error::Malformed {
            structure,
            reason: "version 0 was never written",
        })
    } else {
        Ok(found)
    }
}
