//! Writing `Set-Cookie` header values: the session's chunks, and the
//! deletions of chunks it no longer uses. The `cookie` crate writes the
//! attributes once, when the configuration is built; each response adds
//! the pair, `Max-Age` and `Expires` (an HTTP-date, by `httpdate`) to them.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use cookie::{Cookie, CookieBuilder};
use smallvec::SmallVec;
use time::{Duration, OffsetDateTime};

use super::layout::Layout;
use super::request::Presence;

/// `Sun, 06 Nov 1994 08:49:37 GMT`: every date `httpdate` writes.
const HTTP_DATE_LEN: usize = 29;

/// `SameSite` attribute of the session cookie.
///
/// ```
/// use sealed_session::{SameSite, SessionCookie};
/// let cookie = SessionCookie::builder("session").same_site(SameSite::Strict).build()?;
/// let set = cookie.set("AQID", None, &cookie.read([]))?;
/// assert!(set.headers()[0].contains("SameSite=Strict"));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent only on requests from the site itself.
    Strict,
    /// Also sent on top-level navigations from other sites (the default).
    Lax,
    /// Sent on cross-site requests too; requires `Secure`.
    None,
}

impl From<SameSite> for cookie::SameSite {
    fn from(s: SameSite) -> Self {
        match s {
            SameSite::Strict => Self::Strict,
            SameSite::Lax => Self::Lax,
            SameSite::None => Self::None,
        }
    }
}

/// The attributes every cookie of the session carries, checked by `rules`.
#[derive(Debug, Clone)]
pub(crate) struct Attributes {
    path: Box<str>,
    domain: Option<Box<str>>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/` and so on, as the
    /// `cookie` crate writes them after the pair: the same for every
    /// cookie of the session, so written once. (Through the crate's builder
    /// at every response, formatting took as many instructions as sealing.)
    suffix: Box<str>,
}

/// When the browser should forget the cookies: a hint derived from the
/// token's sealed `expires` (the seal stays the control).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expiry {
    pub(crate) expires: OffsetDateTime,
    pub(crate) now: OffsetDateTime,
}

/// `expires` as an HTTP-date (`Wed, 02 Dec 2026 04:22:38 GMT`), if it is
/// within 1970..=9999.
fn http_date(expires: OffsetDateTime) -> Option<httpdate::HttpDate> {
    let unix = expires.unix_timestamp();
    (0..=crate::clock::MAX_UNIX)
        .contains(&unix)
        .then(|| httpdate::HttpDate::from(SystemTime::from(expires)))
}

/// `Set-Cookie` header values, in the order they should be sent: the
/// session's cookies, then the deletions of chunks it no longer uses.
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, SessionCookie};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let cookie = SessionCookie::builder("session").build()?;
/// let set = cookie.seal(&codec, &42u64, &cookie.read([]))?;
/// for header in &set {
///     // response.headers_mut().append(SET_COOKIE, header.parse()?);
///     assert!(header.starts_with("session="));
/// }
/// assert_eq!(set.len(), 1);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SetCookies {
    /// One value inline: a session in one cookie, whose response sets just
    /// that, allocates only the value itself.
    headers: SmallVec<[String; 1]>,
}

impl SetCookies {
    /// The header values.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let removal = cookie.remove(&cookie.read([]));
    /// assert_eq!(removal.headers().len(), 1);
    /// assert!(removal.headers()[0].starts_with("session=; "));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many header values there are.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").chunked(2).build()?;
    /// assert_eq!(cookie.remove(&cookie.read(["session=x; session.1=y"])).len(), 2);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether there are none.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// assert!(!cookie.remove(&cookie.read([])).is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
}

/// Shows each header with its value elided: a session token in a log is a
/// session anyone reading the log can use.
///
/// ```
/// # use sealed_session::SessionCookie;
/// let cookie = SessionCookie::builder("s").build()?;
/// let set = cookie.set("AQIDBAUG", None, &cookie.read([]))?;
/// let shown = format!("{set:?}");
/// assert!(!shown.contains("AQIDBAUG") && shown.contains("s=<8 bytes>; HttpOnly"));
/// # Ok::<(), sealed_session::Error>(())
/// ```
impl std::fmt::Debug for SetCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.headers.iter().map(|h| {
                let (pair, attributes) = h.split_once(';').unwrap_or((h, ""));
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                format!("{name}=<{} bytes>;{attributes}", value.len())
            }))
            .finish()
    }
}

