//! Contact phone numbers: a mainland mobile number, or a landline with its area code.

use std::fmt;

/// A validated phone number in canonical form: digits only, landlines with their leading `0`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number contains '{0}'; only digits, spaces, dashes and a leading +86 are allowed")]
    InvalidCharacter(char),
    #[error("{0} is not a mainland mobile number (11 digits starting 13–19) or a landline with its area code (e.g. 010 62345678, 0755 2345678)")]
    NotAPhoneNumber(String),
}

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let mut digits = String::new();
        for (i, c) in input.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
                ' ' | '-' | '(' | ')' | '（' | '）' | '－' => {}
                '+' if i == 0 => {}
                other => return Err(PhoneError::InvalidCharacter(other)),
            }
        }
        let national = if digits.len() == 15 && digits.starts_with("0086") {
            &digits[4..]
        } else if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else {
            &digits[..]
        };
        if is_mobile(national) || landline_split(national).is_some() {
            Ok(Phone(national.to_owned()))
        } else {
            Err(PhoneError::NotAPhoneNumber(input.trim().to_owned()))
        }
    }

    /// Digits only, as stored and sent upstream.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How the number is shown back to the resident: `138 0013 8000`, `0755-1234567`.
    pub fn display(&self) -> String {
        if let Some((area, local)) = landline_split(&self.0) {
            format!("{area}-{local}")
        } else {
            format!("{} {} {}", &self.0[..3], &self.0[3..7], &self.0[7..])
        }
    }

    /// The number with all but the last four digits hidden, for screens others may see.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!(
            "{}{}",
            "•".repeat(n.saturating_sub(4)),
            &self.0[n.saturating_sub(4)..]
        )
    }
}

fn is_mobile(d: &str) -> bool {
    d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9')
}

/// Splits a landline into area code and local number. Area codes are `010` and `02x` (with
/// 8-digit local numbers) or four digits `0xyz` with x in 3–9 (7- or 8-digit local numbers);
/// local numbers never start with 0 or 1.
fn landline_split(d: &str) -> Option<(&str, &str)> {
    if !d.starts_with('0') || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = d.as_bytes();
    let area_len = match b.get(1)? {
        b'1' if b.get(2) == Some(&b'0') => 3,
        b'2' => 3,
        b'3'..=b'9' => 4,
        _ => return None,
    };
    let local = &d[area_len.min(d.len())..];
    let local_ok = match area_len {
        3 => local.len() == 8,
        _ => local.len() == 7 || local.len() == 8,
    };
    (local_ok && !matches!(local.as_bytes()[0], b'0' | b'1')).then(|| (&d[..area_len], local))
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl fmt::Debug for Phone {
    // Phone numbers are personal data: debug output (which can end up in logs) shows them masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Phone::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobiles_are_accepted_in_common_spellings() {
        for s in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "008613800138000",
            "１３８００１３８０００",
        ] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "13800138000", "{s}");
        }
        assert_eq!(
            Phone::parse("19912345678").unwrap().display(),
            "199 1234 5678"
        );
    }

    #[test]
    fn landlines_need_their_area_code() {
        assert_eq!(
            Phone::parse("010-62345678").unwrap().display(),
            "010-62345678"
        );
        assert_eq!(
            Phone::parse("0755 2345678").unwrap().display(),
            "0755-2345678"
        );
        assert_eq!(
            Phone::parse("(021) 62345678").unwrap().as_str(),
            "02162345678"
        );
        assert!(
            Phone::parse("12345678").is_err(),
            "a local number alone is not enough"
        );
        assert!(
            Phone::parse("010-6234567").is_err(),
            "Beijing numbers have 8 digits"
        );
        assert!(
            Phone::parse("0755-0234567").is_err(),
            "local numbers never start with 0"
        );
    }

    #[test]
    fn wrong_numbers_say_why() {
        assert_eq!(
            Phone::parse("1380013800a"),
            Err(PhoneError::InvalidCharacter('a'))
        );
        assert!(matches!(
            Phone::parse("12800138000"),
            Err(PhoneError::NotAPhoneNumber(_))
        ));
        assert!(matches!(
            Phone::parse("1380013800"),
            Err(PhoneError::NotAPhoneNumber(_))
        ));
        assert!(matches!(
            Phone::parse("138001380001"),
            Err(PhoneError::NotAPhoneNumber(_))
        ));
        assert!(matches!(
            Phone::parse(""),
            Err(PhoneError::NotAPhoneNumber(_))
        ));
    }

    #[test]
    fn debug_output_masks_the_number() {
        let p = Phone::parse("13800138000").unwrap();
        assert_eq!(format!("{p:?}"), "Phone(•••••••8000)");
    }
}
