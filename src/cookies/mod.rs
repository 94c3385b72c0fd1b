//! The session as cookies: `Set-Cookie` headers that every browser keeps,
//! and the session read back from `Cookie` headers. Sits above the codec:
//! it uses the codec, the codec never uses it.
//!
//! `rules` checks the settings once, `layout` splits a token over cookies,
//! `request` reads and joins them, `response` writes them.

mod layout;
mod request;
mod response;
mod rules;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::budget::MIN_BUDGET;
use crate::clock::{to_datetime, unix_now, unix_seconds};
use crate::codec::{Codec, Opened, SealOptions};
use crate::error::{CookieConfigError, CookieError, Error, Malformed};

pub use layout::{ATTRIBUTE_LIMIT, COOKIE_LIMIT, MAX_CHUNKS};
pub(crate) use request::Presence;
pub use request::RequestCookies;
pub use response::{SameSite, SetCookies, SetCookiesIntoIter};

use layout::Layout;
use response::{Attributes, Expiry};

/// Default share of the `Cookie` request header the session may take, in
/// bytes: 6 KiB, leaving 2 KiB of an 8 KiB header line (nginx's
/// `large_client_header_buffers`, Apache's `LimitRequestFieldSize` of 8190)
/// for the header's name and the site's other cookies.
pub const DEFAULT_REQUEST_BUDGET: usize = 6 * 1024;
/// Largest request budget: Apache's 8190-byte header line, less `Cookie: `.
pub const MAX_REQUEST_BUDGET: usize = 8190 - "Cookie: ".len();
/// Smallest request budget.
const MIN_REQUEST_BUDGET: usize = 256;
/// Smallest per-cookie limit.
const MIN_COOKIE_LIMIT: usize = 256;

/// A name prefix that makes browsers enforce where the cookie may come
/// from (RFC 6265bis §4.1.3).
///
/// ```
/// use sealed_session::{CookiePrefix, SessionCookie};
/// let cookie = SessionCookie::builder("session").prefix(CookiePrefix::Host).build()?;
/// assert_eq!(cookie.name(), "__Host-session");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookiePrefix {
    /// `__Host-`: `Secure`, `Path=/`, no `Domain`; only the exact host that
    /// set it can overwrite it, so a sibling subdomain cannot plant a
    /// session (the strongest choice).
    Host,
    /// `__Secure-`: `Secure`; only an HTTPS origin can set it.
    Secure,
}

impl CookiePrefix {
    fn as_str(self) -> &'static str {
        match self {
            Self::Host => "__Host-",
            Self::Secure => "__Secure-",
        }
    }
}

/// The session's cookie: its name, attributes and size limits, checked once
/// when built. Turns a sealed session into `Set-Cookie` header values and
/// reads it back from `Cookie` headers.
///
/// The defaults are `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, and
/// `Max-Age` and `Expires` from the token's sealed expiry (a hint to the
/// browser: the seal stays the control). Every value is measured as the
/// browser measures it: name and value within [`COOKIE_LIMIT`] (4096)
/// bytes, each attribute within [`ATTRIBUTE_LIMIT`] (1024).
///
/// ```
/// use sealed_session::{Codec, CookiePrefix, Key, KeyRing, SessionCookie};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let cookie = SessionCookie::builder("id").prefix(CookiePrefix::Host).build()?;
///
/// // A response: a new session.
/// let set = cookie.seal(&codec, &"alice", &cookie.read([]))?;
/// let header = &set.headers()[0];
/// assert!(header.starts_with("__Host-id="));
/// assert!(header.contains("; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=604800; Expires="));
///
/// // The next request carries it back.
/// let pair = header.split(';').next().unwrap();
/// let line = format!("theme=dark; {pair}");
/// let request = cookie.read([line.as_str()]);
/// let opened = cookie.open::<String>(&codec, &request)?.expect("a session");
/// assert_eq!(opened.value(), "alice");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionCookie {
    layout: Layout,
    attributes: Attributes,
    persistent: bool,
}

