//! A small XML element tree: parsing request bodies (namespaces ignored) and writing responses.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

/// The CloudFront API namespace, put on every root element.
pub(crate) const NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// The deepest nesting accepted (a DistributionConfig is about 8 deep).
const MAX_DEPTH: usize = 64;

/// An XML element: local name, text content and child elements in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Element {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// An element with text.
    pub(crate) fn text(name: &str, text: impl Into<String>) -> Element {
        Element {
            name: name.to_owned(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    /// An element with children.
    pub(crate) fn node(name: &str, children: Vec<Element>) -> Element {
        Element {
            name: name.to_owned(),
            text: String::new(),
            children,
        }
    }

    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first child called `name`, mutably.
    pub(crate) fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// The text of the first child called `name`.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The element at a path of child names.
    pub(crate) fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }

    /// Appends the element to `out` (with the namespace if `root`).
    pub(crate) fn write(&self, out: &mut String, root: bool) {
        out.push('<');
        out.push_str(&self.name);
        if root {
            out.push_str(" xmlns=\"");
            out.push_str(NS);
            out.push('"');
        }
        out.push('>');
        escape_into(&self.text, out);
        for child in &self.children {
            child.write(out, false);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    /// The element as a complete document with XML declaration and namespace.
    pub(crate) fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write(&mut out, true);
        out
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` into `out`.
pub(crate) fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Escapes text for XML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

/// Parses a document into its root element. The error says what is wrong, for a `MalformedXML` reply.
pub(crate) fn parse(input: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err("content after the root element".to_owned());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                let name = local_name(start.local_name().as_ref())?;
                stack.push(Element::node(&name, Vec::new()));
            }
            Event::Empty(start) => {
                let name = local_name(start.local_name().as_ref())?;
                let element = Element::node(&name, Vec::new());
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err("content after the root element".to_owned()),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match start names.
                let Some(mut element) = stack.pop() else {
                    return Err("unexpected closing tag".to_owned());
                };
                if !element.children.is_empty() {
                    // Whitespace between child elements is formatting, not content.
                    if element.text.trim().is_empty() {
                        element.text.clear();
                    }
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                // CloudFront's documents are XML 1.0: only CR LF and CR become LF. (XML 1.1 would
                // also turn U+0085 and U+2028 into LF and change names and comments.)
                let decoded = text.xml10_content().map_err(|e| e.to_string())?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err("text outside the root element".to_owned()),
                }
            }
            Event::CData(data) => {
                let decoded = data.xml10_content().map_err(|e| e.to_string())?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&decoded),
                    None => return Err("CDATA outside the root element".to_owned()),
                }
            }
            Event::GeneralRef(reference) => {
                let resolved =
                    if let Some(c) = reference.resolve_char_ref().map_err(|e| e.to_string())? {
                        c.to_string()
                    } else {
                        let name = reference.decode().map_err(|e| e.to_string())?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity `&{name};`"))?
                            .to_owned()
                    };
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&resolved),
                    None => return Err("entity outside the root element".to_owned()),
                }
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".to_owned()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    root.ok_or_else(|| "the body has no XML element".to_owned())
}

fn local_name(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| "an element name is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_document_with_entities() {
        let doc = r#"<?xml version="1.0"?>
<PublicKeyConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <Name>a &amp; b &#65;</Name><Comment><![CDATA[<x>]]></Comment><Empty/>
</PublicKeyConfig>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "PublicKeyConfig");
        assert_eq!(root.child_text("Name"), Some("a & b A"));
        assert_eq!(root.child_text("Comment"), Some("<x>"));
        assert_eq!(root.child_text("Empty"), Some(""));
        assert_eq!(root.text, "");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a>&bogus;</a>",
            "<!DOCTYPE a><a/>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(input in ".{0,200}") {
            let _ = parse(&input);
        }

        #[test]
        fn parse_never_panics_on_tag_soup(parts in proptest::collection::vec(
            proptest::sample::select(vec!["<a>", "</a>", "<b/>", "&amp;", "&#x41;", "&#0;", "&", "<![CDATA[x]]>", "<?x?>", "<!--c-->", "text", "<", ">", "\"", "<a b='1'>"]),
            0..30,
        )) {
            let _ = parse(&parts.concat());
        }

        #[test]
        fn any_text_round_trips(text in "\\PC{0,100}") {
            let e = Element::node("A", vec![Element::text("B", text.clone())]);
            let back = parse(&e.to_document()).unwrap();
            proptest::prop_assert_eq!(back.child_text("B"), Some(text.as_str()));
        }
    }

    #[test]
    fn xml10_line_ends() {
        // U+0085 and U+2028 are line ends only in XML 1.1; CR LF and CR are LF in both.
        for (text, expected) in [
            ("a\u{2028}b", "a\u{2028}b"),
            ("a\u{85}b", "a\u{85}b"),
            ("a\r\nb", "a\nb"),
            ("a\rb", "a\nb"),
        ] {
            let doc = format!("<A><B>{text}</B><C><![CDATA[{text}]]></C></A>");
            let root = parse(&doc).unwrap();
            assert_eq!(root.child_text("B"), Some(expected), "{text:?}");
            assert_eq!(root.child_text("C"), Some(expected), "{text:?} in CDATA");
        }
        // Written by us, a CR survives (as `&#13;`).
        let e = Element::node("A", vec![Element::text("B", "a\r\u{2028}b")]);
        let back = parse(&e.to_document()).unwrap();
        assert_eq!(back.child_text("B"), Some("a\r\u{2028}b"));
    }

    #[test]
    fn round_trips_with_escaping() {
        let e = Element::node("A", vec![Element::text("B", "<&>\"'")]);
        let doc = e.to_document();
        assert!(doc.contains("<B>&lt;&amp;&gt;&quot;&apos;</B>"));
        let back = parse(&doc).unwrap();
        assert_eq!(back, e);
    }
}
