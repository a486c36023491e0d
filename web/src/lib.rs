//! runstore web