/// Settings of a [`SessionCookie`]; every one but the name has a default.
///
/// ```
/// use sealed_session::{SameSite, SessionCookie};
/// let cookie = SessionCookie::builder("session")
///     .path("/app")
///     .same_site(SameSite::Strict)
///     .chunked(3)
///     .build()?;
/// assert_eq!(cookie.max_chunks(), 3);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionCookieBuilder {
    name: String,
    prefix: Option<CookiePrefix>,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    persistent: bool,
    max_chunks: usize,
    request_budget: usize,
    cookie_limit: usize,
}

impl SessionCookieBuilder {
    /// Puts `__Host-` or `__Secure-` before the name; `build` then refuses
    /// attributes the prefix forbids. A name that already starts with a
    /// prefix is held to its rules all the same.
    ///
    /// ```
    /// use sealed_session::{CookieConfigError, CookiePrefix, Error, SessionCookie};
    /// let e = SessionCookie::builder("id").prefix(CookiePrefix::Host).path("/app").build().unwrap_err();
    /// assert!(matches!(e, Error::CookieConfig(CookieConfigError::Prefix { prefix: "__Host-", .. })));
    /// assert_eq!(e.to_string(), "invalid cookie setting: a __Host- cookie must have Path=/; browsers drop it otherwise");
    /// ```
    pub fn prefix(mut self, prefix: CookiePrefix) -> Self {
        self.prefix = Some(prefix);
        self
    }

    /// `Path`: default `/`. Must start with `/`; visible ASCII without `;`
    /// or `,`; at most 1024 bytes.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// assert!(SessionCookie::builder("s").path("/app").build().is_ok());
    /// assert!(SessionCookie::builder("s").path("/app; Secure").build().is_err());
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// `Domain`: default none (the cookie goes back to the exact host only).
    /// Letters, digits, `-` and `.`.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// assert!(SessionCookie::builder("s").domain("example.com").build().is_ok());
    /// assert!(SessionCookie::builder("s").domain("example.com\r\nX: y").build().is_err());
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// `Secure`: default on. Browsers treat `http://localhost` as secure;
    /// turn it off only for plain-HTTP development on another host.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("s").secure(false).build()?;
    /// assert!(!cookie.set("AQID", None, &cookie.read([]))?.headers()[0].contains("Secure"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `HttpOnly`: default on, so page scripts cannot read the session.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("s").http_only(false).build()?;
    /// assert!(!cookie.set("AQID", None, &cookie.read([]))?.headers()[0].contains("HttpOnly"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// `SameSite`: default [`SameSite::Lax`]. [`SameSite::None`] requires
    /// `Secure`.
    ///
    /// ```
    /// # use sealed_session::{SameSite, SessionCookie};
    /// assert!(SessionCookie::builder("s").same_site(SameSite::None).secure(false).build().is_err());
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Whether cookies carry `Max-Age` and `Expires` (from the token's
    /// sealed expiry): default on. Off, they are session cookies, which the
    /// browser forgets when it closes.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("s").persistent(false).build()?;
    /// let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    /// assert!(!cookie.set("AQID", Some(expires), &cookie.read([]))?.headers()[0].contains("Max-Age"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Lets a session that outgrows one cookie be split over up to
    /// `max_chunks` cookies (`name`, `name.1`, ...), within the request
    /// budget. Default 1: no chunking. At most [`MAX_CHUNKS`].
    ///
    /// The request budget binds first: with 4096-byte cookies a session
    /// never takes more than 2 of them (the request budget is at most 8182
    /// bytes), so `chunked(4)` carries what `chunked(2)` does (6110 bytes
    /// with the default 6144-byte budget, not 4 × 4 KB). More chunks help
    /// only with a lower [`cookie_limit`](Self::cookie_limit) (a proxy that
    /// limits each cookie). [`SessionCookie::usable_chunks`] says how many
    /// can be used.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let one = SessionCookie::builder("session").build()?;
    /// let chunked = SessionCookie::builder("session").chunked(4).build()?;
    /// assert_eq!(one.token_budget(), 4096 - "session".len());
    /// assert_eq!(chunked.token_budget(), 6110); // within 6144 bytes of request header
    /// assert_eq!(chunked.usable_chunks(), 2);
    /// let small = SessionCookie::builder("session").chunked(4).cookie_limit(1024).build()?;
    /// assert_eq!((small.usable_chunks(), small.token_budget()), (4, 4040));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn chunked(mut self, max_chunks: usize) -> Self {
        self.max_chunks = max_chunks;
        self
    }

