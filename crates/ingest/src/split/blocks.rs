//! The splitter's fast path: the inside of a record scanned 64 bytes at a time.
//!
//! Each block becomes bitmasks of its quotes, backslashes, brackets and control bytes
//! (16 bytes per instruction on x86_64); the spans of strings follow from the quotes that
//! no backslash escapes, by a prefix XOR, as in simdjson's stage 1 (Langdale and Lemire,
//! "Parsing Gigabytes of JSON per Second", 2019). Only brackets outside strings move the
//! depth, so a block costs a few dozen instructions instead of one branch per byte.
//!
//! It keeps the byte-at-a-time scan's meaning exactly ([`super::scan_step`]): wherever
//! that scan would read a byte differently from valid JSON (a backslash outside a string),
//! the block is left to it.

use super::{Scan, Step};

/// Bytes per block: one bit each in a `u64`.
pub(super) const BLOCK: usize = 64;

/// Bit `i` set where byte `i` of a block is of the class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
    /// Bytes up to 0x20: whitespace, or control bytes no valid JSON has outside a string.
    control: u64,
}

/// The masks of one block, with SSE2 (part of every x86_64 processor).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn classify_sse2(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    #[target_feature(enable = "sse2")]
    fn equal(v: __m128i, byte: u8) -> u64 {
        u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8))) as u16)
    }
    let mut masks = Masks::default();
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: `chunk` is 16 readable bytes, and an unaligned load needs no alignment.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        // `[` and `{` (0x5b, 0x7b), `]` and `}` (0x5d, 0x7d) differ only in bit 0x20.
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let shift = 16 * i;
        masks.quote |= equal(v, b'"') << shift;
        masks.backslash |= equal(v, b'\\') << shift;
        masks.open |= equal(folded, b'{') << shift;
        masks.close |= equal(folded, b'}') << shift;
        // max(v, 0x20) == 0x20 exactly where v <= 0x20 (unsigned).
        masks.control |= equal(_mm_max_epu8(v, _mm_set1_epi8(0x20)), 0x20) << shift;
    }
    masks
}

/// The masks of one block, with AVX2: two 32-byte halves.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn classify_avx2(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    #[target_feature(enable = "avx2")]
    fn equal(v: __m256i, byte: u8) -> u64 {
        u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(byte as i8))) as u32)
    }
    let mut masks = Masks::default();
    for (i, chunk) in block.chunks_exact(32).enumerate() {
        // SAFETY: `chunk` is 32 readable bytes, and an unaligned load needs no alignment.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) };
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let shift = 32 * i;
        masks.quote |= equal(v, b'"') << shift;
        masks.backslash |= equal(v, b'\\') << shift;
        masks.open |= equal(folded, b'{') << shift;
        masks.close |= equal(folded, b'}') << shift;
        masks.control |= equal(_mm256_max_epu8(v, _mm256_set1_epi8(0x20)), 0x20) << shift;
    }
    masks
}

/// The masks of one block, a byte at a time (other targets, and the reference in tests).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn classify_bytes(block: &[u8; BLOCK]) -> Masks {
    let mut masks = Masks::default();
    for (i, &byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            b'{' | b'[' => masks.open |= bit,
            b'}' | b']' => masks.close |= bit,
            0..=0x20 => masks.control |= bit,
            _ => {}
        }
    }
    masks
}

/// Bit `i` set where an odd number of bits at or below `i` are set in `x`.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The bytes that a backslash escapes, given the block's backslashes and whether its first
/// byte is escaped (`carry`, bit 0); also whether the block's last byte escapes the next
/// block's first. A backslash that is itself escaped escapes nothing.
fn escaped_bytes(backslash: u64, carry: u64) -> (u64, u64) {
    let mut escaped = carry;
    let mut escapers = backslash & !carry;
    let mut carry_out = 0;
    while escapers != 0 {
        let at = escapers.trailing_zeros();
        escapers &= escapers - 1;
        if at == 63 {
            carry_out = 1;
        } else {
            let next = 1u64 << (at + 1);
            escaped |= next;
            escapers &= !next;
        }
    }
    (escaped, carry_out)
}

/// Whether any byte of `data` at a set bit of `mask` is one of `bytes`.
fn any_of(data: &[u8; BLOCK], mut mask: u64, bytes: &[u8]) -> bool {
    while mask != 0 {
        let at = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        if bytes.contains(&data[at]) {
            return true;
        }
    }
    false
}

/// Scans whole blocks of `data` from `scan.pos`, inside a value whose depth is above zero
/// (in a record, past its first byte). Returns the value's end if it is in a block.
/// Otherwise `scan` is left where the byte-at-a-time scan goes on: before the last block's
/// escaping backslash, before a block with a backslash outside a string or (at the
/// `top_level` of JSON Lines, where a newline may end a cut-off line) a newline inside the
/// value, or with fewer than [`BLOCK`] bytes left.
pub(super) fn scan_blocks(data: &[u8], scan: &mut Scan, top_level: bool) -> Option<Step> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
        {
            // SAFETY: the processor has these features (checked just above).
            return unsafe { scan_blocks_avx2(data, scan, top_level) };
        }
        // SAFETY: SSE2 is in the x86_64 baseline: every x86_64 processor has it.
        unsafe { scan_blocks_sse2(data, scan, top_level) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    scan_blocks_with(data, scan, top_level, classify_bytes, prefix_xor)
}

