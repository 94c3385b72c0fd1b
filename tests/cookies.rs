//! Sessions as cookies, through the public API only: the browser's limits,
//! chunking, the refused cases, attribute injection and the prefix rules.
//!
//! A small model of a browser's cookie store checks every `Set-Cookie`
//! against the limits browsers enforce (RFC 6265bis §5.6) and sends back
//! what it kept, in any order and split over several `Cookie` headers.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use sealed_session::{
    ATTRIBUTE_LIMIT, COOKIE_LIMIT, Codec, CookieConfigError, CookieError, CookiePrefix,
    DEFAULT_REQUEST_BUDGET, Error, Key, KeyRing, MAX_CHUNKS, MAX_REQUEST_BUDGET, Malformed,
    SameSite, SealOptions, SessionCookie, SetCookies,
};
use time::{Duration, OffsetDateTime};

/// What a browser keeps: name to value, for one site and path.
#[derive(Default, Debug)]
struct Browser {
    jar: BTreeMap<String, String>,
}

impl Browser {
    /// Applies `Set-Cookie` headers as a browser would, after checking each
    /// against the browser's limits: a cookie over them would be dropped
    /// silently, which must never happen.
    fn apply(&mut self, set: &SetCookies, cookie_limit: usize) {
        for header in set {
            let c = cookie::Cookie::parse(header.as_str()).expect("a Set-Cookie the crate parses");
            let size = c.name().len() + c.value().len();
            assert!(size <= cookie_limit, "{size} > {cookie_limit}: {header}");
            assert!(size <= COOKIE_LIMIT, "{header}");
            for attribute in header.split(';').skip(1) {
                let value = attribute.split_once('=').map_or("", |(_, v)| v);
                assert!(value.len() <= ATTRIBUTE_LIMIT, "{attribute}");
            }
            let removal = c.max_age() == Some(Duration::ZERO);
            if removal {
                self.jar.remove(c.name());
            } else {
                self.jar.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    /// `name=value` pairs, each as sent in a `Cookie` header.
    fn pairs(&self) -> Vec<String> {
        self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect()
    }
}

fn base64url(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    (0..len)
        .map(|_| {
            // xorshift: a different-looking token for every seed.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % 64) as usize])
        })
        .collect()
}

/// The `name=value` part of every header.
fn pairs_of(set: &SetCookies) -> Vec<String> {
    set.headers()
        .iter()
        .map(|h| h.split(';').next().expect("a pair").to_owned())
        .collect()
}

fn cookie_error(result: Result<Option<std::borrow::Cow<'_, str>>, Error>) -> CookieError {
    match result {
        Err(Error::Cookie(e)) => e,
        other => panic!("expected a cookie error, got {other:?}"),
    }
}

fn config_error(result: Result<SessionCookie, Error>) -> CookieConfigError {
    match result {
        Err(Error::CookieConfig(e)) => e,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[derive(Debug, Clone)]
struct Settings {
    name: String,
    prefix: Option<CookiePrefix>,
    max_chunks: usize,
    request_budget: usize,
    cookie_limit: usize,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        "[A-Za-z0-9_.!#$%&'*+^`|~-]{1,60}",
        prop_oneof![
            Just(None),
            Just(Some(CookiePrefix::Host)),
            Just(Some(CookiePrefix::Secure))
        ],
        1..=MAX_CHUNKS,
        256..=MAX_REQUEST_BUDGET,
        256..=COOKIE_LIMIT,
    )
        .prop_map(
            |(name, prefix, max_chunks, request_budget, cookie_limit)| Settings {
                name,
                prefix,
                max_chunks,
                request_budget,
                cookie_limit,
            },
        )
}

fn build(s: &Settings) -> Result<SessionCookie, Error> {
    let mut b = SessionCookie::builder(s.name.clone())
        .chunked(s.max_chunks)
        .request_budget(s.request_budget)
        .cookie_limit(s.cookie_limit);
    if let Some(prefix) = s.prefix {
        b = b.prefix(prefix);
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Split then join is the identity for every length up to the budget,
    /// whatever order and however many `Cookie` headers the browser uses;
    /// no cookie exceeds a browser limit and the request budget holds; one
    /// byte more is refused with the figures.
    #[test]
    fn split_then_join_is_the_identity(
        s in settings(),
        fraction in 0.0..=1.0f64,
        seed in any::<u64>(),
        order in any::<u64>(),
        headers in 1..4usize,
    ) {
        let Ok(cookie) = build(&s) else {
            // Only a name too long for these limits is refused.
            let e = config_error(build(&s));
            prop_assert!(matches!(e, CookieConfigError::NameTooLong { .. }), "{:?}", e);
            return Ok(());
        };
        let budget = cookie.token_budget();
        let len = 1 + ((budget - 1) as f64 * fraction) as usize;
        let token = base64url(len, seed);
        let expires = OffsetDateTime::now_utc() + Duration::days(1);
        let set = cookie.set(&token, Some(expires), &cookie.read([])).expect("fits");
        prop_assert!(set.len() <= s.max_chunks);

        let mut browser = Browser::default();
        browser.apply(&set, s.cookie_limit);
        let mut pairs = browser.pairs();
        let request_bytes: usize = pairs.iter().map(|p| p.len() + 2).sum();
        prop_assert!(request_bytes <= s.request_budget, "{request_bytes} > {}", s.request_budget);

        // Other cookies, any order, over `headers` headers.
        pairs.push("theme=dark".into());
        pairs.push("other.1=x".into());
        let n = pairs.len();
        pairs.rotate_left((order % n as u64) as usize);
        if order & 1 == 1 {
            pairs.reverse();
        }
        let per = n.div_ceil(headers);
        let joined: Vec<String> = pairs.chunks(per).map(|c| c.join("; ")).collect();
        let request = cookie.read(joined.iter().map(String::as_str));
        let joined = request.token().expect("joins");
        prop_assert_eq!(joined.as_deref(), Some(token.as_str()));

        let over = base64url(budget + 1, seed);
        match cookie.set(&over, None, &cookie.read([])) {
            Err(Error::Cookie(CookieError::TooLarge { size, limit, .. })) => {
                prop_assert_eq!((size, limit), (budget + 1, budget));
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    /// Whatever a request carries, reading is an answer, never a panic.
    #[test]
    fn any_cookie_header_reads_without_panic(
        header in "((session|session\\.[0-9x]{0,2}|other)=[A-Za-z0-9_.\"-]{0,12}; ?){0,6}",
    ) {
        for cookie in [
            SessionCookie::builder("session").build().expect("cookie"),
            SessionCookie::builder("session").chunked(MAX_CHUNKS).build().expect("cookie"),
        ] {
            let request = cookie.read([header.as_str()]);
            let _ = request.token();
            let _ = cookie.remove(&request);
        }
    }
}

#[test]
fn one_cookie_holds_exactly_the_browser_limit() {
    let cookie = SessionCookie::builder("session").build().expect("cookie");
    assert_eq!(cookie.token_budget(), COOKIE_LIMIT - "session".len());
    let exact = base64url(COOKIE_LIMIT - "session".len(), 1);
    let set = cookie.set(&exact, None, &cookie.read([])).expect("fits");
    let pair = &pairs_of(&set)[0];
    assert_eq!(pair.len() - 1, COOKIE_LIMIT, "name and value, without '='");

    let e = cookie
        .set(&base64url(exact.len() + 1, 1), None, &cookie.read([]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "session cookie: the sealed session is 4090 bytes, one cookie carries at most 4089 \
         (its name and value within the cookie limit and 6144 bytes of request header): \
         1 bytes over; store less or enable chunking"
    );
}

#[test]
fn the_default_chunk_budget_is_exact() {
    let cookie = SessionCookie::builder("session")
        .chunked(4)
        .build()
        .expect("cookie");
    let budget = cookie.token_budget();
    let set = cookie
        .set(&base64url(budget, 2), None, &cookie.read([]))
        .expect("fits");
    let bytes: usize = pairs_of(&set).iter().map(|p| p.len() + 2).sum();
    assert!(bytes <= DEFAULT_REQUEST_BUDGET && bytes > DEFAULT_REQUEST_BUDGET - 4);
    let e = cookie
        .set(&base64url(budget + 1, 2), None, &cookie.read([]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "session cookie: the sealed session is {} bytes, 4 chunks within 6144 bytes of \
             request header carry at most {budget}: 1 bytes over; store less",
            budget + 1
        )
    );
}

#[test]
fn domains_follow_the_host_name_grammar() {
    let refused = |domain: &str| {
        let e = config_error(SessionCookie::builder("s").domain(domain).build());
        (e.clone(), Error::CookieConfig(e).to_string())
    };
    for ok in [
        "example.com",
        ".example.com",
        "a-b.example",
        "x.y",
        "0.example",
        &format!("{}.example", "d".repeat(63)),
    ] {
        assert!(
            SessionCookie::builder("s").domain(ok).build().is_ok(),
            "{ok:?}"
        );
    }
    assert_eq!(
        refused("-example.com"),
        (
            CookieConfigError::DomainHyphen { at: 0 },
            "invalid cookie setting: Domain label has '-' at byte 0, a label may not start or \
             end with '-'; browsers ignore the cookie otherwise"
                .to_owned()
        )
    );
    assert_eq!(
        refused("example-.com").0,
        CookieConfigError::DomainHyphen { at: 7 }
    );
    assert_eq!(
        refused(".www.-example.com").0,
        CookieConfigError::DomainHyphen { at: 5 }
    );
    assert_eq!(
        refused(&format!("www.{}.example", "d".repeat(64))),
        (
            CookieConfigError::DomainLabel {
                at: 4,
                len: 64,
                max: 63
            },
            "invalid cookie setting: Domain label at byte 4 is 64 bytes, limit is 63; \
             browsers ignore the cookie otherwise"
                .to_owned()
        )
    );
    // 1,022 bytes of 63-byte labels: under the attribute limit, over a host name's.
    let long = vec!["d".repeat(63); 16].join(".") + ".example";
    assert_eq!(long.len(), 1031);
    let long = &long[..1022];
    assert_eq!(
        refused(long),
        (
            CookieConfigError::DomainTooLong {
                len: 1022,
                max: 253
            },
            "invalid cookie setting: Domain is 1022 bytes, limit is 253 for a host name; \
             browsers ignore the cookie otherwise"
                .to_owned()
        )
    );
    assert_eq!(
        refused(&format!(".{}", &long[..254])).0,
        CookieConfigError::DomainTooLong { len: 254, max: 253 }
    );
}

#[test]
fn settings_stop_at_each_limit() {
    let path = |len: usize| format!("/{}", "p".repeat(len - 1));
    // Labels of 63 bytes, the last one shorter: `len` bytes in all.
    let domain = |len: usize| {
        let mut d = String::new();
        while d.len() < len {
            if !d.is_empty() {
                d.push('.');
            }
            let label = (len - d.len()).min(63);
            d.push_str(&"d".repeat(label));
        }
        d
    };
    assert!(
        SessionCookie::builder("s")
            .path(path(ATTRIBUTE_LIMIT))
            .build()
            .is_ok()
    );
    assert_eq!(
        config_error(
            SessionCookie::builder("s")
                .path(path(ATTRIBUTE_LIMIT + 1))
                .build()
        ),
        CookieConfigError::AttributeTooLong {
            attribute: "Path",
            len: 1025,
            max: 1024
        }
    );
    assert!(
        SessionCookie::builder("s")
            .domain(domain(253))
            .build()
            .is_ok()
    );
    assert_eq!(
        config_error(SessionCookie::builder("s").domain(domain(254)).build()),
        CookieConfigError::DomainTooLong { len: 254, max: 253 }
    );
    assert!(matches!(
        config_error(
            SessionCookie::builder("s")
                .domain(domain(ATTRIBUTE_LIMIT + 1))
                .build()
        ),
        CookieConfigError::AttributeTooLong {
            attribute: "Domain",
            len: 1025,
            ..
        }
    ));
    for (limit, ok) in [(255, false), (256, true), (4096, true), (4097, false)] {
        let r = SessionCookie::builder("s").cookie_limit(limit).build();
        assert_eq!(r.is_ok(), ok, "cookie_limit {limit}");
    }
    for (budget, ok) in [
        (255, false),
        (256, true),
        (MAX_REQUEST_BUDGET, true),
        (MAX_REQUEST_BUDGET + 1, false),
    ] {
        let r = SessionCookie::builder("s").request_budget(budget).build();
        assert_eq!(r.is_ok(), ok, "request_budget {budget}");
    }
    for (chunks, ok) in [
        (0, false),
        (1, true),
        (MAX_CHUNKS, true),
        (MAX_CHUNKS + 1, false),
    ] {
        let r = SessionCookie::builder("s").chunked(chunks).build();
        assert_eq!(r.is_ok(), ok, "chunked {chunks}");
    }
    // A name that leaves less than the codec's smallest budget.
    let e = config_error(SessionCookie::builder("n".repeat(4000)).build());
    assert_eq!(
        e,
        CookieConfigError::NameTooLong {
            len: 4000,
            max: 4096 - 128
        }
    );
    assert!(
        SessionCookie::builder("n".repeat(4096 - 128))
            .build()
            .is_ok()
    );
}

/// CVE-2024-47764 and its kin: nothing a setting holds may end the
/// attribute it is in and start another, or start another header.
#[test]
fn no_setting_injects_an_attribute() {
    for name in [
        "session; Domain=evil.example",
        "session=x",
        "session id",
        "session\r\nSet-Cookie: x=y",
        "séssion",
        "session,other",
        "(session)",
    ] {
        let e = config_error(SessionCookie::builder(name).build());
        assert!(
            matches!(e, CookieConfigError::Name { .. }),
            "{name:?}: {e:?}"
        );
    }
    for path in [
        "/; Domain=evil.example",
        "/;Max-Age=999999999",
        "/\r\nSet-Cookie: x=y",
        "/a,b",
        "/a b",
        "/é",
    ] {
        let e = config_error(SessionCookie::builder("s").path(path).build());
        assert!(
            matches!(
                e,
                CookieConfigError::Attribute {
                    attribute: "Path",
                    ..
                }
            ),
            "{path:?}"
        );
    }
    for domain in [
        "example.com; Path=/evil",
        "example.com\r\nX: y",
        "example.com,evil.example",
        "exa mple.com",
        "example.com:8080",
    ] {
        let e = config_error(SessionCookie::builder("s").domain(domain).build());
        assert!(
            matches!(
                e,
                CookieConfigError::Attribute {
                    attribute: "Domain",
                    ..
                }
            ),
            "{domain:?}"
        );
    }
    // A value is a token: anything else is refused, not written.
    let cookie = SessionCookie::builder("s").build().expect("cookie");
    for value in [
        "AQID; Domain=evil.example",
        "AQID\r\nX: y",
        "AQ ID",
        "AQ.ID",
        "\"AQID\"",
    ] {
        assert!(
            matches!(
                cookie.set(value, None, &cookie.read([])),
                Err(Error::Malformed(Malformed::Base64))
            ),
            "{value:?}"
        );
    }
    // Every header written holds exactly the attributes configured.
    let cookie = SessionCookie::builder("s")
        .path("/app")
        .domain("example.com")
        .same_site(SameSite::Strict)
        .build()
        .expect("cookie");
    let set = cookie.set("AQID", None, &cookie.read([])).expect("fits");
    assert_eq!(
        set.headers(),
        ["s=AQID; HttpOnly; SameSite=Strict; Secure; Path=/app; Domain=example.com"]
    );
}

#[test]
fn prefixes_are_enforced_when_built() {
    let host = || SessionCookie::builder("id").prefix(CookiePrefix::Host);
    let rule = |r| match r {
        CookieConfigError::Prefix { rule, .. } => rule,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rule(config_error(host().secure(false).build())),
        "must be Secure"
    );
    assert_eq!(
        rule(config_error(host().path("/app").build())),
        "must have Path=/"
    );
    assert_eq!(
        rule(config_error(host().domain("example.com").build())),
        "must not have a Domain"
    );
    let secure = || SessionCookie::builder("id").prefix(CookiePrefix::Secure);
    assert_eq!(
        rule(config_error(secure().secure(false).build())),
        "must be Secure"
    );
    assert!(secure().path("/app").domain("example.com").build().is_ok());
    // A prefix written into the name counts, in any case, as browsers match it.
    for name in ["__Host-id", "__host-id", "__HOST-id"] {
        let e = config_error(SessionCookie::builder(name).domain("example.com").build());
        assert!(
            matches!(
                e,
                CookieConfigError::Prefix {
                    prefix: "__Host-",
                    ..
                }
            ),
            "{name}"
        );
    }
    assert!(matches!(
        config_error(SessionCookie::builder("__Secure-id").secure(false).build()),
        CookieConfigError::Prefix {
            prefix: "__Secure-",
            ..
        }
    ));
    assert_eq!(
        config_error(
            SessionCookie::builder("id")
                .same_site(SameSite::None)
                .secure(false)
                .build()
        ),
        CookieConfigError::SameSiteNoneWithoutSecure
    );
    // What a __Host- cookie writes, chunks and deletions included.
    let cookie = host()
        .chunked(3)
        .cookie_limit(1024)
        .build()
        .expect("cookie");
    let request = cookie.read(["__Host-id.1=abcd.x; __Host-id.2=abcd.y"]);
    let set = cookie.set("AQID", None, &request).expect("fits");
    assert_eq!(set.len(), 3);
    for header in &set {
        assert!(header.starts_with("__Host-id"), "{header}");
        assert!(header.contains("; Secure; Path=/"), "{header}");
        assert!(!header.contains("Domain"), "{header}");
    }
}

/// A session of 3 chunks shrinks to 1, then is removed: the browser ends up
/// holding exactly what the session uses.
#[test]
fn stale_chunks_are_deleted() {
    let cookie = SessionCookie::builder("session")
        .cookie_limit(1024)
        .chunked(8)
        .build()
        .expect("cookie");
    let mut browser = Browser::default();
    browser.jar.insert("theme".into(), "dark".into());
    let big = base64url(2500, 3);
    browser.apply(
        &cookie.set(&big, None, &cookie.read([])).expect("fits"),
        1024,
    );
    assert_eq!(
        browser.jar.keys().collect::<Vec<_>>(),
        ["session", "session.1", "session.2", "theme"]
    );

    let header = browser.pairs().join("; ");
    let request = cookie.read([header.as_str()]);
    assert_eq!(
        request.token().expect("joins").as_deref(),
        Some(big.as_str())
    );
    let set = cookie.set("AQID", None, &request).expect("fits");
    assert_eq!(set.len(), 3, "the session and two deletions");
    browser.apply(&set, 1024);
    assert_eq!(browser.jar.keys().collect::<Vec<_>>(), ["session", "theme"]);

    // From 3 chunks straight to none.
    browser.apply(
        &cookie.set(&big, None, &cookie.read([])).expect("fits"),
        1024,
    );
    let header = browser.pairs().join("; ");
    let removal = cookie.remove(&cookie.read([header.as_str()]));
    assert_eq!(removal.len(), 3);
    for h in &removal {
        assert!(
            h.contains("=; ") && h.contains("Max-Age=0") && h.contains("Path=/"),
            "{h}"
        );
    }
    browser.apply(&removal, 1024);
    assert_eq!(browser.jar.keys().collect::<Vec<_>>(), ["theme"]);
}

/// Up to 4 chunks of at most 1024 bytes: small sessions take several.
fn chunked_1024() -> SessionCookie {
    SessionCookie::builder("s")
        .cookie_limit(1024)
        .chunked(4)
        .build()
        .expect("cookie")
}

/// The `name=value` pairs that carry a token of `len` base64url characters.
fn chunk_pairs(cookie: &SessionCookie, len: usize, seed: u64) -> Vec<String> {
    pairs_of(
        &cookie
            .set(&base64url(len, seed), None, &cookie.read([]))
            .expect("fits"),
    )
}

#[test]
fn cookies_that_do_not_form_one_session_are_refused() {
    let cookie = chunked_1024();
    let write = |len, seed| chunk_pairs(&cookie, len, seed);
    let a = write(2500, 10); // three chunks
    let b = write(2500, 11); // three chunks of another session
    assert_eq!((a.len(), b.len()), (3, 3));
    let read = |pairs: &[&str]| cookie_error(cookie.read(pairs.iter().copied()).token());

    // Missing.
    assert_eq!(
        read(&[&a[0], &a[2]]),
        CookieError::MissingChunk { index: 1, count: 3 }
    );
    assert_eq!(
        read(&[&a[1], &a[2]]),
        CookieError::MissingChunk { index: 0, count: 3 }
    );
    // Duplicated, also with the same value, and across headers.
    assert_eq!(
        read(&[&a[0], &a[1], &a[2], &a[1]]),
        CookieError::Duplicate { name: "s.1".into() }
    );
    assert_eq!(
        read(&[&a[0], &b[0]]),
        CookieError::Duplicate { name: "s".into() }
    );
    // Two sessions' chunks: refused, not joined into a token that fails
    // authentication.
    assert_eq!(
        read(&[&a[0], &b[1], &a[2]]),
        CookieError::MixedChunks { index: 1 }
    );
    assert_eq!(
        read(&[&a[0], &a[1], &b[2]]),
        CookieError::MixedChunks { index: 2 }
    );
    // Malformed headers.
    assert_eq!(read(&["s=2.abcd."]), CookieError::ChunkHeader { index: 0 });
    assert_eq!(
        read(&["s=2.ab.xyz", "s.1=ab.x"]),
        CookieError::ChunkHeader { index: 0 }
    );
    assert_eq!(
        read(&["s=2.abcd.xyz", "s.1=abcdxyz"]),
        CookieError::ChunkHeader { index: 1 }
    );
    // More chunks than configured, and more bytes.
    assert_eq!(
        read(&["s=5.abcd.x"]),
        CookieError::TooManyChunks { count: 5, max: 4 }
    );
    let one = SessionCookie::builder("s").build().expect("cookie");
    // Without chunking, a chunked session is one of too many chunks.
    assert_eq!(
        cookie_error(one.read([a[0].as_str(), &a[1], &a[2]]).token()),
        CookieError::TooManyChunks { count: 3, max: 1 }
    );
    let huge = format!("s={}", base64url(cookie.token_budget() + 1, 5));
    assert!(matches!(
        read(&[&huge]),
        CookieError::RequestTooLarge { .. }
    ));

    // Every refusal can be cleaned up: the removal deletes the session's
    // cookies that were sent, and only those.
    let request = cookie.read(["s=AQID; s.1=x; s.3=w; s.01=y; s.x=z; s.sig=q"]);
    let names: Vec<String> = cookie
        .remove(&request)
        .into_iter()
        .map(|h| h.split('=').next().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["s", "s.1", "s.3"]);
}

/// Cookie tossing: a sibling domain (or another library on the same host,
/// such as Express's `session.sig`) sets cookies named like the session's.
/// Those that cannot be a chunk of this configuration, and chunks the
/// session does not use, are not read: the session still opens, and the
/// response never deletes another party's cookie.
#[test]
fn cookies_that_cannot_be_the_sessions_chunks_are_someone_elses() {
    let cookie = chunked_1024();
    let write = |len, seed| chunk_pairs(&cookie, len, seed);
    let three = write(2500, 10);
    let two = write(1500, 12);
    assert_eq!((three.len(), two.len()), (3, 2));
    let token = |pairs: &[&str]| {
        cookie
            .read(pairs.iter().copied())
            .token()
            .expect("opens")
            .map(|t| t.into_owned())
    };
    let whole = Some("AQID".to_owned());
    for name in [
        "s.0", "s.01", "s.9", "s.10", "s.x", "s.", "s.-1", "s.1.1", "s.sig", "s.4",
    ] {
        let pair = format!("{name}=abcd.x");
        assert_eq!(token(&["s=AQID", &pair]), whole, "{name}");
        // Twice, too: a duplicate of another party's cookie is theirs.
        assert_eq!(token(&["s=AQID", &pair, &pair]), whole, "{name}");
        let request = cookie.read(["s=AQID", &pair]);
        assert!(
            cookie
                .remove(&request)
                .headers()
                .iter()
                .all(|h| !h.starts_with(name)),
            "{name}"
        );
    }
    // Chunks a shorter session does not use: left over (or tossed), not
    // read; the next write deletes them.
    assert_eq!(token(&["s=AQID", &three[1], &three[2]]), whole);
    assert_eq!(token(&["s=AQID", &three[1], &two[1]]), whole);
    let joined = token(&[&two[0], &two[1], &three[2]]).expect("two chunks");
    assert_eq!(joined, base64url(1500, 12));
    let set = cookie
        .set(
            "AQID",
            None,
            &cookie.read([two[0].as_str(), &two[1], &three[2]]),
        )
        .expect("fits");
    let names: Vec<&str> = set
        .headers()
        .iter()
        .map(|h| h.split('=').next().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["s", "s.1", "s.2"],
        "the session, then the two deletions"
    );
    // Without chunking no `s.N` is the session's.
    let one = SessionCookie::builder("s").build().expect("cookie");
    assert_eq!(
        one.read(["s=AQID", &three[1]])
            .token()
            .expect("opens")
            .as_deref(),
        Some("AQID")
    );
    // What stays refused: the session's own name twice, and a chunk the
    // session needs, twice.
    assert_eq!(
        cookie_error(cookie.read(["s=AQID; s=AQIE"]).token()),
        CookieError::Duplicate { name: "s".into() }
    );
    assert_eq!(
        cookie_error(cookie.read([two[0].as_str(), &two[1], &three[1]]).token()),
        CookieError::Duplicate { name: "s.1".into() }
    );
}

/// Through the codec: the cookie's budget replaces the codec's, and the
/// browser's expiry follows the sealed one.
#[test]
fn sessions_round_trip_through_cookies() {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .budget(256) // the cookie's budget applies instead
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder("__Host-session")
        .chunked(4)
        .build()
        .expect("cookie");
    let mut session = common::large();
    session.history.extend(session.history.clone());
    let set = cookie
        .seal(&codec, &session, &cookie.read([]))
        .expect("seals");
    assert_eq!(set.len(), 2, "about 4.5 KB: two chunks");
    for header in &set {
        assert!(header.contains("; Max-Age=604800; Expires="), "{header}");
    }
    let mut browser = Browser::default();
    browser.apply(&set, COOKIE_LIMIT);
    let header = browser.pairs().join("; ");
    let request = cookie.read([header.as_str()]);
    let opened = cookie
        .open::<common::Large>(&codec, &request)
        .expect("opens")
        .expect("present");
    assert_eq!(opened.value(), &session);
    let expires = opened.claims().expires();
    let date = expires
        .format(&time::format_description::well_known::Rfc2822)
        .expect("formats");
    assert!(
        set.headers()[0].contains(&date[..16]),
        "{date} in {}",
        set.headers()[0]
    );

    // Re-sealed smaller: one cookie, and the other chunk deleted.
    let small = cookie
        .seal(&codec, &common::typical(), &request)
        .expect("seals");
    assert_eq!(pairs_of(&small)[1], "__Host-session.1=");
    browser.apply(&small, COOKIE_LIMIT);
    assert_eq!(browser.jar.len(), 1);

    // A tampered chunk opens to an error, not a panic.
    let mut pairs = pairs_of(&set);
    pairs[1].push('A');
    let tampered = cookie.read(pairs.iter().map(String::as_str));
    assert!(cookie.open::<common::Large>(&codec, &tampered).is_err());
}

/// The README's table of what fits in a cookie, for the typical session of
/// `tests/common` and that session with a growing `history` of 40-character
/// entries (the large shape), under the default codec and cookie settings.
#[test]
fn readme_figures_are_computed() {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let cbor_len = |value: &common::Large| {
        cbor4ii::serde::to_vec(Vec::new(), value)
            .expect("encodes")
            .len()
    };
    let with_history = |entries: usize| {
        let mut session = common::large();
        session.history = (0..entries).map(|i| format!("{i:0>40}")).collect();
        session
    };
    let typical_token = codec.seal(&common::typical()).expect("seals").len();
    let typical_cbor = cbor4ii::serde::to_vec(Vec::new(), &common::typical())
        .expect("encodes")
        .len();
    let mut rows = Vec::new();
    for (what, cookie) in [
        (
            "one cookie, `session`",
            SessionCookie::builder("session").build().expect("cookie"),
        ),
        (
            "chunked, `.chunked(2)` (2 cookies), default request budget (6144 bytes)",
            SessionCookie::builder("session")
                .chunked(2)
                .build()
                .expect("cookie"),
        ),
    ] {
        let fits = |entries| {
            cookie
                .seal(&codec, &with_history(entries), &cookie.read([]))
                .is_ok()
        };
        let most = (0..1000).take_while(|&n| fits(n)).last().expect("some fit");
        let payload = cbor_len(&with_history(most));
        rows.push(format!(
            "| {what} | {} | {most} | {payload} |",
            cookie.token_budget()
        ));
    }
    let table = format!(
        "| cookie | largest token (bytes) | history entries that fit | payload then (CBOR bytes) |\n\
         |---|---|---|---|\n\
         {}\n",
        rows.join("\n")
    );
    let sentence = format!(
        "The typical session is {typical_cbor} bytes of CBOR and a {typical_token}-byte token"
    );
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains(&table) && readme.contains(&sentence),
        "README.md must hold, as computed:\n\n{sentence}\n\n{table}"
    );
}

/// `tests/vectors/cookies.json`: the cookie encoding of FORMAT.md §11 for
/// other implementations, and a pin on this one.
mod vectors {
    use super::*;
    use serde::{Deserialize, Serialize};

    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/cookies.json");

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Config {
        name: String,
        max_chunks: usize,
        request_budget: usize,
        cookie_limit: usize,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Write {
        description: String,
        config: Config,
        token: String,
        /// The `name=value` pairs of the `Set-Cookie` headers, in order.
        cookies: Vec<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Read {
        description: String,
        config: Config,
        /// `Cookie` header values of one request.
        headers: Vec<String>,
        /// The joined token, or none.
        token: Option<String>,
        /// The error class (FORMAT.md §11.3), if refused.
        error: Option<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct File {
        description: String,
        write: Vec<Write>,
        read: Vec<Read>,
    }

    fn cookie(c: &Config) -> SessionCookie {
        SessionCookie::builder(c.name.clone())
            .chunked(c.max_chunks)
            .request_budget(c.request_budget)
            .cookie_limit(c.cookie_limit)
            .build()
            .expect("a valid configuration")
    }

    fn class(e: &CookieError) -> &'static str {
        match e {
            CookieError::Duplicate { .. } => "duplicate",
            CookieError::MissingChunk { .. } => "missing_chunk",
            CookieError::ChunkHeader { .. } => "chunk_header",
            CookieError::TooManyChunks { .. } => "too_many_chunks",
            CookieError::MixedChunks { .. } => "mixed_chunks",
            CookieError::RequestTooLarge { .. } => "request_too_large",
            other => panic!("not a reading error: {other:?}"),
        }
    }

    fn written(c: &Config, token: &str) -> Vec<String> {
        let cookie = cookie(c);
        pairs_of(&cookie.set(token, None, &cookie.read([])).expect("fits"))
    }

    fn read(c: &Config, headers: &[String]) -> (Option<String>, Option<String>) {
        let cookie = cookie(c);
        match cookie.read(headers.iter().map(String::as_str)).token() {
            Ok(token) => (token.map(|t| t.into_owned()), None),
            Err(Error::Cookie(e)) => (None, Some(class(&e).to_owned())),
            Err(other) => panic!("{other:?}"),
        }
    }

    fn generate() -> File {
        let config = |name: &str, max_chunks, cookie_limit| Config {
            name: name.into(),
            max_chunks,
            request_budget: DEFAULT_REQUEST_BUDGET,
            cookie_limit,
        };
        let small = || config("s", 4, 256);
        let mut write = Vec::new();
        for (description, config, token) in [
            (
                "fits in one cookie",
                config("session", 1, 4096),
                base64url(300, 1),
            ),
            (
                "exactly the cookie limit: name + value = 256",
                small(),
                base64url(255, 2),
            ),
            ("one byte over: two chunks", small(), base64url(256, 3)),
            ("three chunks", small(), base64url(600, 4)),
            (
                "a prefixed name",
                config("__Host-id", 4, 256),
                base64url(500, 5),
            ),
        ] {
            let cookies = written(&config, &token);
            write.push(Write {
                description: description.into(),
                config,
                token,
                cookies,
            });
        }
        let three = written(&small(), &base64url(600, 4));
        let other = written(&small(), &base64url(600, 6));
        let two = written(&small(), &base64url(300, 10));
        assert_eq!(two.len(), 2);
        let pair = |s: &str| s.to_owned();
        let mut read_cases = Vec::new();
        for (description, headers) in [
            ("no session cookie", vec![pair("theme=dark")]),
            (
                "one cookie among others",
                vec![format!("a=1; s={}; b=2", base64url(100, 7))],
            ),
            (
                "chunks out of order, over two headers",
                vec![format!("{}; {}", three[2], three[0]), three[1].clone()],
            ),
            ("quoted value", vec![format!("s=\"{}\"", base64url(100, 8))]),
            (
                "a chunk of another session",
                vec![three[0].clone(), other[1].clone(), three[2].clone()],
            ),
            ("a chunk missing", vec![three[0].clone(), three[2].clone()]),
            (
                "the first cookie missing",
                vec![three[1].clone(), three[2].clone()],
            ),
            ("a chunk twice", vec![three.join("; "), three[1].clone()]),
            (
                "a chunk left over by a larger session: not read",
                vec![pair("s=AQID"), three[1].clone()],
            ),
            (
                "a chunk beyond the count: not read",
                vec![two.join("; "), three[2].clone()],
            ),
            (
                "a chunk left over twice: not read",
                vec![pair("s=AQID"), three[1].clone(), other[1].clone()],
            ),
            ("the session cookie twice", vec![pair("s=AQID; s=AQIE")]),
            (
                "the session cookie twice, one value malformed: duplicate first",
                vec![pair("s=AQID; s=2.bad")],
            ),
            (
                "a leading zero in an index: another cookie",
                vec![pair("s=AQID"), three[1].replace("s.1=", "s.01=")],
            ),
            (
                "names that cannot be chunks: other cookies",
                vec![pair("s=AQID; s.sig=abcd; s.10=abcd.x; s.0=abcd.x; s.x=1")],
            ),
            ("an empty value: an empty token", vec![pair("s=")]),
            (
                "an empty quoted value: an empty token",
                vec![pair("s=\"\"")],
            ),
            (
                "chunk by chunk: chunk 1 of another session before chunk 2 missing",
                vec![three[0].clone(), other[1].clone()],
            ),
            (
                "chunk by chunk: chunk 1 missing before chunk 2 malformed",
                vec![three[0].clone(), pair("s.2=abcdxyz")],
            ),
            (
                "an index beyond this configuration's chunk limit: another cookie",
                vec![pair("s=AQID"), three[1].replace("s.1=", "s.4=")],
            ),
            ("count above the chunk limit", vec![pair("s=5.abcd.xyz")]),
            ("count of one", vec![pair("s=1.abcd.xyz")]),
            (
                "a chunk without its header",
                vec![pair("s=2.abcd.xyz"), pair("s.1=xyz")],
            ),
            (
                "headers consistent, token not",
                vec![pair("s=2.abcd.xyz"), pair("s.1=abcd.xyz")],
            ),
            (
                "more than this configuration writes",
                vec![format!("s={}", base64url(2000, 9))],
            ),
        ] {
            let (token, error) = read(&small(), &headers);
            read_cases.push(Read {
                description: description.into(),
                config: small(),
                headers,
                token,
                error,
            });
        }
        File {
            description: "Cookie encoding of sealed-session tokens (FORMAT.md §11). Tokens here are \
                          arbitrary base64url text: the encoding does not look inside them. `write`: \
                          a token and the name=value pairs of the Set-Cookie headers that carry it, \
                          in order. `read`: Cookie header values and the token they give, or the \
                          error class."
                .into(),
            write,
            read: read_cases,
        }
    }

    #[test]
    fn cookie_vectors_hold() {
        let file: File =
            serde_json::from_str(&std::fs::read_to_string(PATH).expect("vectors")).expect("json");
        assert!(file.write.len() >= 5 && file.read.len() >= 15);
        for v in &file.write {
            assert_eq!(written(&v.config, &v.token), v.cookies, "{}", v.description);
            let (token, error) = read(&v.config, &[v.cookies.join("; ")]);
            assert_eq!(
                (token.as_deref(), error),
                (Some(v.token.as_str()), None),
                "{}",
                v.description
            );
        }
        for v in &file.read {
            assert_eq!(
                read(&v.config, &v.headers),
                (v.token.clone(), v.error.clone()),
                "{}",
                v.description
            );
        }
        // Every error class appears.
        for class in [
            "duplicate",
            "missing_chunk",
            "chunk_header",
            "too_many_chunks",
            "mixed_chunks",
            "request_too_large",
        ] {
            assert!(
                file.read.iter().any(|v| v.error.as_deref() == Some(class)),
                "{class}"
            );
        }
    }

    /// Rewrites the file: only for a deliberate change of FORMAT.md §11.
    #[test]
    #[ignore = "writes tests/vectors/cookies.json"]
    fn write_cookie_vectors() {
        let text = serde_json::to_string_pretty(&generate()).expect("json");
        std::fs::write(PATH, text + "\n").expect("write");
    }
}

#[test]
fn debug_output_never_shows_a_token() {
    let cookie = SessionCookie::builder("s")
        .chunked(4)
        .cookie_limit(256)
        .build()
        .expect("cookie");
    let token = base64url(600, 21);
    let set = cookie.set(&token, None, &cookie.read([])).expect("fits");
    let pairs = pairs_of(&set);
    let request = cookie.read(pairs.iter().map(String::as_str));
    for shown in [format!("{set:?}"), format!("{request:?}")] {
        for pair in &pairs {
            let value = pair.split_once('=').expect("pair").1;
            assert!(!shown.contains(&value[10..40]), "{shown}");
        }
    }
}

/// A test of the cookie layer can fix the time: `Max-Age` and `Expires`
/// count from the time the codec is given (`SealOptions::at`), and
/// `open_at` opens at a chosen time, so the headers are the same every run.
#[test]
fn the_cookie_layer_takes_the_time_the_codec_takes() {
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .max_lifetime(time::Duration::days(7))
        .idle_timeout(time::Duration::hours(2))
        .build()
        .expect("codec");
    let cookie = SessionCookie::builder("s").build().expect("cookie");
    let then = time::OffsetDateTime::from_unix_timestamp(1_577_836_800).expect("2020-01-01");
    let set = cookie
        .seal_with(&codec, &1u8, SealOptions::new().at(then), &cookie.read([]))
        .expect("seals");
    let header = &set.headers()[0];
    assert!(
        header.contains("; Max-Age=7200; Expires=Wed, 01 Jan 2020 02:00:00 GMT"),
        "{header}"
    );
    let pair = header.split(';').next().expect("pair").to_owned();
    let request = cookie.read([pair.as_str()]);
    let later = then + time::Duration::hours(1);
    let opened = cookie
        .open_at::<u8>(&codec, &request, later)
        .expect("opens then")
        .expect("present");
    let renewed = cookie
        .reseal_with(&codec, &opened, SealOptions::new().at(later), &request)
        .expect("re-seals");
    assert!(
        renewed.headers()[0].contains("; Max-Age=7200; Expires=Wed, 01 Jan 2020 03:00:00 GMT"),
        "{}",
        renewed.headers()[0]
    );
    // Without a time, the real clock: the 2020 session is long over.
    assert!(matches!(
        cookie.open::<u8>(&codec, &request),
        Err(Error::Expired { .. })
    ));
}