impl IntoIterator for SetCookies {
    type Item = String;
    type IntoIter = SetCookiesIntoIter;

    fn into_iter(self) -> Self::IntoIter {
        SetCookiesIntoIter(self.headers.into_iter())
    }
}

/// The header values of a [`SetCookies`], by value.
///
/// ```
/// # use sealed_session::SessionCookie;
/// let cookie = SessionCookie::builder("session").chunked(2).build()?;
/// let mut values = cookie.remove(&cookie.read(["session=x; session.1=y"])).into_iter();
/// assert!(values.next().unwrap().starts_with("session=; "));
/// assert_eq!(values.as_slice().len(), 1);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct SetCookiesIntoIter(smallvec::IntoIter<[String; 1]>);

impl SetCookiesIntoIter {
    /// The values not yet taken.
    pub fn as_slice(&self) -> &[String] {
        self.0.as_slice()
    }
}

impl std::iter::FusedIterator for SetCookiesIntoIter {}

impl Iterator for SetCookiesIntoIter {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for SetCookiesIntoIter {}

impl DoubleEndedIterator for SetCookiesIntoIter {
    fn next_back(&mut self) -> Option<String> {
        self.0.next_back()
    }
}

impl std::fmt::Debug for SetCookiesIntoIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCookiesIntoIter")
            .field("remaining", &self.0.len())
            .finish()
    }
}

impl<'s> IntoIterator for &'s SetCookies {
    type Item = &'s String;
    type IntoIter = std::slice::Iter<'s, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.headers.iter()
    }
}

impl Attributes {
    pub(crate) fn new(
        path: Box<str>,
        domain: Option<Box<str>>,
        secure: bool,
        http_only: bool,
        same_site: SameSite,
    ) -> Self {
        let mut attributes = Self {
            path,
            domain,
            secure,
            http_only,
            same_site,
            suffix: Box::default(),
        };
        let written = attributes
            .cookie(String::from("n"), String::new())
            .to_string();
        attributes.suffix = written.get("n=".len()..).unwrap_or_default().into();
        attributes
    }

