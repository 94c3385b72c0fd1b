//! The rules that decide, after the handler, what the response does about
//! the session: nothing, remove it, seal a new one, or re-seal the
//! request's (changed, or refreshed).

use crate::codec::{Codec, Opened};
use crate::ids::SessionId;

use super::exchange::Incoming;
use super::session::State;

/// What the response must do about the session.
pub(super) enum Action<T> {
    Nothing,
    Remove,
    /// A session the request did not carry: a new id (the one the handler
    /// was told, if it asked), created now, or after `after` (the creation
    /// of a session whose id folds into a line that must not refuse this
    /// one).
    Seal {
        value: T,
        subject: Option<String>,
        id: Option<SessionId>,
        after: Option<i64>,
        /// The session's own lifetime ("remember me"), if it has one.
        lifetime: Option<time::Duration>,
    },
    /// The request's session.
    Reseal(Reseal<T>),
}

pub(super) struct Reseal<T> {
    pub(super) opened: Opened<T>,
    /// A new subject (`Some(None)`: none), or keep the session's.
    pub(super) subject: Option<Option<String>>,
    /// A new session id, keeping `created` (regenerate).
    pub(super) new_id: bool,
    /// That new id, if the handler asked for it.
    pub(super) id: Option<SessionId>,
    /// Nothing changed: only a refresh (older key, half the idle timeout).
    pub(super) refresh_only: bool,
    /// A lifetime the handler set, replacing the session's own
    /// (`Some(None)`: removed), or keep the session's.
    pub(super) lifetime: Option<Option<time::Duration>>,
}

/// The rules of the layer, in one place.
pub(super) fn decide<T>(state: &mut State<T>, incoming: &Incoming, codec: &Codec) -> Action<T> {
    let opened = if state.destroyed {
        None
    } else {
        state.opened.take()
    };
    let Some(value) = state.value.take() else {
        return if state.destroyed || incoming.rejected {
            Action::Remove
        } else {
            Action::Nothing
        };
    };
    let id = state.next_id.take();
    let set_lifetime = state.lifetime.take();
    let Some(opened) = opened else {
        return Action::Seal {
            value,
            subject: state.subject.take().flatten(),
            id,
            after: None,
            lifetime: set_lifetime.flatten(),
        };
    };
    // A session sealed anew for the same user keeps its own lifetime
    // unless the handler set one, within the codec's current maximum (an
    // operator may have lowered it): never a 500 for an old choice.
    let inherited = opened
        .claims()
        .lifetime()
        .map(|l| l.min(codec.max_lifetime()));
    let lifetime = set_lifetime.unwrap_or(inherited);
    let subject = state.subject.take();
    // A new subject (log-in, log-out of the user) is a new session: new
    // id and new `created`, so that a "log out everywhere" made before it
    // never refuses it.
    // Another user (or none): the previous user's "remember me" does not
    // carry over; only a lifetime set in this request does.
    if let Some(subject) = subject {
        return Action::Seal {
            value,
            subject,
            id,
            after: None,
            lifetime: set_lifetime.flatten(),
        };
    }
    let new_id = state.regenerate;
    // A regenerated session keeps `created`, so folding its previous id
    // into the subject's line would refuse it too: past the store's
    // per-subject count it is sealed as a new session (created now), as
    // at a log-in.
    if new_id {
        if let (Some(store), Some(subject)) = (codec.revocations(), opened.claims().subject()) {
            if store.folds_next(subject) {
                return Action::Seal {
                    subject: Some(subject.to_owned()),
                    after: Some(opened.claims().created_unix()),
                    value,
                    id,
                    lifetime,
                };
            }
        }
    }
    let changed = state.changed || new_id || set_lifetime.is_some();
    let half_idle = codec.idle_timeout().is_some_and(|idle| {
        incoming.now - opened.claims().issued_unix() > idle.whole_seconds() / 2
    });
    if changed || opened.needs_reseal() || half_idle {
        Action::Reseal(Reseal {
            opened: opened.with_value(value),
            subject: None,
            new_id,
            id: id.filter(|_| new_id),
            refresh_only: !changed,
            lifetime: set_lifetime,
        })
    } else {
        Action::Nothing
    }
}
