//! Whole-file gunzip with libdeflate, the fast path for ordinary trail files.
//!
//! CloudTrail files are single gzip members of a few kilobytes to a few megabytes, so one
//! call inflates a whole file into a reused buffer, about twice as fast as streaming zlib.
//! Anything else (several members, a size trailer that disagrees, corrupt or truncated
//! data, a file larger than [`MAX_WHOLE_FILE`]) returns `None`, and the caller streams the
//! file instead, which bounds memory and salvages the records before a break.

use std::io::{self, Read};
use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// Largest decompressed size inflated in one piece; larger files are streamed.
pub const MAX_WHOLE_FILE: u64 = 256 << 20;

/// A libdeflate decompressor, one per worker.
#[derive(Debug)]
pub struct Inflater {
    decompressor: NonNull<libdeflate_decompressor>,
}

// SAFETY: a libdeflate decompressor holds no thread-affine state; it is used by one
// thread at a time (`&mut self`).
unsafe impl Send for Inflater {}

impl Default for Inflater {
    fn default() -> Self {
        // SAFETY: no preconditions; a null return (out of memory) is checked.
        let raw = unsafe { libdeflate_alloc_decompressor() };
        Inflater {
            decompressor: NonNull::new(raw).expect("libdeflate could not allocate a decompressor"),
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor and freed once.
        unsafe { libdeflate_free_decompressor(self.decompressor.as_ptr()) }
    }
}

impl Inflater {
    /// Inflates `gz` into `out` (a buffer the caller reuses; it only grows) if it is
    /// exactly one gzip member of at most `limit` (and [`MAX_WHOLE_FILE`]) bytes, and
    /// returns the inflated length (the bytes are `out[..len]`); `None` means "stream it
    /// instead".
    pub fn inflate(&mut self, gz: &[u8], limit: u64, out: &mut Vec<u8>) -> Option<usize> {
        if gz.len() < 18 || !gz.starts_with(&[0x1f, 0x8b]) {
            return None;
        }
        // ISIZE, the member's size mod 2^32, ends the file (RFC 1952, section 2.3.1).
        let tail: [u8; 4] = gz[gz.len() - 4..].try_into().ok()?;
        let size = u64::from(u32::from_le_bytes(tail));
        if size > limit.min(MAX_WHOLE_FILE) {
            return None;
        }
        let size = size as usize;
        if out.len() < size {
            out.resize(size, 0);
        }
        let mut consumed = 0usize;
        let mut produced = 0usize;
        // SAFETY: the input and output pointers are valid for the lengths given, and the
        // out-parameters point to live locals.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.decompressor.as_ptr(),
                gz.as_ptr().cast(),
                gz.len(),
                out.as_mut_ptr().cast(),
                size,
                &mut consumed,
                &mut produced,
            )
        };
        // One member that used the whole file and filled exactly the declared size.
        (result == libdeflate_result_LIBDEFLATE_SUCCESS && consumed == gz.len() && produced == size)
            .then_some(size)
    }
}

/// Reads at most `remaining` bytes from `inner`, then fails: the gzip bomb guard of the
/// streaming path (the whole-file path has its own limit).
pub(crate) struct ExpansionLimit<R> {
    pub(crate) inner: R,
    pub(crate) remaining: u64,
    /// The ratio that set the limit, for the message.
    pub(crate) ratio: u64,
}

impl<R: Read> Read for ExpansionLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(io::Error::other(format!(
                "decompressed data exceeds {}x the file size (a gzip bomb?); stopped reading",
                self.ratio
            )));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_one_member_and_declines_the_rest() {
        let mut inflater = Inflater::default();
        let mut out = Vec::new();
        let data = br#"{"Records":[{"eventVersion":"1.08"}]}"#.repeat(50);
        let gz = gzip(&data);
        let len = inflater.inflate(&gz, 1 << 20, &mut out).unwrap();
        assert_eq!(&out[..len], &data[..]);
        // Two members: streamed by the caller.
        let two = [gzip(b"{\"Records\":["), gzip(b"]}")].concat();
        assert_eq!(inflater.inflate(&two, 1 << 20, &mut out), None);
        // Truncated, corrupt, over the limit, not gzip.
        assert_eq!(
            inflater.inflate(&gz[..gz.len() - 9], 1 << 20, &mut out),
            None
        );
        let mut corrupt = gz.clone();
        corrupt[20] ^= 0xff;
        assert_eq!(inflater.inflate(&corrupt, 1 << 20, &mut out), None);
        assert_eq!(inflater.inflate(&gz, 10, &mut out), None);
        assert_eq!(inflater.inflate(&data, 1 << 20, &mut out), None);
        // The buffer is reused: a smaller file after a larger one.
        let small = gzip(b"{}");
        let len = inflater.inflate(&small, 1 << 20, &mut out).unwrap();
        assert_eq!(&out[..len], b"{}");
    }
}
