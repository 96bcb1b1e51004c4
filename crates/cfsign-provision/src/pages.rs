//! One loop for CloudFront's `Marker`/`NextMarker` list operations (ListPublicKeys,
//! ListKeyGroups), which aws-sdk-cloudfront has no paginator for.

use crate::Error;

/// One page of a list answer.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The page's items.
    pub(crate) items: Vec<T>,
    /// Where the next page starts (`None` or empty on the last page).
    pub(crate) next_marker: Option<String>,
}

impl<T> Page<T> {
    /// A page from a list answer's `NextMarker` and `Items` (either may be missing), keeping
    /// the items `item` turns into something.
    pub(crate) fn new<S>(
        list: Option<(Option<String>, Option<Vec<S>>)>,
        item: impl FnMut(S) -> Option<T>,
    ) -> Page<T> {
        let (next_marker, items) = list.unwrap_or_default();
        Page {
            items: items.into_iter().flatten().filter_map(item).collect(),
            next_marker,
        }
    }
}

/// At most this many pages are read: an endpoint that keeps answering with new markers cannot
/// keep a command busy for ever.
const MAX_PAGES: usize = 1000;

/// Collects the items of every page. `fetch` gets the marker (`None` for the first page) and
/// returns that page; the loop stops at the last page, at a marker it has already seen, or after
/// [`MAX_PAGES`] pages.
pub(crate) async fn collect_pages<T, F>(
    mut fetch: impl FnMut(Option<String>) -> F,
) -> Result<Vec<T>, Error>
where
    F: Future<Output = Result<Page<T>, Error>>,
{
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(marker.clone()).await?;
        out.extend(page.items);
        match page.next_marker.filter(|m| !m.is_empty()) {
            Some(next) if Some(&next) != marker.as_ref() => marker = Some(next),
            _ => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `pages` as (marker asked for → items, next marker); returns what was collected and
    /// the markers asked for.
    fn check(pages: &[(Option<&str>, &[u32], Option<&str>)]) -> (Vec<u32>, Vec<Option<String>>) {
        let mut asked = Vec::new();
        let items = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(collect_pages(|marker: Option<String>| {
                asked.push(marker.clone());
                let (_, items, next) = pages
                    .iter()
                    .find(|(m, _, _)| m.map(str::to_owned) == marker)
                    .unwrap();
                std::future::ready(Ok(Page {
                    items: items.to_vec(),
                    next_marker: next.map(str::to_owned),
                }))
            }))
            .unwrap();
        (items, asked)
    }

    #[test]
    fn follows_markers_until_the_last_page() {
        let (items, asked) = check(&[
            (None, &[1, 2], Some("m1")),
            (Some("m1"), &[3], Some("m2")),
            (Some("m2"), &[4], None),
        ]);
        assert_eq!(items, [1, 2, 3, 4]);
        assert_eq!(asked, [None, Some("m1".into()), Some("m2".into())]);
        let (items, _) = check(&[(None, &[1], Some(""))]);
        assert_eq!(items, [1], "an empty marker ends the list");
        let (items, asked) = check(&[(None, &[1], Some("m")), (Some("m"), &[2], Some("m"))]);
        assert_eq!(items, [1, 2], "a repeated marker ends the list");
        assert_eq!(asked.len(), 2);
    }

    #[test]
    fn stops_after_max_pages() {
        let mut calls = 0;
        let items = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(collect_pages(|_marker: Option<String>| {
                calls += 1;
                std::future::ready(Ok(Page {
                    items: vec![calls],
                    next_marker: Some(format!("m{calls}")),
                }))
            }))
            .unwrap();
        assert_eq!(items.len(), MAX_PAGES);
    }
}