    /// The most the session's cookies may add to the `Cookie` request header,
    /// in bytes, counting each `name=value` and a `; ` separator. Default
    /// [`DEFAULT_REQUEST_BUDGET`] (6144); from 256 to
    /// [`MAX_REQUEST_BUDGET`].
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").chunked(4).request_budget(8000).build()?;
    /// assert_eq!(cookie.token_budget(), 7966);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn request_budget(mut self, bytes: usize) -> Self {
        self.request_budget = bytes;
        self
    }

    /// The most bytes of name and value in one cookie. Default
    /// [`COOKIE_LIMIT`] (4096), what browsers keep; lower it for a proxy or
    /// firewall with a tighter limit. From 256 to 4096.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").cookie_limit(1024).chunked(8).build()?;
    /// let set = cookie.set(&"A".repeat(3000), None, &cookie.read([]))?;
    /// assert_eq!(set.len(), 3);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn cookie_limit(mut self, bytes: usize) -> Self {
        self.cookie_limit = bytes;
        self
    }

    /// Checks every setting and builds the cookie.
    ///
    /// ```
    /// use sealed_session::{CookieConfigError, Error, SessionCookie};
    /// let e = SessionCookie::builder("session id").build().unwrap_err();
    /// assert!(matches!(e, Error::CookieConfig(CookieConfigError::Name { found: ' ', at: 7 })));
    /// ```
    ///
    /// # Errors
    /// [`Error::CookieConfig`] for a name that is not an RFC 6265 token or
    /// leaves no room for a token; a path or domain that is malformed, holds
    /// a character that would end the attribute, or exceeds 1024 bytes;
    /// attributes a `__Host-` or `__Secure-` prefix forbids; `SameSite=None`
    /// without `Secure`; a chunk limit or request budget out of range.
    pub fn build(self) -> Result<SessionCookie, Error> {
        let name = match self.prefix {
            Some(prefix) => format!("{}{}", prefix.as_str(), self.name),
            None => self.name,
        };
        rules::check_name(&name)?;
        rules::check_path(&self.path)?;
        if let Some(domain) = &self.domain {
            rules::check_domain(domain)?;
        }
        rules::check_prefix(&rules::PrefixedAttributes {
            name: &name,
            secure: self.secure,
            path: &self.path,
            has_domain: self.domain.is_some(),
        })?;
        if self.same_site == SameSite::None && !self.secure {
            return Err(CookieConfigError::SameSiteNoneWithoutSecure.into());
        }
        if !(1..=MAX_CHUNKS).contains(&self.max_chunks) {
            return Err(CookieConfigError::MaxChunks {
                chunks: self.max_chunks,
                max: MAX_CHUNKS,
            }
            .into());
        }
        if !(MIN_REQUEST_BUDGET..=MAX_REQUEST_BUDGET).contains(&self.request_budget) {
            return Err(CookieConfigError::RequestBudget {
                bytes: self.request_budget,
                min: MIN_REQUEST_BUDGET,
                max: MAX_REQUEST_BUDGET,
            }
            .into());
        }
        if !(MIN_COOKIE_LIMIT..=COOKIE_LIMIT).contains(&self.cookie_limit) {
            return Err(CookieConfigError::CookieLimit {
                bytes: self.cookie_limit,
                min: MIN_COOKIE_LIMIT,
                max: COOKIE_LIMIT,
            }
            .into());
        }
        let layout = Layout::new(
            &name,
            self.max_chunks,
            self.request_budget,
            self.cookie_limit,
        );
        if layout.budget() < MIN_BUDGET {
            let room =
                Layout::new("", self.max_chunks, self.request_budget, self.cookie_limit).budget();
            return Err(CookieConfigError::NameTooLong {
                len: name.len(),
                max: room.saturating_sub(MIN_BUDGET),
            }
            .into());
        }
        Ok(SessionCookie {
            layout,
            attributes: Attributes::new(
                self.path.into(),
                self.domain.map(Into::into),
                self.secure,
                self.http_only,
                self.same_site,
            ),
            persistent: self.persistent,
        })
    }
}

