//! Artifacts and datasets as the caller describes them; files are hashed when recorded.

use std::path::PathBuf;

use runstore_core::event::{ArtifactOwner, ArtifactRecord, DatasetRecord, DatasetRole};
use runstore_core::{Event, Id};

use crate::Result;
use crate::clock::{new_id, now_ms};
use crate::hash::file_sha256;
use crate::recorder::Recorder;

#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    Uri(String),
}

/// An artifact to record: a local file (hashed with SHA-256 when recorded) or a URI.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    name: String,
    kind: String,
    location: Location,
    metadata: Option<serde_json::Value>,
}

impl ArtifactSpec {
    /// A local file; its size and SHA-256 are recorded.
    pub fn file(name: &str, kind: &str, path: impl Into<PathBuf>) -> ArtifactSpec {
        ArtifactSpec {
            name: name.to_string(),
            kind: kind.to_string(),
            location: Location::File(path.into()),
            metadata: None,
        }
    }

    /// Something elsewhere (`s3://...`, `https://...`), recorded as given.
    pub fn uri(name: &str, kind: &str, uri: &str) -> ArtifactSpec {
        ArtifactSpec {
            name: name.to_string(),
            kind: kind.to_string(),
            location: Location::Uri(uri.to_string()),
            metadata: None,
        }
    }

    /// Attaches metadata.
    pub fn metadata(mut self, metadata: serde_json::Value) -> ArtifactSpec {
        self.metadata = Some(metadata);
        self
    }

    pub(crate) fn record(self, rec: &Recorder, owner: ArtifactOwner) -> Result<Id> {
        let (uri, size_bytes, sha256) = match self.location {
            Location::File(path) => {
                let (size, sha) = file_sha256(&path)?;
                let uri = std::path::absolute(&path).unwrap_or(path).display().to_string();
                (uri, Some(size as i64), Some(sha))
            }
            Location::Uri(uri) => (uri, None, None),
        };
        let id = new_id();
        rec.send(Event::Artifact(Box::new(ArtifactRecord {
            id: id.clone(),
            owner,
            name: self.name,
            kind: self.kind,
            uri,
            size_bytes,
            sha256,
            metadata: self.metadata,
            time_ms: now_ms(),
        })));
        Ok(id)
    }
}

/// A dataset a run reads or writes.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    name: String,
    role: DatasetRole,
    path: Option<PathBuf>,
    hash_file: bool,
    rows: Option<i64>,
    columns: Option<i64>,
    schema: Option<serde_json::Value>,
    content: Option<(String, Option<i64>)>,
}

impl DatasetSpec {
    /// A dataset the run reads.
    pub fn input(name: &str) -> DatasetSpec {
        DatasetSpec {
            name: name.to_string(),
            role: DatasetRole::Input,
            path: None,
            hash_file: false,
            rows: None,
            columns: None,
            schema: None,
            content: None,
        }
    }

    /// A dataset the run writes.
    pub fn output(name: &str) -> DatasetSpec {
        DatasetSpec { role: DatasetRole::Output, ..DatasetSpec::input(name) }
    }

    /// Where it is; a local file is hashed (size and SHA-256) when recorded.
    pub fn file(mut self, path: impl Into<PathBuf>) -> DatasetSpec {
        self.path = Some(path.into());
        self.hash_file = true;
        self
    }

    /// Where it is, without hashing (a directory, a remote URI).
    pub fn location(mut self, path: impl Into<PathBuf>) -> DatasetSpec {
        self.path = Some(path.into());
        self.hash_file = false;
        self
    }

    /// Its shape.
    pub fn shape(mut self, rows: i64, columns: i64) -> DatasetSpec {
        self.rows = Some(rows);
        self.columns = Some(columns);
        self
    }

    /// Its column schema, e.g. `{"x": "float32", "label": "int64"}`.
    pub fn schema(mut self, schema: serde_json::Value) -> DatasetSpec {
        self.schema = Some(schema);
        self
    }

    /// The SHA-256 (hex) and size in bytes of its content, for data that is not one file (a
    /// DataFrame in memory, hashed by the caller). A hashed [`DatasetSpec::file`] wins.
    pub fn content_hash(mut self, sha256: impl Into<String>, size_bytes: Option<i64>) -> DatasetSpec {
        self.content = Some((sha256.into(), size_bytes));
        self
    }

    pub(crate) fn record(self, rec: &Recorder, run_id: &Id) -> Result<Id> {
        let (size_bytes, sha256) = match (&self.path, self.hash_file, self.content) {
            (Some(path), true, _) => {
                let (size, sha) = file_sha256(path)?;
                (Some(size as i64), Some(sha))
            }
            (_, _, Some((sha, size))) => (size, Some(sha)),
            _ => (None, None),
        };
        let id = new_id();
        rec.send(Event::Dataset(Box::new(DatasetRecord {
            id: id.clone(),
            run_id: run_id.clone(),
            role: self.role,
            name: self.name,
            path: self.path.map(|p| p.display().to_string()),
            rows: self.rows,
            columns: self.columns,
            schema: self.schema,
            size_bytes,
            sha256,
            time_ms: now_ms(),
        })));
        Ok(id)
    }
}
