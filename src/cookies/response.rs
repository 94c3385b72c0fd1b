//! Writing `Set-Cookie` header values through the `cookie` crate: the
//! session's chunks, and the deletions of chunks it no longer uses.

use cookie::{Cookie, CookieBuilder};
use time::{Duration, OffsetDateTime};

use super::layout::Layout;
use super::request::Presence;

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
    pub(crate) path: Box<str>,
    pub(crate) domain: Option<Box<str>>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
}

/// When the browser should forget the cookies: a hint derived from the
/// token's sealed `expires` (the seal stays the control).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expiry {
    pub(crate) expires: OffsetDateTime,
    pub(crate) now: OffsetDateTime,
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
    headers: Vec<String>,
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
    /// let cookie = SessionCookie::builder("session").build()?;
    /// assert_eq!(cookie.remove(&cookie.read(["session.1=x"])).len(), 2);
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
    type IntoIter = std::vec::IntoIter<String>;

    fn into_iter(self) -> Self::IntoIter {
        self.headers.into_iter()
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

    /// A cookie that makes the browser delete `name`: empty, expired, with
    /// the same Path and Domain (else the browser keeps the original).
    fn deletion(&self, name: String) -> String {
        self.cookie(name, String::new())
            .max_age(Duration::ZERO)
            .expires(OffsetDateTime::UNIX_EPOCH)
            .to_string()
    }

    /// The headers that store `values` (from [`Layout::split`]) and delete
    /// every other session cookie the request carried.
    pub(crate) fn write(
        &self,
        layout: &Layout,
        values: Vec<String>,
        expiry: Option<Expiry>,
        request: &Presence,
    ) -> SetCookies {
        let chunks = values.len();
        let mut headers = Vec::with_capacity(chunks);
        for (index, value) in values.into_iter().enumerate() {
            let mut cookie = self.cookie(layout.chunk_name(index), value);
            if let Some(Expiry { expires, now }) = expiry {
                cookie = cookie
                    .max_age((expires - now).max(Duration::ZERO))
                    .expires(expires);
            }
            headers.push(cookie.to_string());
        }
        headers.extend(
            request
                .seen_indexes()
                .filter(|&index| index >= chunks)
                .map(|index| self.deletion(layout.chunk_name(index))),
        );
        headers.extend(
            request
                .stray_names()
                .map(|name| self.deletion(name.to_owned())),
        );
        SetCookies { headers }
    }

    /// The headers that delete the session: its first cookie always, and
    /// every chunk the request carried.
    pub(crate) fn remove(&self, layout: &Layout, request: &Presence) -> SetCookies {
        let mut headers = vec![self.deletion(layout.chunk_name(0))];
        headers.extend(
            request
                .seen_indexes()
                .filter(|&index| index > 0)
                .map(|index| self.deletion(layout.chunk_name(index))),
        );
        headers.extend(
            request
                .stray_names()
                .map(|name| self.deletion(name.to_owned())),
        );
        SetCookies { headers }
    }
}
