//! The public tracking code printed on every slip (DESIGN.md §4).
//!
//! Sixteen Crockford base32 characters carry 80 random bits; a seventeenth is a check character.
//! The check is a weighted sum over GF(32): data character `i` (0-based) is multiplied by the
//! weight `α^(i+1)`, the check character by `α^0 = 1`, and a valid code sums to zero. Because every weight is
//! a distinct non-zero element of the field, a single wrong character changes the sum by
//! `weight × difference ≠ 0`, and swapping any two different characters (adjacent or not, the
//! check included) changes it by `(w_i + w_j)(a + b) ≠ 0`. So every single typo and every swap is
//! caught, and the check character stays inside the 32-symbol alphabet (Crockford's own mod-37
//! check needs symbols like `~` and `=` that a QR code's alphanumeric mode cannot carry).
//!
//! Codes are upper case so that the tracking URL encodes in QR alphanumeric mode. Reading is
//! forgiving the way Crockford intends: lower case, spaces and dashes are fine, `O` reads as `0`
//! and `I`/`L` as `1`.

use std::fmt;

/// Crockford's base32 alphabet: digits and letters without I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Data characters (80 bits).
pub(crate) const DATA_LEN: usize = 16;
/// Data characters plus the check character.
pub(crate) const CODE_LEN: usize = DATA_LEN + 1;
/// Random bytes a new token needs.
pub const RANDOM_BYTES: usize = 10;

/// A valid tracking code, stored in its canonical form: 17 upper-case characters, no dashes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingToken(String);

/// Why a typed or scanned code is not a tracking code. The messages are meant for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the tracking code is empty")]
    Empty,
    #[error("a tracking code has {expected} characters; this one has {found}")]
    WrongLength { found: usize, expected: usize },
    #[error("character {position} ('{found}') cannot appear in a tracking code")]
    InvalidCharacter { found: char, position: usize },
    #[error("the tracking code has a typo: its check character does not match (a character is wrong or two are swapped)")]
    CheckFailed,
}

impl TrackingToken {
    /// Makes a token from 80 random bits (the caller supplies the randomness).
    pub fn from_random(bytes: [u8; RANDOM_BYTES]) -> TrackingToken {
        let mut values = [0u8; CODE_LEN];
        let mut acc: u128 = 0;
        for b in bytes {
            acc = (acc << 8) | u128::from(b);
        }
        for (i, slot) in values.iter_mut().take(DATA_LEN).enumerate() {
            let shift = 5 * (DATA_LEN - 1 - i);
            *slot = ((acc >> shift) & 0x1f) as u8;
        }
        values[DATA_LEN] = check_value(&values[..DATA_LEN]);
        TrackingToken(
            values
                .iter()
                .map(|&v| ALPHABET[v as usize] as char)
                .collect(),
        )
    }

    /// Reads a code as a resident types it or a scanner reads it.
    pub fn parse(input: &str) -> Result<TrackingToken, TokenError> {
        let mut values = Vec::with_capacity(CODE_LEN);
        let mut position = 0;
        for c in input.chars() {
            if c.is_whitespace() || matches!(c, '-' | '‐' | '–' | '—' | '－' | '_') {
                continue;
            }
            position += 1;
            match value_of(c) {
                Some(v) => values.push(v),
                None => {
                    return Err(TokenError::InvalidCharacter { found: c, position });
                }
            }
        }
        if values.is_empty() {
            return Err(TokenError::Empty);
        }
        if values.len() != CODE_LEN {
            return Err(TokenError::WrongLength {
                found: values.len(),
                expected: CODE_LEN,
            });
        }
        if check_value(&values[..DATA_LEN]) != values[DATA_LEN] {
            return Err(TokenError::CheckFailed);
        }
        Ok(TrackingToken(
            values
                .iter()
                .map(|&v| ALPHABET[v as usize] as char)
                .collect(),
        ))
    }

