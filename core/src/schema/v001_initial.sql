-- runstore schema v1.
--
-- Conventions
--   * Times are INTEGER Unix milliseconds in columns named *_ms.
--   * Identities users see (experiments, trials, runs, models, versions, artifacts, datasets)
--     are TEXT ULIDs, unique across machines so that files can be merged.
--     Integer keys (metric_series.id, metric_chunks.id) are file-local and remapped on merge.
--   * A REAL column that holds a measured value stores NaN as NULL (SQLite cannot hold a NaN
--     REAL); where NULL could also mean "no value yet", a count column tells them apart.
--     +Inf and -Inf are stored as themselves. Point values live in blobs and keep every bit.

CREATE TABLE runstore_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE experiments (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'active',
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    results_json TEXT
);

CREATE TABLE trials (
    id            TEXT PRIMARY KEY,
    experiment_id TEXT NOT NULL REFERENCES experiments(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    created_ms    INTEGER NOT NULL,
    UNIQUE (experiment_id, name)
);

-- A run's recorded status is its lifecycle as the recorder saw it. A run whose process died
-- stays 'running' in the file; readers compare heartbeat_ms with heartbeat_interval_ms and
-- show it as crashed (see read::RunStatus).
CREATE TABLE runs (
    id                    TEXT PRIMARY KEY,
    experiment_id         TEXT NOT NULL REFERENCES experiments(id),
    trial_id              TEXT REFERENCES trials(id),
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'killed')),
    created_ms            INTEGER NOT NULL,
    started_ms            INTEGER,
    ended_ms              INTEGER,
    heartbeat_ms          INTEGER,
    heartbeat_interval_ms INTEGER,
    host                  TEXT,
    pid                   INTEGER,
    error                 TEXT,
    results_json          TEXT
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, trial_id);

-- Typed parameters of experiments, trials (their config), runs and model versions. Nested
-- configs are flattened to dotted keys. `value` has no declared type, so an int stays an
-- INTEGER, a float a REAL (NaN as NULL), a bool 0/1, strings and JSON TEXT.
CREATE TABLE params (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('experiment', 'trial', 'run', 'model_version')),
    owner_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('int', 'float', 'bool', 'string', 'json')),
    value,
    PRIMARY KEY (owner_kind, owner_id, key)
) WITHOUT ROWID;

