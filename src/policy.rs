//! The expiry policy of a codec: the settings it is built with, checked once,
//! and the rules of FORMAT.md §6 applied at seal and open time.

use time::Duration;

use crate::claims::Claims;
use crate::clock::MAX_UNIX;
use crate::error::{ConfigError, Error};

pub(crate) const DEFAULT_MAX_LIFETIME: Duration = Duration::days(7);
pub(crate) const DEFAULT_LEEWAY: Duration = Duration::seconds(30);
/// Chrome caps a cookie's lifetime at 400 days; so do we.
const MAX_LIFETIME_SECONDS: i64 = 400 * 86_400;
/// Leeway is for clock skew between nodes, not for extending sessions.
const MAX_LEEWAY_SECONDS: i64 = 600;

/// The expiry settings of a codec, in whole seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) max_lifetime: i64,
    pub(crate) idle_timeout: Option<i64>,
    pub(crate) leeway: i64,
}

impl Policy {
    /// Checks the builder's settings: lifetimes positive and at most 400
    /// days, leeway at most 10 minutes.
    pub(crate) fn new(
        max_lifetime: Duration,
        idle_timeout: Option<Duration>,
        leeway: Duration,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            max_lifetime: seconds_of("max_lifetime", max_lifetime, false, MAX_LIFETIME_SECONDS)?,
            idle_timeout: idle_timeout
                .map(|d| seconds_of("idle_timeout", d, false, MAX_LIFETIME_SECONDS))
                .transpose()?,
            leeway: seconds_of("leeway", leeway, true, MAX_LEEWAY_SECONDS)?,
        })
    }

    /// The `expires` to seal for a session created at `created`, with its
    /// own `lifetime` if it has one, and sealed now at `issued` (FORMAT.md
    /// §6.1): the codec's maximum bounds the session's own lifetime.
    pub(crate) fn expires_for(&self, created: i64, issued: i64, lifetime: Option<i64>) -> i64 {
        let lifetime = lifetime.map_or(self.max_lifetime, |l| l.min(self.max_lifetime));
        let absolute = created.saturating_add(lifetime);
        let idle = self
            .idle_timeout
            .map_or(i64::MAX, |t| issued.saturating_add(t));
        absolute.min(idle).min(MAX_UNIX)
    }

    /// FORMAT.md §6.2: the token's own `expires`, and this policy's limits
    /// recomputed from `created` and `issued`, all with the leeway.
    pub(crate) fn check(&self, claims: &Claims, now: i64) -> Result<(), Error> {
        let (created, issued, expires) = (
            claims.created_unix(),
            claims.issued_unix(),
            claims.expires_unix(),
        );
        if issued > now.saturating_add(self.leeway) {
            return Err(Error::NotYetValid { issued, now });
        }
        let end = expires.min(self.expires_for(created, issued, claims.lifetime_seconds()));
        if now >= end.saturating_add(self.leeway) {
            return Err(Error::Expired { at: end, now });
        }
        Ok(())
    }
}

/// Whole seconds of a duration setting, checked to be positive (or zero where
/// allowed) and at most `max`.
fn seconds_of(
    setting: &'static str,
    d: Duration,
    allow_zero: bool,
    max: i64,
) -> Result<i64, ConfigError> {
    let seconds = d.whole_seconds();
    if seconds < 0 || (seconds == 0 && !allow_zero) {
        return Err(ConfigError::NonPositiveDuration { setting, seconds });
    }
    if seconds > max {
        return Err(ConfigError::DurationTooLong {
            setting,
            seconds,
            max,
        });
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SessionId;

    #[test]
    fn exactly_at_expires_is_expired() {
        let policy = Policy {
            max_lifetime: 100,
            idle_timeout: None,
            leeway: 0,
        };
        let claims = Claims::new(SessionId::from_bytes([7; 16]), None, 1000, 1000, 1100);
        assert!(policy.check(&claims, 1099).is_ok());
        assert!(matches!(
            policy.check(&claims, 1100),
            Err(Error::Expired {
                at: 1100,
                now: 1100
            })
        ));
    }
}
