//! Sigma's value-encoding modifiers (<https://sigmahq.io/docs/basics/modifiers.html>):
//! `wide`/`utf16le`, `utf16be` and `utf16` (UTF-16 with a byte-order mark) turn the value
//! into bytes; `base64` encodes them; `base64offset` gives the three encodings the value
//! has inside a longer base64 text, whatever its offset (as pySigma computes them).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsigma_parser::{Modifier, SigmaString};

/// Whether `modifiers` encode the value.
pub fn encodes(modifiers: &[Modifier]) -> bool {
    modifiers
        .iter()
        .any(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset))
}

/// The texts to look for instead of `value`: one, or three for `base64offset`.
pub fn encoded(value: &SigmaString, modifiers: &[Modifier]) -> Result<Vec<String>, String> {
    let Some(text) = value.as_plain().filter(|_| !value.contains_wildcards()) else {
        return Err("a base64 value cannot hold wildcards".into());
    };
    let bytes = if modifiers.contains(&Modifier::Wide) {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else if modifiers.contains(&Modifier::Utf16be) {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    } else if modifiers.contains(&Modifier::Utf16) {
        [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    } else {
        text.into_bytes()
    };
    if !modifiers.contains(&Modifier::Base64Offset) {
        return Ok(vec![STANDARD.encode(&bytes)]);
    }
    // Shifted by 0, 1 and 2 bytes, without the characters the neighbouring bytes change.
    Ok((0..3)
        .map(|shift| {
            let mut shifted = vec![b' '; shift];
            shifted.extend_from_slice(&bytes);
            let text = STANDARD.encode(&shifted);
            let start = [0, 2, 3][shift];
            let cut = [0, 3, 2][(bytes.len() + shift) % 3];
            text[start..text.len() - cut].to_string()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_its_offsets_are_pysigmas() {
        let value = SigmaString::new("/bin/bash");
        assert_eq!(
            encoded(&value, &[Modifier::Base64]).unwrap(),
            ["L2Jpbi9iYXNo"]
        );
        // The SigmaHQ documentation's example for base64offset|contains: /bin/bash.
        assert_eq!(
            encoded(&value, &[Modifier::Base64Offset]).unwrap(),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
        assert_eq!(
            encoded(&SigmaString::new("ab"), &[Modifier::Base64, Modifier::Wide]).unwrap(),
            ["YQBiAA=="]
        );
        assert!(encoded(&SigmaString::new("a*"), &[Modifier::Base64]).is_err());
    }
}