CREATE TABLE tags (
    owner_kind TEXT NOT NULL
        CHECK (owner_kind IN ('experiment', 'trial', 'run', 'model', 'model_version')),
    owner_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_value ON tags (owner_kind, key, value);

CREATE TABLE epochs (
    run_id     TEXT NOT NULL REFERENCES runs(id),
    idx        INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms   INTEGER,
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

CREATE TABLE batches (
    run_id     TEXT NOT NULL REFERENCES runs(id),
    epoch      INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms   INTEGER,
    PRIMARY KEY (run_id, epoch, idx)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------------------
-- Metrics: the performance core of runstore.
--
-- A series is (run, key, context, label): context is canonical JSON of the phase and any
-- other labels ({"phase":"val"}), label names one per-label value (e.g. the class of a
-- per-class accuracy; '' for the total). The series row carries its SUMMARY, maintained at
-- write time, so listing runs with last/min/max/mean of every metric reads one row per
-- series and never the points.
--
-- Points are stored in CHUNKS of up to 512 points per row, encoded column-wise in a blob
-- (see chunk.rs): about 11 bytes a point instead of ~40 for a row per point, bit-exact values
-- (NaN, ±Inf, -0.0), and one B-tree entry per 512 points, which is what makes recording
-- fast. A writer rewrites its open (partial) chunk at each flush until it is full.
--
-- OVERVIEWS keep, for each series at 8 fixed resolutions (buckets of 64 * 8^level steps,
-- level 0..7: 64 steps up to ~134M steps), the count, NaN count, first, last, min and max
-- (with their steps) of every bucket. A chart of any range reads the finest level with no
-- more buckets than its point budget -- a few thousand rows at most -- and every spike of the
-- range is still in it, because min and max are kept, not a sample.
-- ---------------------------------------------------------------------------------------
CREATE TABLE metric_series (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id),
    key        TEXT NOT NULL,
    context    TEXT NOT NULL DEFAULT '{}',
    label      TEXT NOT NULL DEFAULT '',
    count      INTEGER NOT NULL DEFAULT 0,  -- points, NaN included
    nan_count  INTEGER NOT NULL DEFAULT 0,
    first_step INTEGER,
    first_ms   INTEGER,
    last_step  INTEGER,
    last_ms    INTEGER,
    last_value REAL,                        -- NULL with count > 0: the last value was NaN
    min_value  REAL,                        -- over non-NaN values; NULL: none yet
    max_value  REAL,
    sum_value  REAL,                        -- over non-NaN values; NULL with finite count: NaN (+Inf + -Inf)
    UNIQUE (run_id, key, context, label)
);

CREATE TABLE metric_chunks (
    id         INTEGER PRIMARY KEY,
    series_id  INTEGER NOT NULL REFERENCES metric_series(id),
    first_step INTEGER NOT NULL,            -- smallest step in the chunk
    last_step  INTEGER NOT NULL,            -- largest step in the chunk
    count      INTEGER NOT NULL,
    data       BLOB NOT NULL
);
CREATE INDEX metric_chunks_by_series ON metric_chunks (series_id, first_step);

CREATE TABLE metric_overviews (
    series_id   INTEGER NOT NULL REFERENCES metric_series(id),
    level       INTEGER NOT NULL,           -- bucket width = 64 * 8^level steps
    bucket      INTEGER NOT NULL,           -- floor(step / width)
    count       INTEGER NOT NULL,
    nan_count   INTEGER NOT NULL,
    first_step  INTEGER NOT NULL,
    first_ms    INTEGER NOT NULL,
    first_value REAL,                       -- NULL: NaN
    last_step   INTEGER NOT NULL,
    last_ms     INTEGER NOT NULL,
    last_value  REAL,                       -- NULL: NaN
    min_step    INTEGER,                    -- NULL when every value in the bucket is NaN
    min_value   REAL,
    max_step    INTEGER,
    max_value   REAL,
    PRIMARY KEY (series_id, level, bucket)
) WITHOUT ROWID;

-- Artifacts can belong to an experiment, a trial, a run, an epoch or batch of a run, or a
-- model version: the owner columns say which (the most specific one set).
CREATE TABLE artifacts (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'file',
    uri              TEXT NOT NULL,
    size_bytes       INTEGER,
    sha256           TEXT,
    created_ms       INTEGER NOT NULL,
    experiment_id    TEXT REFERENCES experiments(id),
    trial_id         TEXT REFERENCES trials(id),
    run_id           TEXT REFERENCES runs(id),
    epoch            INTEGER,
    batch            INTEGER,
    model_version_id TEXT,
    metadata_json    TEXT
);
CREATE INDEX artifacts_by_experiment ON artifacts (experiment_id);
CREATE INDEX artifacts_by_trial ON artifacts (trial_id);
CREATE INDEX artifacts_by_run ON artifacts (run_id, epoch, batch);
CREATE INDEX artifacts_by_model_version ON artifacts (model_version_id);

-- Provenance of a run: datasets read or written, the code, the environment.
CREATE TABLE datasets (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs(id),
    role        TEXT NOT NULL CHECK (role IN ('input', 'output')),
    name        TEXT NOT NULL,
    path        TEXT,
    rows        INTEGER,
    columns     INTEGER,
    schema_json TEXT,
    size_bytes  INTEGER,
    sha256      TEXT,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX datasets_by_run ON datasets (run_id);

CREATE TABLE code_versions (
    run_id      TEXT PRIMARY KEY REFERENCES runs(id),
    git_commit  TEXT,
    git_branch  TEXT,
    git_dirty   INTEGER,
    repo_root   TEXT,
    entrypoint  TEXT,
    files_json  TEXT,                       -- [{"path": ..., "sha256": ...}]
    captured_ms INTEGER NOT NULL
);

CREATE TABLE environments (
    run_id        TEXT PRIMARY KEY REFERENCES runs(id),
    os            TEXT,
    os_version    TEXT,
    hostname      TEXT,
    cpu           TEXT,
    cpu_count     INTEGER,
    memory_bytes  INTEGER,
    gpu           TEXT,
    runtimes_json TEXT,                     -- {"rustc": "1.95.0", "python": "3.11.7", ...}
    packages_json TEXT,                     -- {"name": "version", ...}
    captured_ms   INTEGER NOT NULL
);

-- System resources over time (the collector's resource monitor) and timed operations.
CREATE TABLE resource_samples (
    run_id  TEXT REFERENCES runs(id),
    time_ms INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('cpu', 'ram', 'gpu', 'disk', 'net')),
    name    TEXT NOT NULL,                  -- system_total, process_tree, gpu0_util, ...
    value   REAL,                           -- NULL: NaN
    unit    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX resource_samples_by_kind ON resource_samples (kind, name, time_ms);
CREATE INDEX resource_samples_by_run ON resource_samples (run_id, time_ms);

CREATE TABLE spans (
    id              INTEGER PRIMARY KEY,
    run_id          TEXT REFERENCES runs(id),
    name            TEXT NOT NULL,
    start_ms        INTEGER NOT NULL,
    duration_ms     REAL NOT NULL,
    attributes_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX spans_by_name ON spans (name, start_ms);
CREATE INDEX spans_by_run ON spans (run_id, start_ms);

-- Model registry.
CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);

CREATE TABLE model_versions (
    id            TEXT PRIMARY KEY,
    model_id      TEXT NOT NULL REFERENCES models(id),
    version       INTEGER NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    storage_path  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT,
    source_run_id TEXT REFERENCES runs(id),
    created_ms    INTEGER NOT NULL,
    UNIQUE (model_id, version)
);

CREATE TABLE model_aliases (
    model_id   TEXT NOT NULL REFERENCES models(id),
    alias      TEXT NOT NULL,
    version_id TEXT NOT NULL REFERENCES model_versions(id),
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;
