//! Entry points for the fuzz targets in `fuzz/` (see `fuzz/README.md`). Not
//! public API.
