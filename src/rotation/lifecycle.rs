//! One key's life: when it was made, when it starts sealing, when it stops,
//! and what that makes it at a given instant.

use time::{Duration, OffsetDateTime};

use crate::error::{Error, RotationError};
use crate::ids::KeyId;

/// When a key was created, when it starts sealing (`activates`) and when it
/// stops (`retires`). A retired key still opens the tokens it sealed until
/// the longest of them has ended: `retires` plus the codec's maximum
/// lifetime and leeway (the *keep* of [`KeySchedule`](crate::KeySchedule)
/// queries), then it drops out.
///
/// ```
/// use sealed_session::Lifecycle;
/// use time::{Duration, OffsetDateTime};
/// let created = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
/// let life = Lifecycle::new(created, created + Duration::days(2), created + Duration::days(32));
/// assert_eq!(life.drops_out(Duration::days(7)), created + Duration::days(39));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    created: OffsetDateTime,
    activates: OffsetDateTime,
    retires: OffsetDateTime,
}

impl Lifecycle {
    /// A lifecycle; [`KeySchedule::add`](crate::KeySchedule::add) checks
    /// that it activates no later than it retires.
    pub fn new(
        created: OffsetDateTime,
        activates: OffsetDateTime,
        retires: OffsetDateTime,
    ) -> Self {
        Self {
            created,
            activates,
            retires,
        }
    }

    /// When the key was made (informational: it plays no part in choosing
    /// the key that seals, except to break a tie of activation times).
    pub fn created(&self) -> OffsetDateTime {
        self.created
    }

    /// When the key starts sealing; before it, it only opens.
    pub fn activates(&self) -> OffsetDateTime {
        self.activates
    }

    /// When the key stops sealing; after it, it only opens.
    pub fn retires(&self) -> OffsetDateTime {
        self.retires
    }

    /// When the key stops opening: `retires + keep`, where `keep` is how
    /// long a token sealed at the last instant may still open (the codec's
    /// maximum lifetime plus its leeway, [`keep_for`](crate::keep_for)).
    pub fn drops_out(&self, keep: Duration) -> OffsetDateTime {
        self.retires.saturating_add(keep)
    }

    /// Whether `at` falls within `[activates, retires)`.
    pub(crate) fn may_seal_at(&self, at: OffsetDateTime) -> bool {
        self.activates <= at && at < self.retires
    }

    pub(crate) fn with_retires(mut self, retires: OffsetDateTime) -> Self {
        self.retires = retires;
        self
    }

    /// # Errors
    /// [`RotationError::Lifecycle`] if it activates after it retires.
    pub(crate) fn check(&self, key: KeyId) -> Result<(), Error> {
        if self.activates > self.retires {
            return Err(RotationError::Lifecycle {
                key,
                activates: self.activates.unix_timestamp(),
                retires: self.retires.unix_timestamp(),
            }
            .into());
        }
        Ok(())
    }
}

/// What a key of a schedule does at an instant.
///
/// | state | seals | opens | when |
/// |---|---|---|---|
/// | `Pending` | no | yes | before `activates`: every node learns it before any seals with it |
/// | `Active` | yes | yes | the newest key whose activation has passed and which has not retired |
/// | `Retiring` | no | yes | retired (or superseded by a newer active key), until `retires + keep` |
/// | `Retired` | no | no | from `retires + keep` on: no live session needs it; rotation drops it |
///
/// ```
/// use sealed_session::KeyState;
/// assert_eq!(KeyState::Retiring.as_str(), "retiring");
/// assert!(KeyState::Pending.opens() && !KeyState::Pending.seals());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Not activated yet: opens (tokens from a node whose clock runs ahead),
    /// does not seal.
    Pending,
    /// The key that seals.
    Active,
    /// No longer seals; still opens what it sealed.
    Retiring,
    /// Past every session it sealed: opens nothing.
    Retired,
}

impl KeyState {
    /// `"pending"`, `"active"`, `"retiring"` or `"retired"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }

    /// Whether a key in this state seals new tokens.
    pub fn seals(self) -> bool {
        self == Self::Active
    }

    /// Whether a key in this state opens tokens.
    pub fn opens(self) -> bool {
        self != Self::Retired
    }
}
