//! One list-then-watch session of one kind: list the truth into the store
//! (replacing what was there, so what went away during an outage goes),
//! then watch from the list's version, resuming when the server ends a
//! watch at its timeout, until something goes wrong. Every request has a
//! deadline, and a watch that brings nothing (no event, no bookmark, no
//! end) for longer than the server was asked to keep it open is a hung
//! server: kube-runtime's watcher would wait on such a server for ever,
//! and resume a broken watch from a version the server may not have.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::api::{ListParams, ObjectList, WatchEvent, WatchParams};
use kube::core::{ListMeta, Status};
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::Event;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, timeout};

use super::watch::Trim;

/// How long the server is asked to keep a watch open; it then ends it and
/// the session resumes from the last version seen, on the same connection.
const WATCH_SECONDS: u32 = 15;
/// Silence on a watch beyond its timeout and this margin is a hung server.
const IDLE: Duration = Duration::from_secs(WATCH_SECONDS as u64 + 5);
/// A watch that ends sooner did not reach its timeout.
const ENDS_AFTER: Duration = Duration::from_secs(WATCH_SECONDS as u64 - 1);
/// Deadlines for one page of a list and for a watch's response headers.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);
const START_TIMEOUT: Duration = Duration::from_secs(10);
const PAGE: u32 = 500;
/// The first page of a first list is smaller: it is the one a user waits
/// for, a server's time for a page grows with its objects (a real
/// apiserver's first 500 pods took 130 ms on 2 cores), and 100 rows fill
/// any screen.
const FIRST_PAGE: u32 = 100;

/// Why a session ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trouble {
    /// The server no longer has, or never had, the version the watch
    /// resumes from (410 Gone; a version from before a restart): relist.
    Desync(String),
    /// The watch ended before its timeout: the connection broke, or the
    /// server went away (kube reports a cut stream as a quiet end). The
    /// server behind the address may be another one now: relist.
    Broken(String),
    /// No answer in time, a broken connection, or a server error.
    Unreachable(String),
    /// The server refused (403, 404, ...).
    Rejected(String),
}

impl Trouble {
    pub(crate) fn of(e: &kube::Error) -> Trouble {
        match e {
            kube::Error::Api(s) => Trouble::of_status(s),
            other => Trouble::Unreachable(other.to_string()),
        }
    }

    pub(crate) fn of_status(s: &Status) -> Trouble {
        let too_large = s.message.contains("Too large resource version")
            || s.details.as_ref().is_some_and(|d| {
                d.causes
                    .iter()
                    .any(|c| c.reason == "ResourceVersionTooLarge")
            });
        let what = format!("{} {}", s.code, s.message);
        if s.code == 410 || too_large {
            Trouble::Desync(what)
        } else if s.code >= 500 || s.code == 429 {
            Trouble::Unreachable(what)
        } else {
            Trouble::Rejected(what)
        }
    }
}

/// What a session tells its caller as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// A complete list of this many objects is in the store.
    Listed(usize),
    /// The first list has put this many objects in the store so far.
    Page(usize),
    /// An object was added, changed or deleted.
    Changed,
    /// A bookmark: the watch is alive with nothing to tell.
    Alive,
    /// The server answered a watch request in this time: its latency.
    Answered(Duration),
}

/// Runs one session of the objects `fields` selects (`fieldSelector`;
/// "" for all); its trouble, or None once `on` returns false (no one is
/// listening any more).
pub(crate) async fn run<K>(
    api: &Api<K>,
    fields: &str,
    writer: &mut Writer<K>,
    mut on: impl FnMut(Progress) -> bool,
) -> Option<Trouble>
where
    K: Trim + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let (mut rv, n) = match list(api, fields, writer, &mut on).await {
        Ok(listed) => listed,
        Err(t) => return Some(t),
    };
    if !on(Progress::Listed(n)) {
        return None;
    }
    loop {
        let mut wp = WatchParams::default().timeout(WATCH_SECONDS);
        if !fields.is_empty() {
            wp = wp.fields(fields);
        }
        let asked = Instant::now();
        let stream = match timeout(START_TIMEOUT, api.watch(&wp, &rv)).await {
            Err(_) => return Some(no_answer("a watch", START_TIMEOUT)),
            Ok(Err(e)) => return Some(Trouble::of(&e)),
            Ok(Ok(s)) => s,
        };
        // The watch's headers come back before any event: a round trip.
        if !on(Progress::Answered(asked.elapsed())) {
            return None;
        }
        futures::pin_mut!(stream);
        let started = Instant::now();
        loop {
            let event = match timeout(IDLE, stream.next()).await {
                Err(_) => return Some(no_answer("a watch", IDLE)),
                // The server's timeout: resume where it stopped. A quiet
                // kind hears nothing in a window (kube-apiserver bookmarks
                // about once a minute, not before a 15 s timeout), so
                // silence is no desync. A server that restarted cut the
                // watch, and a cut watch relists.
                Ok(None) if started.elapsed() >= ENDS_AFTER => break,
                Ok(None) => {
                    let after = started.elapsed().as_secs();
                    return Some(Trouble::Broken(format!(
                        "the watch ended after {after}s, before its timeout"
                    )));
                }
                Ok(Some(Err(e))) => return Some(Trouble::of(&e)),
                Ok(Some(Ok(event))) => event,
            };
            let progress = match event {
                WatchEvent::Added(mut o) | WatchEvent::Modified(mut o) => {
                    advance(&mut rv, &o);
                    o.trim();
                    writer.apply_watcher_event(&Event::Apply(o));
                    Progress::Changed
                }
                WatchEvent::Deleted(o) => {
                    advance(&mut rv, &o);
                    writer.apply_watcher_event(&Event::Delete(o));
                    Progress::Changed
                }
                WatchEvent::Bookmark(b) => {
                    rv = b.metadata.resource_version;
                    Progress::Alive
                }
                WatchEvent::Error(s) => return Some(Trouble::of_status(&s)),
            };
            if !on(progress) {
                return None;
            }
        }
    }
}

