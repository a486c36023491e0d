//! runstore native
