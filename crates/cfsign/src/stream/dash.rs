//! DASH MPDs (ISO/IEC 23009-1): where the URIs are, and what each resolves to through the
//! `BaseURL` hierarchy (`MPD` → `Period` → `AdaptationSet` → `Representation`).
//!
//! The document is read with `quick-xml` for byte spans only; nothing is re-serialised. Elements
//! outside the structure below (and everything inside them) are opaque.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::Error;
use crate::stream::uri::Base;
use crate::stream::{Site, SkipReason, resolve_all};

/// At most this many `BaseURL` alternatives per level: more is not a real stream.
const MAX_BASES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mpd,
    Period,
    AdaptationSet,
    Representation,
    BaseUrl,
    SegmentTemplate,
    SegmentList,
    SegmentBase,
    SegmentUrl,
    Initialization,
    RepresentationIndex,
    BitstreamSwitching,
}

impl Kind {
    /// The kind of a `name` element inside a `self` element, if the rewriter reads it.
    fn child(self, name: &[u8]) -> Option<Kind> {
        use Kind::*;
        let kind = match name {
            b"BaseURL" => BaseUrl,
            b"Period" => Period,
            b"AdaptationSet" => AdaptationSet,
            b"Representation" => Representation,
            b"SegmentTemplate" => SegmentTemplate,
            b"SegmentList" => SegmentList,
            b"SegmentBase" => SegmentBase,
            b"SegmentURL" => SegmentUrl,
            b"Initialization" => Initialization,
            b"RepresentationIndex" => RepresentationIndex,
            b"BitstreamSwitching" => BitstreamSwitching,
            _ => return None,
        };
        let allowed = match self {
            Mpd => matches!(kind, BaseUrl | Period),
            Period => matches!(
                kind,
                BaseUrl | AdaptationSet | SegmentTemplate | SegmentList | SegmentBase
            ),
            AdaptationSet => matches!(
                kind,
                BaseUrl | Representation | SegmentTemplate | SegmentList | SegmentBase
            ),
            Representation => matches!(kind, BaseUrl | SegmentTemplate | SegmentList | SegmentBase),
            SegmentTemplate => matches!(
                kind,
                Initialization | RepresentationIndex | BitstreamSwitching
            ),
            SegmentList => matches!(
                kind,
                Initialization | RepresentationIndex | BitstreamSwitching | SegmentUrl
            ),
            SegmentBase => matches!(kind, Initialization | RepresentationIndex),
            BaseUrl | SegmentUrl | Initialization | RepresentationIndex | BitstreamSwitching => {
                false
            }
        };
        allowed.then_some(kind)
    }

    /// The attributes holding URIs.
    fn uri_attributes(self) -> &'static [&'static str] {
        match self {
            Kind::SegmentTemplate => &["media", "initialization", "index", "bitstreamSwitching"],
            Kind::SegmentUrl => &["media", "index"],
            Kind::Initialization | Kind::RepresentationIndex | Kind::BitstreamSwitching => {
                &["sourceURL"]
            }
            _ => &[],
        }
    }

    fn is_container(self) -> bool {
        matches!(
            self,
            Kind::Mpd | Kind::Period | Kind::AdaptationSet | Kind::Representation
        )
    }
}

/// A URI attribute: its name, the span of its value, and the value unescaped (`None` when it
/// holds entities the rewriter cannot decode).
#[derive(Debug)]
struct Attr {
    name: &'static str,
    span: Range<usize>,
    value: Option<String>,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    parent: Option<usize>,
    children: Vec<usize>,
    /// The first child of each kind (at most one entry per kind).
    first: Vec<(Kind, usize)>,
    /// The `BaseURL` children, in order.
    base_urls: Vec<usize>,
    attrs: Vec<Attr>,
    /// A `BaseURL`'s text: its span and value (`None` when it holds markup or unknown entities).
    text: Option<(Range<usize>, Option<String>)>,
    /// Written `<BaseURL/>`: there is no text to add to.
    self_closing: bool,
}

fn invalid(reason: String) -> Error {
    Error::InvalidManifest { reason }
}

/// The URI sites of an MPD.
pub(crate) fn scan(text: &str, base: &Base) -> Result<Vec<Site>, Error> {
    let nodes = parse(text)?;
    Ok(Resolver::new(&nodes, base).sites())
}