    /// The `cookie` crate's builder for this configuration: the reference
    /// for `header`.
    fn cookie<'c>(&'c self, name: String, value: String) -> CookieBuilder<'c> {
        let mut cookie = Cookie::build((name, value))
            .path(&*self.path)
            .secure(self.secure)
            .http_only(self.http_only)
            .same_site(self.same_site.into());
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(&**domain);
        }
        cookie
    }

    /// One `Set-Cookie` value, byte for byte what the `cookie` crate
    /// writes (`header_is_what_the_cookie_crate_writes`).
    fn header(&self, name: &str, value: &str, expiry: Option<Expiry>) -> String {
        let max_age = expiry
            .map(|Expiry { expires, now }| (expires - now).max(Duration::ZERO).whole_seconds());
        // The exact length, so that the header value takes this buffer as
        // it is (`http` copies, or allocates a second time, otherwise).
        let dated = max_age.map_or(0, |age| {
            let digits = age.checked_ilog10().map_or(1, |d| d as usize + 1);
            "; Max-Age=".len() + digits + "; Expires=".len() + HTTP_DATE_LEN
        });
        let mut header =
            String::with_capacity(name.len() + 1 + value.len() + self.suffix.len() + dated);
        header.push_str(name);
        header.push('=');
        header.push_str(value);
        header.push_str(&self.suffix);
        if let (Some(Expiry { expires, .. }), Some(max_age)) = (expiry, max_age) {
            // Writing to a String cannot fail.
            let _ = write!(header, "; Max-Age={max_age}; Expires=");
            match http_date(expires) {
                Some(date) => {
                    let _ = write!(header, "{date}");
                }
                // Outside 1970..=9999, which httpdate refuses: the cookie
                // crate's own formatting.
                None => {
                    let full = Cookie::build(("n", "")).expires(expires).to_string();
                    header.push_str(full.split("Expires=").nth(1).unwrap_or_default());
                }
            }
        }
        header
    }

    /// A cookie that makes the browser delete `name`: empty, expired, with
    /// the same Path and Domain (else the browser keeps the original).
    fn deletion(&self, name: &str) -> String {
        self.header(
            name,
            "",
            Some(Expiry {
                expires: OffsetDateTime::UNIX_EPOCH,
                now: OffsetDateTime::UNIX_EPOCH,
            }),
        )
    }

    /// The headers that store `values` (from [`Layout::split`]) and delete
    /// every other session cookie the request carried.
    pub(crate) fn write(
        &self,
        layout: &Layout,
        values: &[Cow<'_, str>],
        expiry: Option<Expiry>,
        request: &Presence,
    ) -> SetCookies {
        let chunks = values.len();
        let mut headers = SmallVec::with_capacity(chunks);
        for (index, value) in values.iter().enumerate() {
            headers.push(self.header(&layout.chunk_name(index), value, expiry));
        }
        headers.extend(
            request
                .seen_indexes()
                .filter(|&index| index >= chunks)
                .map(|index| self.deletion(&layout.chunk_name(index))),
        );
        SetCookies { headers }
    }

    /// The headers that delete the session: its first cookie always, and
    /// every chunk the request carried.
    pub(crate) fn remove(&self, layout: &Layout, request: &Presence) -> SetCookies {
        let mut headers: SmallVec<[String; 1]> =
            smallvec::smallvec![self.deletion(&layout.chunk_name(0))];
        headers.extend(
            request
                .seen_indexes()
                .filter(|&index| index > 0)
                .map(|index| self.deletion(&layout.chunk_name(index))),
        );
        SetCookies { headers }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::{Duration, OffsetDateTime};

    use super::{Attributes, Expiry, SameSite};

    /// What the `cookie` crate writes for the same cookie.
    fn by_the_cookie_crate(a: &Attributes, name: &str, value: &str, e: Option<Expiry>) -> String {
        let mut cookie = a.cookie(name.to_owned(), value.to_owned());
        if let Some(Expiry { expires, now }) = e {
            cookie = cookie
                .max_age((expires - now).max(Duration::ZERO))
                .expires(expires);
        }
        cookie.to_string()
    }

    fn same_site() -> impl Strategy<Value = SameSite> {
        prop_oneof![
            Just(SameSite::Strict),
            Just(SameSite::Lax),
            Just(SameSite::None)
        ]
    }

    proptest! {
        #[test]
        fn header_is_what_the_cookie_crate_writes(
            path in "/[a-z/]{0,12}",
            domain in proptest::option::of("[a-z]{1,8}\\.example"),
            secure in any::<bool>(),
            http_only in any::<bool>(),
            same_site in same_site(),
            value in "[A-Za-z0-9_-]{0,40}",
            expiry in proptest::option::of((-100_000i64..=crate::clock::MAX_UNIX + 100_000, -1_000_000i64..1_000_000)),
            offset_hours in -12i8..=12,
        ) {
            let a = Attributes::new(path.into(), domain.map(Into::into), secure, http_only, same_site);
            let expiry = expiry.map(|(expires, before)| {
                let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).expect("offset");
                let at = |unix: i64| OffsetDateTime::from_unix_timestamp(unix).expect("in range").to_offset(offset);
                Expiry { expires: at(expires), now: at(expires - before) }
            });
            let header = a.header("session.1", &value, expiry);
            prop_assert_eq!(&header, &by_the_cookie_crate(&a, "session.1", &value, expiry));
            // Sized exactly, where httpdate writes the date: the header
            // value takes the buffer without another allocation.
            if expiry.is_none_or(|e| (0..=253_402_300_799).contains(&e.expires.unix_timestamp())) {
                prop_assert_eq!(header.len(), header.capacity());
            }
        }
    }

    #[test]
    fn deletion_is_what_the_cookie_crate_writes() {
        let a = Attributes::new(
            "/app".into(),
            Some("example.com".into()),
            true,
            true,
            SameSite::Lax,
        );
        let epoch = Expiry {
            expires: OffsetDateTime::UNIX_EPOCH,
            now: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            a.deletion("s"),
            by_the_cookie_crate(&a, "s", "", Some(epoch))
        );
        assert_eq!(
            a.deletion("s"),
            "s=; HttpOnly; SameSite=Lax; Secure; Path=/app; Domain=example.com; Max-Age=0; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