    /// Reads what a barcode scanner or a resident gives: a tracking URL (`…/T/<TOKEN>`, any
    /// case, with or without a query) or the code itself.
    pub fn from_scan(input: &str) -> Result<TrackingToken, TokenError> {
        let trimmed = input.trim();
        let upper = trimmed.to_ascii_uppercase();
        let code = match upper.rfind("/T/") {
            Some(at) => {
                let rest = &trimmed[at + 3..];
                rest.split(['?', '#', '/']).next().unwrap_or("")
            }
            None => trimmed,
        };
        TrackingToken::parse(code)
    }

    /// The canonical form: 17 characters, upper case, no separators (as in URLs and the database).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form people read: groups of four and the check character, `7K3Q-9XPD-2W4M-HT8C-X`.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(CODE_LEN + 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for TrackingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TrackingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingToken({})", self.0)
    }
}

impl std::str::FromStr for TrackingToken {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrackingToken::parse(s)
    }
}

/// The tracking URL of a case: `<base>/T/<TOKEN>`, the page the slip's QR code opens.
pub fn tracking_url(base: &str, token: &TrackingToken) -> String {
    format!("{}/T/{}", base.trim_end_matches('/'), token.as_str())
}

/// The form of a URL that goes into a QR code. Scheme and host are case-insensitive, so when
/// the rest of the URL (path and all) is already upper case, digits and `/ : . - $ % * +`, the
/// scheme and host are upper-cased too: the whole URL then fits QR alphanumeric mode, which
/// makes a smaller symbol that scans more easily off a thermal slip. Otherwise it is unchanged.
pub fn qr_payload(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let alnum = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || " $%*+-./:".contains(c);
    if path.chars().all(alnum)
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
    {
        format!(
            "{}://{}{}",
            scheme.to_ascii_uppercase(),
            host.to_ascii_uppercase(),
            path
        )
    } else {
        url.to_owned()
    }
}

fn value_of(c: char) -> Option<u8> {
    let upper = c.to_ascii_uppercase();
    let canonical = match upper {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == canonical)
        .map(|p| p as u8)
}

/// GF(32) multiplication, field built on the primitive polynomial x⁵ + x² + 1.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    product
}