/// The known elements of the document, parents before children.
fn parse(text: &str) -> Result<Vec<Node>, Error> {
    // quick-xml skips a UTF-8 byte order mark without counting it in its positions: read the
    // text after it, and shift positions back into `text`.
    let shift = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut reader = Reader::from_str(&text[shift..]);
    let mut nodes: Vec<Node> = Vec::new();
    // One entry per open element: its node, or `None` for an element the rewriter does not read.
    let mut stack: Vec<Option<usize>> = Vec::new();
    // Where the text of each open `BaseURL` starts.
    let mut text_starts: Vec<(usize, usize)> = Vec::new();
    let mut root_seen = false;
    loop {
        let position = |reader: &Reader<&[u8]>| {
            usize::try_from(reader.buffer_position())
                .unwrap_or(usize::MAX)
                .saturating_add(shift)
        };
        let before = position(&reader);
        let event = reader.read_event().map_err(|e| {
            invalid(format!(
                "the MPD is not well-formed XML (near byte {}): {e}",
                reader.error_position()
            ))
        })?;
        let after = position(&reader);
        let (element, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                if let Some(Some(id)) = stack.pop()
                    && nodes[id].kind == Kind::BaseUrl
                    && let Some((_, start)) = text_starts.pop()
                {
                    nodes[id].text = Some(base_url_text(text, start..before));
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let local = element.local_name();
        let kind = if root_seen {
            match stack.last() {
                Some(Some(parent)) => nodes[*parent].kind.child(local.as_ref()),
                _ => None,
            }
        } else {
            root_seen = true;
            if local.as_ref() != b"MPD" {
                return Err(invalid(format!(
                    "the root element is <{}>, not <MPD>: this is not a DASH MPD",
                    String::from_utf8_lossy(local.as_ref())
                )));
            }
            Some(Kind::Mpd)
        };
        let id = match kind {
            Some(kind) => {
                let parent = stack.last().copied().flatten();
                let id = nodes.len();
                nodes.push(Node {
                    kind,
                    parent,
                    children: Vec::new(),
                    first: Vec::new(),
                    base_urls: Vec::new(),
                    attrs: attributes(text, element, kind)?,
                    text: None,
                    self_closing: empty,
                });
                if let Some(parent) = parent {
                    let parent = &mut nodes[parent];
                    parent.children.push(id);
                    if !parent.first.iter().any(|(k, _)| *k == kind) {
                        parent.first.push((kind, id));
                    }
                    if kind == Kind::BaseUrl {
                        parent.base_urls.push(id);
                    }
                }
                if kind == Kind::BaseUrl {
                    if empty {
                        nodes[id].text = Some((after..after, Some(String::new())));
                    } else {
                        text_starts.push((id, after));
                    }
                }
                Some(id)
            }
            None => None,
        };
        if !empty {
            stack.push(id);
        }
    }
    if !root_seen {
        return Err(invalid(
            "the document has no root element: a DASH MPD is an XML document with an <MPD> root"
                .to_owned(),
        ));
    }
    Ok(nodes)
}

/// The URI attributes of an element, with the spans of their values in `text`.
fn attributes(text: &str, element: &BytesStart<'_>, kind: Kind) -> Result<Vec<Attr>, Error> {
    let wanted = kind.uri_attributes();
    let mut out = Vec::new();
    for attr in element.attributes() {
        let attr = attr.map_err(|e| {
            invalid(format!(
                "the MPD is not well-formed XML: a bad attribute in <{}>: {e}",
                String::from_utf8_lossy(element.name().as_ref())
            ))
        })?;
        let key = attr.key.local_name();
        let Some(name) = wanted.iter().find(|w| w.as_bytes() == key.as_ref()) else {
            continue;
        };
        let raw: &[u8] = &attr.value;
        // The value borrows the document (the reader reads from `text`): its offset is its
        // address minus the document's. Checked, never assumed.
        let offset = (raw.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        let span = offset..offset.saturating_add(raw.len());
        if text.as_bytes().get(span.clone()) != Some(raw) {
            return Err(invalid(format!(
                "cannot locate the {name} attribute of <{}> in the document",
                String::from_utf8_lossy(element.name().as_ref())
            )));
        }
        let value = std::str::from_utf8(raw)
            .ok()
            .and_then(|v| quick_xml::escape::unescape(v).ok())
            .map(|v| v.into_owned());
        out.push(Attr { name, span, value });
    }
    Ok(out)
}

/// A `BaseURL`'s text between its tags: trimmed, unescaped; `None` for markup (comments,
/// CDATA) or entities that do not decode.
fn base_url_text(text: &str, content: Range<usize>) -> (Range<usize>, Option<String>) {
    let raw = text.get(content.clone()).unwrap_or_default();
    let lead = raw.len() - raw.trim_start().len();
    let trimmed = raw.trim();
    let span = content.start + lead..content.start + lead + trimmed.len();
    if trimmed.contains('<') {
        return (span, None);
    }
    let value = quick_xml::escape::unescape(trimmed)
        .ok()
        .map(|v| v.into_owned());
    (span, value)
}

/// The bases of one level: the URLs its relative references resolve against (one per `BaseURL`
/// alternative), and the node that set them (`None`: the manifest URL).
#[derive(Debug, Clone)]
struct Bases {
    urls: Result<Vec<Base>, SkipReason>,
    source: Option<usize>,
}

struct Resolver<'a> {
    nodes: &'a [Node],
    /// Per node: the bases of that level (containers only; others copy their parent's).
    bases: Vec<Bases>,
    /// The bases the level above resolves its `BaseURL`s against.
    manifest: Bases,
    sites: Vec<Site>,
    /// (node, attribute index) → site; `BaseURL` node → site.
    attr_sites: HashMap<(usize, usize), usize>,
    base_sites: HashMap<usize, usize>,
    /// (site, bases source) pairs already resolved.
    done: HashSet<(usize, Option<usize>)>,
    /// (segment information element, bases source) pairs already resolved.
    done_info: HashSet<(usize, Option<usize>)>,
    /// Per `SegmentList`: whether every `SegmentURL` has `media`.
    list_media: HashMap<usize, bool>,
}

impl<'a> Resolver<'a> {
    fn new(nodes: &'a [Node], base: &Base) -> Resolver<'a> {
        let manifest = Bases {
            urls: Ok(vec![base.clone()]),
            source: None,
        };
        let mut bases: Vec<Bases> = Vec::with_capacity(nodes.len());
        for (id, node) in nodes.iter().enumerate() {
            let inherited = match node.parent {
                Some(parent) => bases[parent].clone(),
                None => manifest.clone(),
            };
            let own: Vec<&Node> = node.base_urls.iter().map(|&c| &nodes[c]).collect();
            if !node.kind.is_container() || own.is_empty() {
                bases.push(inherited);
                continue;
            }
            let urls = match inherited.urls {
                Err(reason) => Err(reason),
                Ok(parent_urls) => own
                    .iter()
                    .map(|b| match &b.text {
                        Some((_, Some(reference))) => resolve_all(&parent_urls, reference),
                        _ => Err(SkipReason::NotUnderstood),
                    })
                    .collect::<Result<Vec<Vec<Base>>, SkipReason>>()
                    .map(|all| {
                        let mut flat: Vec<Base> = all.into_iter().flatten().collect();
                        flat.dedup();
                        flat
                    })
                    .and_then(|flat| {
                        if flat.len() > MAX_BASES {
                            Err(SkipReason::NotUnderstood)
                        } else {
                            Ok(flat)
                        }
                    }),
            };
            bases.push(Bases {
                urls,
                source: Some(id),
            });
        }
        let mut resolver = Resolver {
            nodes,
            bases,
            manifest,
            sites: Vec::new(),
            attr_sites: HashMap::new(),
            base_sites: HashMap::new(),
            done: HashSet::new(),
            done_info: HashSet::new(),
            list_media: HashMap::new(),
        };
        for (id, node) in nodes.iter().enumerate() {
            for (index, attr) in node.attrs.iter().enumerate() {
                let site = resolver.sites.len();
                resolver.sites.push(Site {
                    span: attr.span.clone(),
                    text: attr.value.clone().unwrap_or_default(),
                    targets: match attr.value {
                        Some(_) => Ok(Vec::new()),
                        None => Err(SkipReason::NotUnderstood),
                    },
                });
                resolver.attr_sites.insert((id, index), site);
            }
        }
        resolver
    }

    /// Resolves `site` against `bases` (once per source of bases).
    fn apply(&mut self, site: usize, bases: &Bases) {
        if !self.done.insert((site, bases.source)) {
            return;
        }
        let text = self.sites[site].text.clone();
        let resolved = match &bases.urls {
            Ok(urls) => resolve_all(urls, &text),
            Err(reason) => Err(*reason),
        };
        let targets = &mut self.sites[site].targets;
        match (targets.as_mut(), resolved) {
            (Ok(list), Ok(more)) => {
                for url in more {
                    if !list.contains(&url) {
                        list.push(url);
                    }
                }
            }
            (Ok(_), Err(reason)) => *targets = Err(reason),
            (Err(_), _) => {}
        }
    }

    /// The child of `container` of `kind`, if any (the first).
    fn child(&self, container: usize, kind: Kind) -> Option<usize> {
        self.nodes[container]
            .first
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
    }

    /// `node` and its container ancestors, innermost first.
    fn chain(&self, node: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut at = Some(node);
        while let Some(id) = at {
            chain.push(id);
            at = self.nodes[id].parent;
        }
        chain
    }

    fn sites(mut self) -> Vec<Site> {
        let representations: Vec<usize> = (0..self.nodes.len())
            .filter(|&id| self.nodes[id].kind == Kind::Representation)
            .collect();
        for rep in representations {
            self.representation(rep);
        }
        // URIs that apply to no Representation still resolve against their own level.
        for id in 0..self.nodes.len() {
            for index in 0..self.nodes[id].attrs.len() {
                let Some(&site) = self.attr_sites.get(&(id, index)) else {
                    continue;
                };
                if self.sites[site].targets.as_ref().is_ok_and(Vec::is_empty) {
                    let bases = self.bases[id].clone();
                    self.apply(site, &bases);
                }
            }
        }
        self.sites
    }

    /// Resolves every URI that applies to one `Representation`.
    fn representation(&mut self, rep: usize) {
        let chain = self.chain(rep);
        let bases = self.bases[rep].clone();
        let containers: Vec<usize> = chain
            .iter()
            .copied()
            .filter(|&c| self.nodes[c].kind != Kind::Mpd)
            .collect();
        // SegmentTemplate attributes inherit one by one: the nearest template that has each.
        let mut template_media = false;
        for name in Kind::SegmentTemplate.uri_attributes() {
            let found = containers.iter().find_map(|&c| {
                let template = self.child(c, Kind::SegmentTemplate)?;
                let index = self.nodes[template]
                    .attrs
                    .iter()
                    .position(|a| a.name == *name)?;
                Some((template, index))
            });
            if let Some(key) = found {
                template_media |= *name == "media";
                if let Some(&site) = self.attr_sites.get(&key) {
                    self.apply(site, &bases);
                }
            }
        }
        // The nearest SegmentTemplate, SegmentList and SegmentBase: their child elements' URIs.
        let mut list_all_media = None;
        for kind in [Kind::SegmentTemplate, Kind::SegmentList, Kind::SegmentBase] {
            let Some(info) = containers.iter().find_map(|&c| self.child(c, kind)) else {
                continue;
            };
            if kind == Kind::SegmentList {
                list_all_media = Some(self.all_have_media(info));
            }
            // Representations that share their bases share the outcome: resolve once.
            if !self.done_info.insert((info, bases.source)) {
                continue;
            }
            for child in self.nodes[info].children.clone() {
                for index in 0..self.nodes[child].attrs.len() {
                    if let Some(&site) = self.attr_sites.get(&(child, index)) {
                        self.apply(site, &bases);
                    }
                }
            }
        }
        // Without a media template or a full SegmentList, the media is the BaseURL itself.
        if !template_media && list_all_media != Some(true) {
            self.media_base_url(&chain);
        }
    }

    /// Whether the `SegmentList` `list` has `SegmentURL`s, all with `media` (else the media is
    /// the `BaseURL` itself, read by byte ranges).
    fn all_have_media(&mut self, list: usize) -> bool {
        if let Some(&known) = self.list_media.get(&list) {
            return known;
        }
        let mut urls = 0usize;
        let mut with_media = 0usize;
        for &child in &self.nodes[list].children {
            let node = &self.nodes[child];
            if node.kind == Kind::SegmentUrl {
                urls += 1;
                with_media += usize::from(node.attrs.iter().any(|a| a.name == "media"));
            }
        }
        let all = urls > 0 && urls == with_media;
        self.list_media.insert(list, all);
        all
    }

    /// Makes the innermost `BaseURL`s of `chain` sites: they are what the player requests.
    fn media_base_url(&mut self, chain: &[usize]) {
        let Some(&level) = chain
            .iter()
            .find(|&&c| self.child(c, Kind::BaseUrl).is_some())
        else {
            return;
        };
        let parent_bases = match self.nodes[level].parent {
            Some(parent) => self.bases[parent].clone(),
            None => self.manifest.clone(),
        };
        let base_urls = self.nodes[level].base_urls.clone();
        for b in base_urls {
            let site = match self.base_sites.get(&b) {
                Some(&site) => site,
                None => {
                    let (span, value) = match &self.nodes[b].text {
                        Some((span, value)) => (span.clone(), value.clone()),
                        None => continue,
                    };
                    let site = self.sites.len();
                    let readable = value.is_some() && !self.nodes[b].self_closing;
                    self.sites.push(Site {
                        span,
                        targets: if readable {
                            Ok(Vec::new())
                        } else {
                            Err(SkipReason::NotUnderstood)
                        },
                        text: value.unwrap_or_default(),
                    });
                    self.base_sites.insert(b, site);
                    site
                }
            };
            self.apply(site, &parent_bases);
        }
    }
}
