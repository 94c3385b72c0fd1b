//! A codec that can be replaced while it serves: what a session layer or
//! middleware of any framework holds, so that a new key ring takes effect
//! from the next request on.

use std::sync::{Arc, PoisonError, RwLock};

use crate::codec::Codec;
use crate::error::{ConfigError, Error};

/// Replaces the codec of a session layer (axum's `SessionLayer`,
/// actix-web's `SessionMiddleware`) while it serves: requests already
/// started finish with the codec they began with. Clones share the one
/// codec.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use sealed_session::axum::SessionLayer;
/// use sealed_session::{Codec, Key, KeyRing, SessionCookie};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let layer = SessionLayer::<u64>::new(codec, SessionCookie::builder("session").build()?);
/// let handle = layer.codec_handle();
/// let next = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let next_key = next.key_ring().primary().id();
/// handle.replace(next)?;
/// assert_eq!(handle.current().key_ring().primary().id(), next_key);
/// # }
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CodecHandle {
    codec: Arc<RwLock<Codec>>,
}

impl CodecHandle {
    /// A handle that starts with `codec`: a layer makes its own, and hands
    /// out clones of it (`codec_handle()`).
    pub(crate) fn new(codec: Codec) -> Self {
        Self {
            codec: Arc::new(RwLock::new(codec)),
        }
    }

    /// The codec in use now.
    pub fn current(&self) -> Codec {
        self.codec
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Uses `codec` from the next request on.
    ///
    /// # Errors
    /// [`ConfigError::RevocationStoreChanged`] (and the codec in use stays)
    /// if the codec in use checks a revocation store and `codec` does not
    /// check that same store: a reload that forgot `.revocations(store)`
    /// would make every revoked cookie open again.
    ///
    /// ```
    /// # #[cfg(all(feature = "axum", feature = "revocation"))] {
    /// use std::sync::Arc;
    /// use sealed_session::axum::SessionLayer;
    /// use sealed_session::{Codec, Key, KeyRing, MemoryRevocations, SessionCookie};
    /// let store = Arc::new(MemoryRevocations::new());
    /// let ring = KeyRing::new(Key::generate());
    /// let codec = Codec::builder(ring.clone()).revocations(store.clone()).build()?;
    /// let layer = SessionLayer::<u64>::new(codec, SessionCookie::builder("session").build()?);
    /// let forgot = Codec::builder(ring.clone()).build()?;
    /// assert!(layer.codec_handle().replace(forgot).is_err());
    /// let kept = Codec::builder(ring).revocations(store).build()?;
    /// layer.codec_handle().replace(kept)?;
    /// # }
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn replace(&self, codec: Codec) -> Result<(), Error> {
        let mut current = self.codec.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = current.revocations() {
            let same = codec
                .revocations()
                .is_some_and(|next| std::ptr::addr_eq(Arc::as_ptr(store), Arc::as_ptr(next)));
            if !same {
                return Err(ConfigError::RevocationStoreChanged.into());
            }
        }
        *current = codec;
        Ok(())
    }
}
