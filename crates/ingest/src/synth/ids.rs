//! Identifiers in AWS's formats, drawn from a seeded generator.

use rand::Rng;
use xxhash_rust::xxh3::xxh3_64_with_seed;

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &[u8] = b"0123456789abcdef";

fn pick(rng: &mut impl Rng, alphabet: &[u8], len: usize, out: &mut String) {
    for _ in 0..len {
        out.push(alphabet[rng.random_range(0..alphabet.len())] as char);
    }
}

/// A random version-4 UUID, as CloudTrail's `eventID` and `requestID`.
pub fn uuid(rng: &mut impl Rng) -> String {
    let v: u128 = rng.random();
    let v = (v & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An IAM unique id or key id: `prefix` then uppercase base32 up to 20 characters
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes>).
pub fn iam_id(rng: &mut impl Rng, prefix: &str) -> String {
    let mut out = String::with_capacity(21);
    out.push_str(prefix);
    pick(rng, UPPER_ALNUM, 20 - prefix.len().min(20), &mut out);
    out
}

/// `len` lowercase hex digits.
pub fn hex(rng: &mut impl Rng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    pick(rng, HEX, len, &mut out);
    out
}

/// Letters and digits, as in S3 request ids and file-name suffixes.
pub fn alnum(rng: &mut impl Rng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    pick(
        rng,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        len,
        &mut out,
    );
    out
}

/// A sub-seed for a named part of the trail, so that each part draws its own sequence
/// whatever order the parts are generated in.
pub fn derive(seed: u64, label: &str, index: u64) -> u64 {
    xxh3_64_with_seed(
        label.as_bytes(),
        seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

/// A generator for one named part of the trail.
pub fn rng_for(seed: u64, label: &str, index: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha8Rng::seed_from_u64(derive(seed, label, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let mut rng = rng_for(7, "t", 0);
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        let key = iam_id(&mut rng, "ASIA");
        assert_eq!(key.len(), 20);
        assert!(key.starts_with("ASIA"));
        assert_eq!(uuid(&mut rng_for(7, "x", 1)), uuid(&mut rng_for(7, "x", 1)));
        assert_ne!(uuid(&mut rng_for(7, "x", 1)), uuid(&mut rng_for(7, "x", 2)));
    }
}
