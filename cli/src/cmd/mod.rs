//! One file per subcommand.

pub(crate) mod demo;
pub(crate) mod inspect;
pub(crate) mod keygen;
pub(crate) mod open;
pub(crate) mod revoke;
pub(crate) mod ring;
pub(crate) mod seal;