/// With AVX2, and what every AVX2 processor also has: one-instruction bit counts
/// (`popcnt`, `tzcnt`) and the carry-less multiply that is a prefix XOR in one step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,popcnt,pclmulqdq")]
fn scan_blocks_avx2(data: &[u8], scan: &mut Scan, top_level: bool) -> Option<Step> {
    scan_blocks_with(
        data,
        scan,
        top_level,
        |block| classify_avx2(block),
        |quotes| prefix_xor_clmul(quotes),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn scan_blocks_sse2(data: &[u8], scan: &mut Scan, top_level: bool) -> Option<Step> {
    scan_blocks_with(
        data,
        scan,
        top_level,
        |block| classify_sse2(block),
        prefix_xor,
    )
}

/// [`prefix_xor`] as a carry-less multiply by all ones (simdjson's way).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,sse2")]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x};
    let product = _mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set_epi64x(0, -1));
    _mm_cvtsi128_si64(product) as u64
}

/// [`scan_blocks`] with the masks of each block from `classify` (inlined into each
/// instruction set's copy).
#[inline(always)]
fn scan_blocks_with(
    data: &[u8],
    scan: &mut Scan,
    top_level: bool,
    classify: impl Fn(&[u8; BLOCK]) -> Masks,
    prefix_xor: impl Fn(u64) -> u64,
) -> Option<Step> {
    debug_assert!(scan.depth > 0);
    let mut pos = scan.pos;
    let mut depth = scan.depth;
    let mut in_string = if scan.in_string { u64::MAX } else { 0 };
    let mut carry = 0u64;
    while let Some(block) = data.get(pos..pos + BLOCK) {
        let block: &[u8; BLOCK] = block.try_into().expect("a block is BLOCK bytes");
        let masks = classify(block);
        let (escaped, carry_out) = escaped_bytes(masks.backslash, carry);
        // Set from a string's opening quote up to (not including) its closing quote.
        let strings = prefix_xor(masks.quote & !escaped) ^ in_string;
        if masks.backslash & !strings != 0 {
            // Not JSON; the byte scan reads it its own way.
            break;
        }
        let open = masks.open & !strings;
        let close = masks.close & !strings;
        let mut end = None;
        let mut block_depth = depth;
        if close.count_ones() >= depth {
            // The value may end in this block: walk its brackets in order.
            let mut brackets = open | close;
            while brackets != 0 {
                let at = brackets.trailing_zeros();
                brackets &= brackets - 1;
                if open >> at & 1 == 1 {
                    block_depth += 1;
                } else {
                    block_depth -= 1;
                    if block_depth == 0 {
                        end = Some(at as usize);
                        break;
                    }
                }
            }
        } else {
            block_depth = depth + open.count_ones() - close.count_ones();
        }
        let before_end = end.map_or(u64::MAX, |at| (1u64 << at) - 1);
        if top_level && any_of(block, masks.control & before_end, b"\n") {
            break;
        }
        depth = block_depth;
        if !scan.spaced {
            let outside = masks.control & !strings & before_end;
            scan.spaced = any_of(block, outside, b" \n\t\r");
        }
        scan.escaped |= masks.backslash & before_end != 0;
        if let Some(at) = end {
            scan.pos = pos + at + 1;
            scan.depth = 0;
            scan.in_string = false;
            return Some(Step::Complete(scan.pos));
        }
        in_string = 0u64.wrapping_sub(strings >> 63);
        carry = carry_out;
        pos += BLOCK;
    }
    // A backslash that ends the last block is handed back: the byte scan skips it and the
    // byte it escapes together.
    scan.pos = pos - carry as usize;
    scan.depth = depth;
    scan.in_string = in_string != 0;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn simd_masks_match_the_byte_at_a_time_masks() {
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        if !avx2 {
            eprintln!("skipped: the AVX2 masks (this processor has no AVX2)");
        }
        let check = |block: &[u8; BLOCK]| {
            let expected = classify_bytes(block);
            // SAFETY: SSE2 is in the x86_64 baseline.
            assert_eq!(unsafe { classify_sse2(block) }, expected);
            if avx2 {
                // SAFETY: the processor has AVX2 (checked above).
                assert_eq!(unsafe { classify_avx2(block) }, expected);
            }
        };
        let mut block = [0u8; BLOCK];
        for round in 0..=255u8 {
            for (i, byte) in block.iter_mut().enumerate() {
                *byte = round
                    .wrapping_mul(31)
                    .wrapping_add((i as u8).wrapping_mul(97));
            }
            check(&block);
        }
        let json = b"{\"a\":[1,{\"b\":\"x\\\"y}\"}],\"c\":\"\\\\\"}\t \r\n][\"\\\\\\\"zz\"";
        let mut text = [b'~'; BLOCK];
        text[..json.len()].copy_from_slice(json);
        check(&text);
    }

    #[test]
    fn prefix_xor_marks_string_spans() {
        // Quotes at 1 and 4: bits 1..=3 are inside.
        assert_eq!(prefix_xor(0b1_0010), 0b0_1110);
        assert_eq!(prefix_xor(1 << 63), 1 << 63);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("pclmulqdq") {
            for x in [0, 1, 0b1_0010, 1 << 63, u64::MAX, 0x8421_0000_dead_beef] {
                // SAFETY: the processor has pclmulqdq (checked above); SSE2 is baseline.
                assert_eq!(unsafe { prefix_xor_clmul(x) }, prefix_xor(x), "{x:#x}");
            }
        }
    }

    #[test]
    fn escapes_pair_up_and_carry_over() {
        // `\\` at 0-1 escapes only 1; `\"` at 3-4 escapes 4.
        assert_eq!(escaped_bytes(0b0_1011, 0), (0b1_0010, 0));
        // A backslash at the last byte escapes the next block's first.
        assert_eq!(escaped_bytes(1 << 63, 0), (0, 1));
        // An escaped first byte that is a backslash escapes nothing.
        assert_eq!(escaped_bytes(0b1, 1), (0b1, 0));
    }

    /// Scans `data` (a value starting at byte 0, not at the top level) fed in pieces of
    /// `chunk` bytes, as the splitter feeds a stream; with or without the block scan.
    fn scan_fed(data: &[u8], chunk: usize, blocks: bool, top_level: bool) -> (Step, bool, bool) {
        let mut scan = Scan {
            block_resume: if blocks { 0 } else { usize::MAX },
            ..Scan::default()
        };
        let mut end = 0;
        loop {
            end = (end + chunk).min(data.len());
            match super::super::scan_step(&data[..end], &mut scan, top_level) {
                Step::More if end < data.len() => {}
                step => return (step, scan.spaced, scan.escaped),
            }
        }
    }

    /// A random JSON-like value: nested objects and arrays, strings full of quotes,
    /// backslashes, brackets and whitespace, and sometimes a byte of damage.
    fn random_value(rng: &mut rand_chacha::ChaCha8Rng, out: &mut Vec<u8>, depth: u32) {
        use rand::Rng;
        const PIECES: &[&[u8]] = &[
            b"a",
            b"\\\"",
            b"\\\\",
            b"{",
            b"}",
            b"[",
            b"]",
            b" ",
            b"\n",
            b"\\n",
            b"\\u0041",
            b"\xc3\xa9",
            b"\\\\\\\"",
            b"xyzxyzxyzxyzxyzxyz",
        ];
        match rng.random_range(0..if depth > 6 { 3 } else { 6 }) {
            0 => out.extend_from_slice(b"123"),
            1 | 2 => {
                out.push(b'"');
                for _ in 0..rng.random_range(0..24) {
                    out.extend_from_slice(PIECES[rng.random_range(0..PIECES.len())]);
                }
                out.push(b'"');
            }
            kind => {
                let (open, close) = if kind == 3 {
                    (b'[', b']')
                } else {
                    (b'{', b'}')
                };
                out.push(open);
                for i in 0..rng.random_range(0..6) {
                    if i > 0 {
                        out.extend_from_slice(if rng.random_bool(0.2) { b" , " } else { b"," });
                    }
                    if open == b'{' {
                        out.extend_from_slice(b"\"key\":");
                    }
                    random_value(rng, out, depth + 1);
                }
                out.push(close);
            }
        }
    }

    #[test]
    fn block_scan_agrees_with_the_byte_scan() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
        let mut checked = 0;
        for case in 0..20_000 {
            let mut data = vec![b'{'];
            for i in 0..rng.random_range(1..12) {
                if i > 0 {
                    data.push(b',');
                }
                data.extend_from_slice(b"\"k\":");
                random_value(&mut rng, &mut data, 1);
            }
            data.push(b'}');
            if case % 3 == 0 {
                // Damage: a stray quote, backslash, bracket or line break anywhere, or a cut.
                let at = rng.random_range(0..data.len());
                match rng.random_range(0..5) {
                    0 => data.insert(at, b'"'),
                    1 => data.insert(at, b'\\'),
                    2 => data.insert(at, b'}'),
                    3 => data.splice(at..at, *b"\n{").for_each(drop),
                    _ => data.truncate(at.max(1)),
                }
            }
            data.extend_from_slice(b"\n{\"next\":1}");
            // In an array (JSON), and at the top level of JSON Lines.
            for top_level in [false, true] {
                for chunk in [1, 7, 64, 100, data.len()] {
                    let bytes = scan_fed(&data, chunk, false, top_level);
                    let blocks = scan_fed(&data, chunk, true, top_level);
                    assert_eq!(
                        blocks,
                        bytes,
                        "case {case}, top level {top_level}, chunk {chunk}: {}",
                        String::from_utf8_lossy(&data)
                    );
                }
            }
            checked += usize::from(data.len() >= 2 * BLOCK);
        }
        assert!(checked > 5_000, "too few values span blocks: {checked}");
    }
}