fn advance<K: Resource>(rv: &mut String, o: &K) {
    if let Some(v) = o.meta().resource_version.as_ref().filter(|v| !v.is_empty()) {
        v.clone_into(rv);
    }
}

fn no_answer(what: &str, after: Duration) -> Trouble {
    Trouble::Unreachable(format!("no answer to {what} in {}s", after.as_secs()))
}

/// Lists every page into the store; the list's version and how many
/// objects it had. A relist replaces the store once the last page is in, so
/// what went away during an outage goes. The first list (an empty store,
/// nothing to replace) puts each page in as it comes, the first a small
/// one, so the first rows show while the rest streams. Each page's continue
/// token is read before its objects are decoded, so the next page is on its
/// way meanwhile, and two pages decode at once on the blocking pool:
/// decoding is most of a list's time once the server is fast.
async fn list<K>(
    api: &Api<K>,
    fields: &str,
    writer: &mut Writer<K>,
    on: &mut impl FnMut(Progress) -> bool,
) -> Result<(String, usize), Trouble>
where
    K: Trim + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    const DECODING: usize = 2;
    let streaming = writer.as_reader().is_empty();
    if !streaming {
        writer.apply_watcher_event(&Event::Init);
    }
    let mut lp = ListParams::default().limit(if streaming { FIRST_PAGE } else { PAGE });
    if !fields.is_empty() {
        lp = lp.fields(fields);
    }
    let mut next = Some(fetch_page(api, &lp)?);
    let mut decoding = VecDeque::new();
    let mut version = None;
    let mut n = 0;
    loop {
        // The first page decodes alone: it is the one a user waits for.
        let room = if n == 0 { 1 } else { DECODING };
        if let Some(page) = next.take_if(|_| decoding.len() < room) {
            let text = match timeout(LIST_TIMEOUT, page).await {
                Err(_) => return Err(no_answer("a list", LIST_TIMEOUT)),
                Ok(Err(e)) => return Err(Trouble::of(&e)),
                Ok(Ok(text)) => text,
            };
            let head: ListHead = serde_json::from_str(&text).map_err(undecodable)?;
            match head.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => {
                    lp = lp.continue_token(&token).limit(PAGE);
                    next = Some(fetch_page(api, &lp)?);
                }
                None => version = head.metadata.resource_version,
            }
            decoding.push_back(tokio::task::spawn_blocking(move || decode::<K>(&text)));
            continue;
        }
        let Some(page) = decoding.pop_front() else {
            break;
        };
        let items = page
            .await
            .map_err(|e| Trouble::Unreachable(format!("decoding a list page: {e}")))??;
        for o in items {
            writer.apply_watcher_event(&if streaming {
                Event::Apply(o)
            } else {
                Event::InitApply(o)
            });
            n += 1;
        }
        // No one listening ends the session at its next report.
        if streaming && n > 0 && (next.is_some() || !decoding.is_empty()) {
            on(Progress::Page(n));
        }
    }
    let rv = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Trouble::Rejected("a list without a resourceVersion".into()))?;
    if !streaming {
        writer.apply_watcher_event(&Event::InitDone);
    }
    Ok((rv, n))
}

/// A list response's metadata; its items are skipped, not decoded.
#[derive(serde::Deserialize)]
struct ListHead {
    metadata: ListMeta,
}

type PageText = Pin<Box<dyn Future<Output = kube::Result<String>> + Send>>;

/// Asks for one page on a task of its own, so the request goes out at once;
/// dropping the answer's future cancels it.
fn fetch_page<K: Resource + Clone>(api: &Api<K>, lp: &ListParams) -> Result<PageText, Trouble> {
    let mut req = kube::core::Request::new(api.resource_url())
        .list(lp)
        .map_err(|e| Trouble::Rejected(format!("a list request: {e}")))?;
    req.extensions_mut().insert("list");
    let client = api.clone().into_client();
    let (task, answer) = async move { client.request_text(req).await }.remote_handle();
    tokio::spawn(task);
    Ok(Box::pin(answer))
}

/// A page's objects, trimmed.
fn decode<K: Trim + Clone + DeserializeOwned>(text: &str) -> Result<Vec<K>, Trouble> {
    let page: ObjectList<K> = serde_json::from_str(text).map_err(undecodable)?;
    let mut items = page.items;
    items.iter_mut().for_each(Trim::trim);
    Ok(items)
}

fn undecodable(e: serde_json::Error) -> Trouble {
    Trouble::Unreachable(format!("a list page that is not a list: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> Status {
        let mut s = Status::failure(message, "");
        s.code = code;
        s
    }

    #[test]
    fn gone_and_future_versions_relist_server_errors_mean_unreachable_refusals_do_not() {
        assert!(matches!(
            Trouble::of_status(&status(410, "too old resource version")),
            Trouble::Desync(_)
        ));
        assert!(matches!(
            Trouble::of_status(&status(504, "Too large resource version: 90, current: 12")),
            Trouble::Desync(_)
        ));
        assert!(matches!(
            Trouble::of_status(&status(503, "unavailable")),
            Trouble::Unreachable(_)
        ));
        assert!(matches!(
            Trouble::of_status(&status(403, "forbidden")),
            Trouble::Rejected(_)
        ));
    }
}