/// The check character's value for 16 data values: Σ α^(i+1)·vᵢ, so that with the check at
/// weight 1 the whole code sums to zero.
fn check_value(data: &[u8]) -> u8 {
    let alpha = 2u8;
    let mut weight = alpha;
    let mut sum = 0u8;
    for &v in data {
        sum ^= gf_mul(weight, v);
        weight = gf_mul(weight, alpha);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TrackingToken {
        TrackingToken::from_random([0x3a, 0x71, 0xc2, 0x05, 0xff, 0x10, 0x99, 0x42, 0x00, 0x7e])
    }

    #[test]
    fn a_token_has_sixteen_data_characters_and_a_check() {
        let t = sample();
        assert_eq!(t.as_str().len(), CODE_LEN);
        assert!(t.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(TrackingToken::parse(t.as_str()), Ok(t.clone()));
    }

    #[test]
    fn grouped_form_is_four_by_four_then_check() {
        let g = sample().grouped();
        let groups: Vec<&str> = g.split('-').collect();
        assert_eq!(
            groups.iter().map(|s| s.len()).collect::<Vec<_>>(),
            [4, 4, 4, 4, 1]
        );
        assert_eq!(TrackingToken::parse(&g), Ok(sample()));
    }

    #[test]
    fn all_eighty_bits_reach_the_token() {
        let zero = TrackingToken::from_random([0; RANDOM_BYTES]);
        for byte in 0..RANDOM_BYTES {
            for bit in 0..8 {
                let mut r = [0u8; RANDOM_BYTES];
                r[byte] = 1 << bit;
                assert_ne!(
                    TrackingToken::from_random(r),
                    zero,
                    "byte {byte} bit {bit} was lost"
                );
            }
        }
    }

    #[test]
    fn reading_tolerates_case_spaces_dashes_and_look_alikes() {
        let t = sample();
        let messy: String = t
            .grouped()
            .to_ascii_lowercase()
            .replace('0', "o")
            .replace('1', "l")
            .replace('-', " - ");
        assert_eq!(TrackingToken::parse(&messy), Ok(t));
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let t = sample();
        let chars: Vec<char> = t.as_str().chars().collect();
        for pos in 0..CODE_LEN {
            for &replacement in ALPHABET.iter() {
                let replacement = replacement as char;
                if replacement == chars[pos] {
                    continue;
                }
                let mut typo = chars.clone();
                typo[pos] = replacement;
                let typo: String = typo.into_iter().collect();
                assert_eq!(
                    TrackingToken::parse(&typo),
                    Err(TokenError::CheckFailed),
                    "{typo}"
                );
            }
        }
    }

    #[test]
    fn every_swap_of_two_different_characters_is_caught() {
        for seed in 0u8..20 {
            let t =
                TrackingToken::from_random([seed.wrapping_mul(37); RANDOM_BYTES].map(|b| b ^ seed));
            let chars: Vec<char> = t.as_str().chars().collect();
            for i in 0..CODE_LEN {
                for j in i + 1..CODE_LEN {
                    if chars[i] == chars[j] {
                        continue;
                    }
                    let mut swapped = chars.clone();
                    swapped.swap(i, j);
                    let swapped: String = swapped.into_iter().collect();
                    assert_eq!(TrackingToken::parse(&swapped), Err(TokenError::CheckFailed));
                }
            }
        }
    }

    #[test]
    fn bad_codes_say_what_is_wrong() {
        assert_eq!(TrackingToken::parse("  - "), Err(TokenError::Empty));
        assert_eq!(
            TrackingToken::parse("ABCD-EFGH"),
            Err(TokenError::WrongLength {
                found: 8,
                expected: 17
            })
        );
        assert_eq!(
            TrackingToken::parse("ABCU"),
            Err(TokenError::InvalidCharacter {
                found: 'U',
                position: 4
            })
        );
        assert_eq!(
            TrackingToken::parse("查询码"),
            Err(TokenError::InvalidCharacter {
                found: '查',
                position: 1
            })
        );
    }

    #[test]
    fn tracking_urls_fit_qr_alphanumeric_mode_when_they_can() {
        let t = sample();
        let url = tracking_url("http://127.0.0.1:8787/", &t);
        assert_eq!(url, format!("http://127.0.0.1:8787/T/{}", t.as_str()));
        assert_eq!(
            qr_payload(&url),
            format!("HTTP://127.0.0.1:8787/T/{}", t.as_str())
        );
        let with_path = tracking_url("https://gov.example.cn/appeals", &t);
        assert_eq!(
            qr_payload(&with_path),
            with_path,
            "a lower-case path is case-sensitive"
        );
    }

    #[test]
    fn a_scanned_tracking_url_gives_its_code() {
        let t = sample();
        let url = tracking_url("http://127.0.0.1:8787", &t);
        assert_eq!(TrackingToken::from_scan(&url), Ok(t.clone()));
        assert_eq!(TrackingToken::from_scan(&qr_payload(&url)), Ok(t.clone()));
        assert_eq!(
            TrackingToken::from_scan(&format!("{url}?lang=en\r\n")),
            Ok(t.clone())
        );
        assert_eq!(TrackingToken::from_scan(&t.grouped()), Ok(t.clone()));
        assert!(TrackingToken::from_scan("https://example.org/T/").is_err());
    }

    #[test]
    fn gf32_multiplication_has_inverses() {
        for a in 1u8..32 {
            assert!((1u8..32).any(|b| gf_mul(a, b) == 1), "{a} has no inverse");
        }
    }
}