impl SessionCookie {
    /// Starts configuring the session cookie called `name`.
    ///
    /// ```
    /// use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?; // every default
    /// assert_eq!(cookie.name(), "session");
    /// assert_eq!(cookie.max_chunks(), 1);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn builder(name: impl Into<String>) -> SessionCookieBuilder {
        SessionCookieBuilder {
            name: name.into(),
            prefix: None,
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            persistent: true,
            max_chunks: 1,
            request_budget: DEFAULT_REQUEST_BUDGET,
            cookie_limit: COOKIE_LIMIT,
        }
    }

    /// The cookie's name, with its prefix; chunks are `name.1`, `name.2`...
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// assert_eq!(SessionCookie::builder("sid").build()?.name(), "sid");
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.layout.name()
    }

    /// The largest token these cookies carry, in bytes. It replaces the
    /// codec's own budget whenever a session goes through this cookie.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("__Host-session").build()?;
    /// assert_eq!(cookie.token_budget(), 4096 - "__Host-session".len());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn token_budget(&self) -> usize {
        self.layout.budget()
    }

    /// The chunk limit: 1 without chunking.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// assert_eq!(SessionCookie::builder("s").chunked(2).build()?.max_chunks(), 2);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn max_chunks(&self) -> usize {
        self.layout.max_chunks()
    }

    /// How many cookies the largest session takes: at most
    /// [`max_chunks`](Self::max_chunks), fewer when the request budget
    /// runs out first (see [`SessionCookieBuilder::chunked`]).
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// assert_eq!(SessionCookie::builder("s").build()?.usable_chunks(), 1);
    /// assert_eq!(SessionCookie::builder("s").chunked(8).build()?.usable_chunks(), 2);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn usable_chunks(&self) -> usize {
        self.layout.usable_chunks()
    }

    /// The most the session adds to the `Cookie` request header, in bytes.
    ///
    /// ```
    /// # use sealed_session::{DEFAULT_REQUEST_BUDGET, SessionCookie};
    /// assert_eq!(SessionCookie::builder("s").build()?.request_budget(), DEFAULT_REQUEST_BUDGET);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn request_budget(&self) -> usize {
        self.layout.request_budget()
    }

    /// The most bytes of name and value in one cookie.
    ///
    /// ```
    /// # use sealed_session::{COOKIE_LIMIT, SessionCookie};
    /// assert_eq!(SessionCookie::builder("s").build()?.cookie_limit(), COOKIE_LIMIT);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn cookie_limit(&self) -> usize {
        self.layout.cookie_limit()
    }

    /// Finds the session's cookies in a request's `Cookie` header values
    /// (several headers are joined as RFC 9113 §8.2.3 says). Never fails:
    /// [`RequestCookies::token`] says whether they form a session.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// // HTTP/2 may send each cookie in its own header.
    /// let request = cookie.read(["theme=dark", "session=AQID", "lang=en"]);
    /// assert_eq!(request.token()?.as_deref(), Some("AQID"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn read<'h>(&self, headers: impl IntoIterator<Item = &'h str>) -> RequestCookies<'h> {
        RequestCookies::read(&self.layout, headers.into_iter().map(str::as_bytes))
    }

    /// As [`read`](Self::read), from the headers' bytes (`HeaderValue::as_bytes`
    /// of the `http` crate): a byte that is not UTF-8 hides only the cookie
    /// that holds it, never the whole header with the session in it.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let request = cookie.read_bytes([&b"theme=\xff; session=AQID"[..]]);
    /// assert_eq!(request.token()?.as_deref(), Some("AQID"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn read_bytes<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> RequestCookies<'h> {
        RequestCookies::read(&self.layout, headers)
    }

    /// Opens the session a request carries, now: `None` if it carries none.
    /// The cookie's [`token_budget`](Self::token_budget) applies, not the
    /// codec's budget.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// assert!(cookie.open::<u64>(&codec, &cookie.read(["other=1"]))?.is_none());
    /// assert!(cookie.open::<u64>(&codec, &cookie.read(["session=forged"])).is_err());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`RequestCookies::token`], then as [`Codec::open`].
    pub fn open<T: DeserializeOwned>(
        &self,
        codec: &Codec,
        request: &RequestCookies<'_>,
    ) -> Result<Option<Opened<T>>, Error> {
        let Some(token) = request.token()? else {
            return Ok(None);
        };
        codec
            .open_unix(&token, unix_now()?, self.layout.budget())
            .map(Some)
    }

    /// [`SessionCookie::open`] as if the time were `now` (tests, replays),
    /// as [`Codec::open_at`].
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, SealOptions, SessionCookie};
    /// use time::{Duration, OffsetDateTime};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let then = OffsetDateTime::from_unix_timestamp(1_577_836_800).unwrap(); // 2020-01-01
    /// let set = cookie.seal_with(&codec, &1u8, SealOptions::new().at(then), &cookie.read([]))?;
    /// let pair = set.headers()[0].split(';').next().unwrap().to_owned();
    /// let request = cookie.read([pair.as_str()]);
    /// assert!(cookie.open_at::<u8>(&codec, &request, then + Duration::days(1))?.is_some());
    /// assert!(cookie.open::<u8>(&codec, &request).is_err()); // long expired now
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SessionCookie::open`]; [`Error::TimeOutOfRange`] for a time
    /// before 1970.
    pub fn open_at<T: DeserializeOwned>(
        &self,
        codec: &Codec,
        request: &RequestCookies<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<Opened<T>>, Error> {
        let Some(token) = request.token()? else {
            return Ok(None);
        };
        codec
            .open_unix(&token, unix_seconds(now)?, self.layout.budget())
            .map(Some)
    }

    /// Seals `value` as a new session and returns the headers that set it,
    /// deleting any chunk of the request's session that it does not use.
    ///
    /// ```
    /// use sealed_session::{Codec, CookieError, Error, Key, KeyRing, SessionCookie};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let big = "x".repeat(5000);
    /// let e = cookie.seal(&codec, &big, &cookie.read([])).unwrap_err();
    /// assert!(matches!(e, Error::Cookie(CookieError::TooLarge { limit: 4089, .. })));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`CookieError::TooLarge`] if the sealed session does not fit (its
    /// message gives the size, the limit and the difference); otherwise as
    /// [`Codec::seal`].
    pub fn seal<T: Serialize + ?Sized>(
        &self,
        codec: &Codec,
        value: &T,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        self.seal_with(codec, value, SealOptions::new(), request)
    }

    /// Seals `value` as a new session with `options` (a subject, a time) and
    /// returns the headers that set it. `Max-Age` counts from the options'
    /// time ([`SealOptions::at`]) when one is given, so a test that fixes
    /// the time gets the same headers every run; else from now.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, SealOptions, SessionCookie};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let set = cookie.seal_with(&codec, &1u8, SealOptions::new().subject("user-7"), &cookie.read([]))?;
    /// let pair = set.headers()[0].split(';').next().unwrap().to_owned();
    /// let opened = cookie.open::<u8>(&codec, &cookie.read([pair.as_str()]))?.unwrap();
    /// assert_eq!(opened.claims().subject(), Some("user-7"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SessionCookie::seal`] and [`Codec::seal_with`].
    pub fn seal_with<T: Serialize + ?Sized>(
        &self,
        codec: &Codec,
        value: &T,
        options: SealOptions<'_>,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        self.seal_for(codec, value, options, &request.presence())
    }

    /// [`SessionCookie::seal_with`] for a request known by its
    /// [`Presence`].
    pub(crate) fn seal_for<T: Serialize + ?Sized>(
        &self,
        codec: &Codec,
        value: &T,
        options: SealOptions<'_>,
        request: &Presence,
    ) -> Result<SetCookies, Error> {
        with_token_buffer(|token| {
            let sealed = codec
                .seal_into_limit(value, options, self.layout.budget(), token)
                .map_err(|e| self.too_large(e))?;
            self.write(token, sealed.expires_unix(), options.fixed_time(), request)
        })
    }

    /// Re-seals an opened session (same id and `created`, a new `issued`)
    /// and returns the headers that set it.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let first = cookie.seal(&codec, &1u8, &cookie.read([]))?;
    /// let pair = first.headers()[0].split(';').next().unwrap().to_owned();
    /// let request = cookie.read([pair.as_str()]);
    /// let opened = cookie.open::<u8>(&codec, &request)?.unwrap();
    /// let renewed = cookie.reseal(&codec, &opened, &request)?;
    /// assert_eq!(renewed.len(), 1);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SessionCookie::seal`] and [`Codec::reseal`].
    pub fn reseal<T: Serialize>(
        &self,
        codec: &Codec,
        opened: &Opened<T>,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        self.reseal_with(codec, opened, SealOptions::new(), request)
    }

    /// Re-seals an opened session with `options` (as
    /// [`Codec::reseal_with`]) and returns the headers that set it;
    /// `Max-Age` counts from the options' time as in
    /// [`SessionCookie::seal_with`].
    ///
    /// # Errors
    /// As [`SessionCookie::seal`] and [`Codec::reseal_with`].
    pub fn reseal_with<T: Serialize>(
        &self,
        codec: &Codec,
        opened: &Opened<T>,
        options: SealOptions<'_>,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        self.reseal_for(codec, opened, options, &request.presence())
    }

    /// [`SessionCookie::reseal_with`] for a request known by its
    /// [`Presence`].
    pub(crate) fn reseal_for<T: Serialize>(
        &self,
        codec: &Codec,
        opened: &Opened<T>,
        options: SealOptions<'_>,
        request: &Presence,
    ) -> Result<SetCookies, Error> {
        with_token_buffer(|token| {
            let sealed = codec
                .reseal_into_limit(opened, options, self.layout.budget(), token)
                .map_err(|e| self.too_large(e))?;
            self.write(token, sealed.expires_unix(), options.fixed_time(), request)
        })
    }

    /// The headers that store a token sealed elsewhere, with `Max-Age` and
    /// `Expires` from `expires` (if the cookie is persistent), deleting any
    /// chunk of the request's session the token does not use.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, SessionCookie};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-7"))?;
    /// let expires = codec.open::<u8>(&token)?.claims().expires();
    /// let set = cookie.set(&token, Some(expires), &cookie.read([]))?;
    /// assert!(set.headers()[0].starts_with(&format!("session={token}; ")));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Malformed`] if `token` holds anything but base64url
    /// characters; [`CookieError::TooLarge`] if it does not fit.
    pub fn set(
        &self,
        token: &str,
        expires: Option<OffsetDateTime>,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        // Whole seconds, as the token's `expires`: Max-Age is not one short.
        self.set_at(token, expires, to_datetime(unix_now()?), request)
    }

    /// [`SessionCookie::set`] with `Max-Age` counted from `now` instead of
    /// the system clock (tests, a request's own clock).
    ///
    /// ```
    /// use sealed_session::SessionCookie;
    /// use time::{Duration, OffsetDateTime};
    /// let cookie = SessionCookie::builder("session").build()?;
    /// let now = OffsetDateTime::from_unix_timestamp(1_577_836_800).unwrap(); // 2020-01-01
    /// let set = cookie.set_at("AQID", Some(now + Duration::hours(2)), now, &cookie.read([]))?;
    /// assert!(set.headers()[0].contains("; Max-Age=7200; Expires=Wed, 01 Jan 2020 02:00:00 GMT"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SessionCookie::set`].
    pub fn set_at(
        &self,
        token: &str,
        expires: Option<OffsetDateTime>,
        now: OffsetDateTime,
        request: &RequestCookies<'_>,
    ) -> Result<SetCookies, Error> {
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Malformed::Base64.into());
        }
        let values = self.layout.split(token)?;
        let expiry = expires
            .filter(|_| self.persistent)
            .map(|expires| Expiry { expires, now });
        Ok(self
            .attributes
            .write(&self.layout, &values, expiry, &request.presence()))
    }

    /// The headers that delete the session: its cookie, and every chunk the
    /// request carries, with the same `Path` and `Domain`.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").chunked(3).build()?;
    /// let removal = cookie.remove(&cookie.read(["session=2.abcd.x; session.1=abcd.y"]));
    /// assert_eq!(removal.len(), 2);
    /// assert!(removal.headers()[1].starts_with("session.1=; "));
    /// assert!(removal.headers()[1].contains("Max-Age=0"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove(&self, request: &RequestCookies<'_>) -> SetCookies {
        self.remove_for(&request.presence())
    }

    /// [`SessionCookie::remove`] for a request known by its [`Presence`].
    pub(crate) fn remove_for(&self, request: &Presence) -> SetCookies {
        self.attributes.remove(&self.layout, request)
    }

    fn write(
        &self,
        token: &str,
        expires: i64,
        at: Option<OffsetDateTime>,
        request: &Presence,
    ) -> Result<SetCookies, Error> {
        let values = self.layout.split(token)?;
        // Max-Age counts from the seal's given time, else from now (whole
        // seconds, as `expires`: never one short).
        let now = match at {
            Some(at) => at.replace_nanosecond(0).unwrap_or(at),
            None => to_datetime(unix_now()?),
        };
        let expiry = self.persistent.then(|| Expiry {
            expires: to_datetime(expires),
            now,
        });
        Ok(self
            .attributes
            .write(&self.layout, &values, expiry, request))
    }

    /// The codec measured the token against this cookie's budget: say so in
    /// the cookie's terms.
    fn too_large(&self, e: Error) -> Error {
        match e {
            Error::TooLarge { size, limit } => CookieError::TooLarge {
                size,
                limit,
                max_chunks: self.layout.max_chunks(),
                request_budget: self.layout.request_budget(),
            }
            .into(),
            other => other,
        }
    }
}

thread_local! {
    /// The token of the thread's last seal into cookies: the cookies' values
    /// are written from it, so it is scratch, reused by the next seal. What
    /// it keeps went out in the cookies' values (a failed write wipes it).
    static TOKEN_BUFFER: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// The largest token buffer a thread keeps: a browser's cookie budget,
/// with room.
const KEPT_TOKEN_BUFFER: usize = 16 * 1024;

/// Runs `write` with the thread's token buffer, emptied; keeps the buffer
/// for the next seal unless a rare large token grew it. (`take` leaves an
/// empty `String`: a seal inside `write` gets its own.)
fn with_token_buffer<R, E>(write: impl FnOnce(&mut String) -> Result<R, E>) -> Result<R, E> {
    let mut token = TOKEN_BUFFER.take();
    token.clear();
    let result = write(&mut token);
    if result.is_ok() && token.capacity() <= KEPT_TOKEN_BUFFER {
        TOKEN_BUFFER.set(token);
    } else {
        // A token sealed but never sent (its headers failed) is a live
        // credential: wiped, not kept.
        zeroize::Zeroize::zeroize(&mut token);
    }
    result
}
