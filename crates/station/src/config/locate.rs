//! Finds where in a station's `kiosk.toml` a key sits, so that every configuration error can
//! name its line. Works on the spanned parse tree of the `toml` crate.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            out.push(Step::Key(name));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Step::Index(i));
            }
        }
    }
    out
}

/// Line and column of `path` (`printer.profile`, `services[1].lane`): the key itself if the
/// file sets it, else the nearest enclosing entry the file has. `None` when the file has none
/// of it (the value came from the built-in defaults or the environment).
pub(crate) fn line_of_key(text: &str, path: &str) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    let mut found: Option<usize> = None;
    for step in steps(path) {
        match step {
            Step::Key(name) => {
                if let Some(v) = value {
                    table = v.get_ref().as_table()?;
                }
                let (key, v) = table.iter().find(|(k, _)| k.get_ref() == name)?;
                found = Some(key.span().start);
                value = Some(v);
            }
            Step::Index(i) => {
                let item = value?.get_ref().as_array()?.get(i)?;
                found = Some(item.span().start);
                value = Some(item);
            }
        }
    }
    found.map(|offset| line_col(text, offset))
}

/// The dotted path of the innermost key whose entry covers byte `offset`, to name the key in a
/// parse error that only carries a position.
pub(crate) fn key_at(text: &str, offset: Option<usize>) -> Option<String> {
    let offset = offset?;
    let root = DeTable::parse(text).ok()?;
    let mut path = String::new();
    innermost(root.get_ref(), offset, &mut path).then_some(path)
}

fn innermost(table: &DeTable<'_>, offset: usize, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        // A table opened by a `[header]` or a dotted key spans only its header or key, not the
        // entries under it, so look inside every table, whatever its own span.
        let mut inner = String::new();
        let inside = descend(value, offset, &mut inner);
        let covers = key.span().contains(&offset) || value.span().contains(&offset);
        if !(inside || covers) {
            continue;
        }
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        path.push_str(&inner);
        return true;
    }
    false
}

/// Appends the path below `value` (`.key` or `[i]…`) of the entry covering `offset`, if any.
fn descend(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => {
            let mut inner = String::new();
            let found = innermost(t, offset, &mut inner);
            if found {
                path.push('.');
                path.push_str(&inner);
            }
            found
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut inner = String::new();
                let inside = descend(item, offset, &mut inner);
                if inside || item.span().contains(&offset) {
                    path.push_str(&format!("[{i}]{inner}"));
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}
