//! A small XML writer for Open311's XML format: elements with text, nothing else. Text is
//! escaped, and characters XML 1.0 cannot carry at all are dropped, so the output is always
//! well-formed whatever a field holds.

/// An XML document under construction.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
        }
    }

    pub(crate) fn open(&mut self, name: &str) -> &mut XmlWriter {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub(crate) fn close(&mut self, name: &str) -> &mut XmlWriter {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`.
    pub(crate) fn element(&mut self, name: &str, text: &str) -> &mut XmlWriter {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

impl Default for XmlWriter {
    fn default() -> XmlWriter {
        XmlWriter::new()
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_unrepresentable_characters_dropped() {
        let mut w = XmlWriter::new();
        w.open("errors")
            .element("description", "<script>alert('x')</script> & \"q\"\u{1}")
            .close("errors");
        let xml = w.finish();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(xml.ends_with(
            "<errors><description>&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; \
             &amp; &quot;q&quot;</description></errors>"
        ));
    }
}
