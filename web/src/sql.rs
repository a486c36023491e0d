//! The sql.js-compatible surface: `Database` (`exec`, `prepare`, `run`, `export`, `close`)
//! and `Statement` (`bind`, `step`, `get`, `getAsObject`, `getColumnNames`, `reset`, `free`),
//! with the same shapes as sql.js so code written for it keeps working. Opened files are
//! read-only, and a query that runs past the time budget is interrupted instead of freezing
//! the page.
//!
//! The console of a store (`runStore.sql()`) shares the store's connection, so what a console
//! query could change there — `PRAGMA query_only = 0`, a `TEMP` view named `runs` that would
//! shadow the file's table in the page's own queries, an `ATTACH`ed file — it must not be able
//! to change at all. An SQLite authorizer, consulted while SQLite compiles a console statement
//! (and while a statement runs, for the SQL a table-valued pragma compiles), lets through only
//! what reads: `SELECT`, reading tables and views, functions, recursive CTEs, and pragmas that
//! read (settings without a value, and the schema's `table_info`, `index_list`, ... with one).
//! Everything else is refused before it runs, with a message saying what was refused. The
//! page's own queries on the same connection are not restricted.
//!
//! Statements outlive a single call (`prepare` then many `step`s), which rusqlite's borrowing
//! `Statement` cannot express across the JS boundary, so this file drives SQLite's C API
//! directly; `unsafe` stays in this file.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::rc::Rc;

use runstore_core::Store;
use runstore_core::source::SourceStats;
use rusqlite::{Connection, ffi};
use wasm_bindgen::prelude::*;

use crate::js_source::JsSource;

/// Default time budget of one `exec` or `step`, in milliseconds.
const DEFAULT_BUDGET_MS: f64 = 5000.0;

thread_local! {
    /// When the running SQL console query must stop (`Date.now()` ms); 0 when none runs.
    static DEADLINE: Cell<f64> = const { Cell::new(0.0) };
    /// Whether SQL console work (compiling or stepping a statement) is in progress, so the
    /// authorizer of read-only consoles applies.
    static IN_CONSOLE: Cell<bool> = const { Cell::new(false) };
    /// What the authorizer refused last, for the error message.
    static REFUSED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// SQLite calls this every few thousand VM steps; non-zero interrupts the statement.
extern "C" fn past_deadline(_: *mut c_void) -> c_int {
    let deadline = DEADLINE.with(Cell::get);
    c_int::from(deadline > 0.0 && js_sys::Date::now() > deadline)
}

/// SQL console work in progress: until dropped, its time budget runs and the authorizer of
/// read-only consoles applies.
struct ConsoleWork;

impl ConsoleWork {
    fn start(budget_ms: f64) -> ConsoleWork {
        DEADLINE.with(|d| d.set(js_sys::Date::now() + budget_ms));
        IN_CONSOLE.with(|c| c.set(true));
        REFUSED.with(|r| r.borrow_mut().take());
        ConsoleWork
    }
}

impl Drop for ConsoleWork {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(0.0));
        IN_CONSOLE.with(|c| c.set(false));
    }
}

/// Pragmas that take an argument and only read: the argument names what to describe.
const DESCRIBING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// Pragmas that act even without an argument.
const ACTING_PRAGMAS: &[&str] = &["optimize", "incremental_vacuum", "wal_checkpoint", "shrink_memory"];

/// Whether a console statement may do `action` (SQLite's authorizer action codes); `None`, or
/// what to name in the error.
fn refusal(action: c_int, arg1: Option<&str>, arg2: Option<&str>) -> Option<String> {
    let is = |list: &[&str], name: &str| list.iter().any(|p| p.eq_ignore_ascii_case(name));
    match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_READ | ffi::SQLITE_FUNCTION | ffi::SQLITE_RECURSIVE => None,
        ffi::SQLITE_PRAGMA => {
            let name = arg1.unwrap_or_default();
            let reads = match arg2 {
                None => !is(ACTING_PRAGMAS, name),
                Some(_) => is(DESCRIBING_PRAGMAS, name),
            };
            (!reads).then(|| match arg2 {
                Some(value) => format!("PRAGMA {name} = {value}"),
                None => format!("PRAGMA {name}"),
            })
        }
        ffi::SQLITE_INSERT => Some(format!("INSERT INTO {}", arg1.unwrap_or_default())),
        ffi::SQLITE_UPDATE => Some(format!("UPDATE {}", arg1.unwrap_or_default())),
        ffi::SQLITE_DELETE => Some(format!("DELETE FROM {}", arg1.unwrap_or_default())),
        ffi::SQLITE_ATTACH => Some("ATTACH".into()),
        ffi::SQLITE_DETACH => Some("DETACH".into()),
        ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT => Some("transactions".into()),
        ffi::SQLITE_CREATE_TEMP_TABLE
        | ffi::SQLITE_CREATE_TEMP_VIEW
        | ffi::SQLITE_CREATE_TEMP_TRIGGER
        | ffi::SQLITE_CREATE_TEMP_INDEX => Some(format!("CREATE TEMP … {}", arg1.unwrap_or_default())),
        ffi::SQLITE_CREATE_TABLE
        | ffi::SQLITE_CREATE_VIEW
        | ffi::SQLITE_CREATE_TRIGGER
        | ffi::SQLITE_CREATE_INDEX
        | ffi::SQLITE_CREATE_VTABLE => Some(format!("CREATE … {}", arg1.unwrap_or_default())),
        ffi::SQLITE_ALTER_TABLE => Some("ALTER TABLE".into()),
        ffi::SQLITE_ANALYZE => Some("ANALYZE".into()),
        ffi::SQLITE_REINDEX => Some("REINDEX".into()),
        // DROP of any kind, and whatever later SQLite versions add.
        _ => Some(format!("this statement (SQLite authorizer action {action})")),
    }
}

/// The authorizer of read-only consoles: while console work is in progress, refuses what does
/// not only read (see the module docs); otherwise allows everything.
extern "C" fn authorize(
    _: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    _database: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    if !IN_CONSOLE.with(Cell::get) {
        return ffi::SQLITE_OK;
    }
    // SAFETY: SQLite passes NUL-terminated strings or null, alive for this call.
    let text = |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy());
    let (arg1, arg2) = (text(arg1), text(arg2));
    match refusal(action, arg1.as_deref(), arg2.as_deref()) {
        None => ffi::SQLITE_OK,
        Some(what) => {
            REFUSED.with(|r| *r.borrow_mut() = Some(what));
            ffi::SQLITE_DENY
        }
    }
}

/// The connection a `Database` queries: its own, or the one of a `RunStore` it shares.
pub enum Connected {
    /// A store's connection (`store.sql()`).
    Store(Rc<Store>),
    /// A plain SQLite file (not necessarily a runstore store).
    Plain(Connection),
}

impl Connected {
    fn conn(&self) -> &Connection {
        match self {
            Connected::Store(store) => store.conn(),
            Connected::Plain(conn) => conn,
        }
    }

    fn handle(&self) -> *mut ffi::sqlite3 {
        // SAFETY: the handle is only used while `self` (and so the connection) is alive.
        unsafe { self.conn().handle() }
    }
}

/// A database with sql.js's API. `new Database(bytes)` opens a copy of a file's bytes,
/// read-only; `new Database()` is an empty scratch database; `Database.openSource` reads a
/// file lazily; `runStore.sql()` queries an opened store.
#[wasm_bindgen]
pub struct Database {
    inner: Rc<Connected>,
    budget_ms: f64,
    source: Option<SourceStats>,
}

impl Database {
    /// A database over `inner`, with the interrupt hook installed; when `read_only`, writes are
    /// refused and console statements may only read (see the module docs).
    pub fn over(inner: Connected, source: Option<SourceStats>, read_only: bool) -> Result<Database, JsError> {
        let conn = inner.conn();
        if read_only {
            conn.pragma_update(None, "query_only", true).map_err(sql_error)?;
            // SAFETY: the callback takes no data pointer and outlives the connection (a fn item).
            unsafe { ffi::sqlite3_set_authorizer(inner.handle(), Some(authorize), std::ptr::null_mut()) };
        }
        // SAFETY: the callback takes no data pointer and outlives the connection (a fn item).
        unsafe {
            ffi::sqlite3_progress_handler(inner.handle(), 4096, Some(past_deadline), std::ptr::null_mut())
        };
        Ok(Database { inner: Rc::new(inner), budget_ms: DEFAULT_BUDGET_MS, source })
    }

    fn with_budget<T>(&self, f: impl FnOnce() -> Result<T, JsError>) -> Result<T, JsError> {
        let _work = ConsoleWork::start(self.budget_ms);
        f()
    }

    fn error(&self, code: c_int) -> JsError {
        console_error(code, self.budget_ms, self.inner.handle())
    }
}

#[wasm_bindgen]
impl Database {
    /// Opens a copy of a `.db` file's bytes, read-only (WAL-mode files included); with no
    /// bytes, an empty in-memory database that accepts writes.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Option<Vec<u8>>) -> Result<Database, JsError> {
        let Some(mut bytes) = bytes else {
            return Database::over(
                Connected::Plain(Connection::open_in_memory().map_err(sql_error)?),
                None,
                false,
            );
        };
        if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
            return Err(JsError::new(&format!("{} bytes without the SQLite header", bytes.len())));
        }
        for at in [18, 19] {
            if bytes[at] == 2 {
                bytes[at] = 1;
            }
        }
        let mut conn = Connection::open_in_memory().map_err(sql_error)?;
        let len = bytes.len();
        conn.deserialize_read_exact(rusqlite::MAIN_DB, &bytes[..], len, true).map_err(sql_error)?;
        Database::over(Connected::Plain(conn), None, true)
    }

    /// Opens a file of `size` bytes lazily, read-only: `read(offset, length)` must return a
    /// `Uint8Array` synchronously (in a worker: `FileReaderSync` or a synchronous request).
    /// `local`: as for `RunStore.openSource`.
    #[wasm_bindgen(js_name = openSource)]
    pub fn open_source(size: f64, read: js_sys::Function, local: Option<bool>) -> Result<Database, JsError> {
        let options = crate::store::source_options(local);
        let (conn, stats) =
            runstore_core::source::open_connection(Box::new(JsSource::new(size, read)), &options)
                .map_err(|e| JsError::new(&e.to_string()))?;
        Database::over(Connected::Plain(conn), Some(stats), true)
    }

    /// How long one `exec` or `step` may run before it is interrupted (default 5000 ms).
    #[wasm_bindgen(js_name = setTimeBudget)]
    pub fn set_time_budget(&mut self, ms: f64) {
        self.budget_ms = ms.max(1.0);
    }

    /// Runs every statement of `sql` (params bound to each) and returns, for each statement
    /// that produced rows, `{columns, values}`, as sql.js does.
    #[wasm_bindgen(unchecked_return_type = "QueryExecResult[]")]
    pub fn exec(
        &self,
        sql: &str,
        #[wasm_bindgen(unchecked_param_type = "BindParams | undefined")] params: JsValue,
    ) -> Result<js_sys::Array, JsError> {
        self.with_budget(|| {
            let results = js_sys::Array::new();
            let text = CString::new(sql).map_err(|_| JsError::new("the SQL contains a NUL character"))?;
            let mut rest = text.as_ptr();
            loop {
                let mut raw = std::ptr::null_mut();
                let mut tail = std::ptr::null();
                // SAFETY: `rest` points into `text`, NUL-terminated, alive for this loop.
                let rc =
                    unsafe { ffi::sqlite3_prepare_v2(self.inner.handle(), rest, -1, &mut raw, &mut tail) };
                if rc != ffi::SQLITE_OK {
                    return Err(self.error(rc));
                }
                if raw.is_null() {
                    break; // only whitespace or comments were left
                }
                let stmt = RawStatement { raw };
                stmt.bind(&params)?;
                let mut result: Option<(js_sys::Array, js_sys::Array)> = None;
                while stmt.step().map_err(|rc| self.error(rc))? {
                    let (_, values) =
                        result.get_or_insert_with(|| (stmt.column_names(), js_sys::Array::new()));
                    values.push(&stmt.row());
                }
                if let Some((columns, values)) = result {
                    let object = js_sys::Object::new();
                    set(&object, "columns", &columns);
                    set(&object, "values", &values);
                    results.push(&object);
                }
                rest = tail;
            }
            Ok(results)
        })
    }

    /// Runs `sql` for its effect (sql.js's `run`). Opened files refuse writes, and anything
    /// else that is not a read, with an error saying what was refused.
    pub fn run(
        &self,
        sql: &str,
        #[wasm_bindgen(unchecked_param_type = "BindParams | undefined")] params: JsValue,
    ) -> Result<(), JsError> {
        self.exec(sql, params).map(drop)
    }

    /// Prepares one statement, optionally binding `params`.
    pub fn prepare(
        &self,
        sql: &str,
        #[wasm_bindgen(unchecked_param_type = "BindParams | undefined")] params: JsValue,
    ) -> Result<Statement, JsError> {
        let text = CString::new(sql).map_err(|_| JsError::new("the SQL contains a NUL character"))?;
        let mut raw = std::ptr::null_mut();
        let work = ConsoleWork::start(self.budget_ms);
        // SAFETY: `text` is NUL-terminated and alive for the call.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.inner.handle(), text.as_ptr(), -1, &mut raw, std::ptr::null_mut())
        };
        drop(work);
        if rc != ffi::SQLITE_OK {
            return Err(self.error(rc));
        }
        if raw.is_null() {
            return Err(JsError::new("nothing to prepare: the SQL is empty"));
        }
        let statement =
            Statement { stmt: Some(RawStatement { raw }), db: self.inner.clone(), budget_ms: self.budget_ms };
        statement.raw()?.bind(&params)?;
        Ok(statement)
    }

    /// The database as the bytes of a `.db` file.
    pub fn export(&self) -> Result<Vec<u8>, JsError> {
        let mut size: ffi::sqlite3_int64 = 0;
        // SAFETY: the connection is live; SQLite returns a buffer of `size` bytes that we copy
        // and free exactly once.
        unsafe {
            let data = ffi::sqlite3_serialize(self.inner.handle(), c"main".as_ptr(), &mut size, 0);
            if data.is_null() {
                return Err(JsError::new("exporting the database failed (out of memory?)"));
            }
            let bytes = std::slice::from_raw_parts(data, size as usize).to_vec();
            ffi::sqlite3_free(data.cast());
            Ok(bytes)
        }
    }

    /// Rows changed by the last statement.
    #[wasm_bindgen(js_name = getRowsModified)]
    pub fn get_rows_modified(&self) -> f64 {
        self.inner.conn().changes() as f64
    }

    /// For lazily read files: `{fetches, bytes_fetched, page_reads, cached_bytes}`.
    #[wasm_bindgen(js_name = sourceStats, unchecked_return_type = "SourceCounters | null")]
    pub fn source_stats(&self) -> Result<JsValue, JsError> {
        match &self.source {
            Some(stats) => crate::convert::to_js(&stats.get()),
            None => Ok(JsValue::NULL),
        }
    }

    /// Releases the database (statements prepared from it keep it alive until freed).
    pub fn close(self) {}
}

/// A prepared statement with sql.js's API.
#[wasm_bindgen]
pub struct Statement {
    stmt: Option<RawStatement>,
    db: Rc<Connected>,
    budget_ms: f64,
}

impl Statement {
    fn raw(&self) -> Result<&RawStatement, JsError> {
        self.stmt.as_ref().ok_or_else(|| JsError::new("the statement was freed"))
    }
}

#[wasm_bindgen]
impl Statement {
    /// Binds an array (positional) or an object (`{":name": value}`, `$name`, `@name`, or a bare
    /// name); resets the statement first. Returns `true`.
    pub fn bind(&self, params: JsValue) -> Result<bool, JsError> {
        let stmt = self.raw()?;
        stmt.reset();
        stmt.bind(&params)?;
        Ok(true)
    }

    /// Steps to the next row: `true` while there is one.
    pub fn step(&self) -> Result<bool, JsError> {
        let stmt = self.raw()?;
        let work = ConsoleWork::start(self.budget_ms);
        let stepped = stmt.step();
        drop(work);
        stepped.map_err(|rc| console_error(rc, self.budget_ms, self.db.handle()))
    }

    /// The current row as an array (binding `params` and stepping first when given).
    pub fn get(&self, params: JsValue) -> Result<js_sys::Array, JsError> {
        if !params.is_undefined() && !params.is_null() {
            self.bind(params)?;
            self.step()?;
        }
        Ok(self.raw()?.row())
    }

    /// The current row as `{column: value}`.
    #[wasm_bindgen(js_name = getAsObject)]
    pub fn get_as_object(&self, params: JsValue) -> Result<js_sys::Object, JsError> {
        let row = self.get(params)?;
        // Column names are the user's (`SELECT 1 AS __proto__`): defined, never assigned.
        crate::convert::object_from_pairs(&self.raw()?.column_names(), &row)
    }

    /// Column names of the result.
    #[wasm_bindgen(js_name = getColumnNames)]
    pub fn get_column_names(&self) -> Result<js_sys::Array, JsError> {
        Ok(self.raw()?.column_names())
    }

    /// The SQL text.
    #[wasm_bindgen(js_name = getSQL)]
    pub fn get_sql(&self) -> Result<String, JsError> {
        // SAFETY: a live statement's SQL text is NUL-terminated and owned by SQLite.
        Ok(unsafe { CStr::from_ptr(ffi::sqlite3_sql(self.raw()?.raw)) }.to_string_lossy().into_owned())
    }

    /// Binds, steps through all rows, and resets (sql.js's `run`).
    pub fn run(&self, params: JsValue) -> Result<(), JsError> {
        if !params.is_undefined() && !params.is_null() {
            self.bind(params)?;
        }
        while self.step()? {}
        self.reset();
        Ok(())
    }

    /// Starts the statement over, keeping its bindings.
    pub fn reset(&self) {
        if let Some(stmt) = &self.stmt {
            stmt.reset();
        }
    }

    /// Finalizes the statement; `true` the first time.
    pub fn free(&mut self) -> bool {
        self.stmt.take().is_some()
    }
}

/// An owned `sqlite3_stmt`, finalized on drop.
struct RawStatement {
    raw: *mut ffi::sqlite3_stmt,
}

impl Drop for RawStatement {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, here.
        unsafe { ffi::sqlite3_finalize(self.raw) };
    }
}

impl RawStatement {
    fn step(&self) -> Result<bool, c_int> {
        // SAFETY: `raw` is a live statement.
        match unsafe { ffi::sqlite3_step(self.raw) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(rc),
        }
    }

    fn reset(&self) {
        // SAFETY: `raw` is a live statement.
        unsafe { ffi::sqlite3_reset(self.raw) };
    }

    fn column_names(&self) -> js_sys::Array {
        // SAFETY: `raw` is live; names are NUL-terminated strings owned by SQLite.
        unsafe {
            (0..ffi::sqlite3_column_count(self.raw))
                .map(|i| {
                    let name = ffi::sqlite3_column_name(self.raw, i);
                    let name = if name.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(name).to_string_lossy().into()
                    };
                    JsValue::from(name)
                })
                .collect()
        }
    }

    /// The current row: numbers, strings, `Uint8Array`s and `null`s.
    fn row(&self) -> js_sys::Array {
        // SAFETY: `raw` is live and positioned on a row; text and blob pointers are read with
        // their byte lengths before the next call on the statement.
        unsafe {
            (0..ffi::sqlite3_data_count(self.raw))
                .map(|i| match ffi::sqlite3_column_type(self.raw, i) {
                    ffi::SQLITE_INTEGER => JsValue::from_f64(ffi::sqlite3_column_int64(self.raw, i) as f64),
                    ffi::SQLITE_FLOAT => JsValue::from_f64(ffi::sqlite3_column_double(self.raw, i)),
                    ffi::SQLITE_TEXT => {
                        let text = ffi::sqlite3_column_text(self.raw, i);
                        let len = ffi::sqlite3_column_bytes(self.raw, i) as usize;
                        let bytes =
                            if text.is_null() { &[][..] } else { std::slice::from_raw_parts(text, len) };
                        JsValue::from(String::from_utf8_lossy(bytes).as_ref())
                    }
                    ffi::SQLITE_BLOB => {
                        let blob = ffi::sqlite3_column_blob(self.raw, i).cast::<u8>();
                        let len = ffi::sqlite3_column_bytes(self.raw, i) as usize;
                        let bytes =
                            if blob.is_null() { &[][..] } else { std::slice::from_raw_parts(blob, len) };
                        js_sys::Uint8Array::from(bytes).into()
                    }
                    _ => JsValue::NULL,
                })
                .collect()
        }
    }

    fn bind(&self, params: &JsValue) -> Result<(), JsError> {
        // SAFETY: `raw` is a live statement.
        if params.is_undefined()
            || params.is_null()
            || unsafe { ffi::sqlite3_bind_parameter_count(self.raw) } == 0
        {
            return Ok(());
        }
        if let Some(list) = params.dyn_ref::<js_sys::Array>() {
            for (i, value) in list.iter().enumerate() {
                self.bind_value(i as c_int + 1, &value)?;
            }
            return Ok(());
        }
        let Some(object) = params.dyn_ref::<js_sys::Object>() else {
            return Err(JsError::new("params must be an array or an object"));
        };
        for entry in js_sys::Object::entries(object).iter() {
            let entry = js_sys::Array::from(&entry);
            let key = entry.get(0).as_string().unwrap_or_default();
            let index = self.parameter_index(&key);
            if index == 0 {
                return Err(JsError::new(&format!("the statement has no parameter named {key}")));
            }
            self.bind_value(index, &entry.get(1))?;
        }
        Ok(())
    }

    /// The index of a named parameter; bare names match `:name`, `$name` or `@name`.
    fn parameter_index(&self, key: &str) -> c_int {
        let lookup = |name: &str| {
            CString::new(name).map_or(0, |name| {
                // SAFETY: `raw` is live and `name` NUL-terminated.
                unsafe { ffi::sqlite3_bind_parameter_index(self.raw, name.as_ptr()) }
            })
        };
        if key.starts_with([':', '$', '@']) {
            return lookup(key);
        }
        [":", "$", "@"].iter().map(|prefix| lookup(&format!("{prefix}{key}"))).find(|i| *i != 0).unwrap_or(0)
    }

    fn bind_value(&self, index: c_int, value: &JsValue) -> Result<(), JsError> {
        // SAFETY: `raw` is live; text and blobs are copied by SQLite (SQLITE_TRANSIENT).
        let rc = unsafe {
            if value.is_null() || value.is_undefined() {
                ffi::sqlite3_bind_null(self.raw, index)
            } else if let Some(n) = value.as_f64() {
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    ffi::sqlite3_bind_int64(self.raw, index, n as i64)
                } else {
                    ffi::sqlite3_bind_double(self.raw, index, n)
                }
            } else if let Some(b) = value.as_bool() {
                ffi::sqlite3_bind_int64(self.raw, index, i64::from(b))
            } else if let Some(text) = value.as_string() {
                ffi::sqlite3_bind_text(
                    self.raw,
                    index,
                    text.as_ptr().cast(),
                    text.len() as c_int,
                    ffi::SQLITE_TRANSIENT(),
                )
            } else if value.is_instance_of::<js_sys::Uint8Array>() {
                let bytes = js_sys::Uint8Array::from(value.clone()).to_vec();
                ffi::sqlite3_bind_blob(
                    self.raw,
                    index,
                    bytes.as_ptr().cast(),
                    bytes.len() as c_int,
                    ffi::SQLITE_TRANSIENT(),
                )
            } else {
                return Err(JsError::new(&format!(
                    "cannot bind parameter {index}: use numbers, strings, booleans, null or Uint8Array"
                )));
            }
        };
        match rc {
            ffi::SQLITE_OK => Ok(()),
            ffi::SQLITE_RANGE => Err(JsError::new(&format!("the statement has no parameter {index}"))),
            _ => Err(JsError::new(&format!("binding parameter {index} failed (SQLite error {rc})"))),
        }
    }
}

/// The error for an interrupted statement, naming the budget.
fn budget_error(code: c_int, budget_ms: f64) -> Option<JsError> {
    (code & 0xff == ffi::SQLITE_INTERRUPT).then(|| {
        JsError::new(&format!(
            "interrupted: the query ran longer than its {budget_ms} ms time budget (db.setTimeBudget(ms) changes it)"
        ))
    })
}

/// The error of a failed console call: the budget, what the authorizer refused, or SQLite's
/// own message.
fn console_error(code: c_int, budget_ms: f64, db: *mut ffi::sqlite3) -> JsError {
    if let Some(e) = budget_error(code, budget_ms) {
        return e;
    }
    match REFUSED.with(|r| r.borrow_mut().take()) {
        Some(what) if code & 0xff == ffi::SQLITE_AUTH || code & 0xff == ffi::SQLITE_ERROR => {
            JsError::new(&format!(
                "not allowed: {what} (the SQL console is readonly: it may read the file, not change it or the connection)"
            ))
        }
        _ => JsError::new(&errmsg(db)),
    }
}

fn errmsg(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is live; the message is NUL-terminated and owned by SQLite.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }.to_string_lossy().into_owned()
}

fn sql_error(e: rusqlite::Error) -> JsError {
    JsError::new(&e.to_string())
}

fn set(object: &js_sys::Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(object, &key.into(), value);
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/basic.db");

    fn message(err: JsError) -> String {
        String::from(js_sys::Error::from(JsValue::from(err)).message())
    }

    fn json(text: &str) -> JsValue {
        js_sys::JSON::parse(text).unwrap()
    }

    #[wasm_bindgen_test]
    fn exec_returns_columns_and_values_like_sql_js() {
        let db = Database::new(Some(FIXTURE.to_vec())).unwrap();
        let results = db
            .exec("SELECT 1 AS a, 'x' AS b; SELECT name FROM runs WHERE name = ?", json(r#"["stuck"]"#))
            .unwrap();
        let text = String::from(js_sys::JSON::stringify(&results).unwrap());
        assert_eq!(
            text,
            r#"[{"columns":["a","b"],"values":[[1,"x"]]},{"columns":["name"],"values":[["stuck"]]}]"#
        );
    }

    #[wasm_bindgen_test]
    fn prepared_statements_step_and_read_rows_as_objects() {
        let db = Database::new(Some(FIXTURE.to_vec())).unwrap();
        let mut stmt = db
            .prepare("SELECT name, :n * 2 AS twice FROM runs ORDER BY name LIMIT 2", json(r#"{":n": 21}"#))
            .unwrap();
        assert!(stmt.step().unwrap());
        let row = stmt.get_as_object(JsValue::UNDEFINED).unwrap();
        assert_eq!(js_sys::Reflect::get(&row, &"twice".into()).unwrap().as_f64(), Some(42.0));
        assert!(stmt.step().unwrap());
        assert!(!stmt.step().unwrap());
        assert!(stmt.free());
        assert!(message(stmt.step().unwrap_err()).contains("freed"));
    }

    #[wasm_bindgen_test]
    fn opened_files_refuse_writes_and_bad_sql_says_why() {
        let db = Database::new(Some(FIXTURE.to_vec())).unwrap();
        assert!(message(db.exec("DELETE FROM runs", JsValue::UNDEFINED).unwrap_err()).contains("readonly"));
        assert!(message(db.exec("SELEC 1", JsValue::UNDEFINED).unwrap_err()).contains("syntax error"));
        let scratch = Database::new(None).unwrap();
        scratch.run("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)", JsValue::UNDEFINED).unwrap();
        assert_eq!(scratch.get_rows_modified(), 2.0);
    }

    #[wasm_bindgen_test]
    fn console_queries_cannot_change_the_connection_a_store_queries() {
        let store = crate::RunStore::open(FIXTURE).unwrap();
        let console = store.sql().unwrap();
        for sql in [
            "PRAGMA query_only = 0",
            "PRAGMA main.query_only(0)",
            // A table-valued pragma compiles its PRAGMA while the statement runs.
            "SELECT * FROM pragma_optimize(-1)",
            "CREATE TEMP VIEW runs AS SELECT 1",
            "CREATE TEMP TABLE runs (id)",
            "ATTACH ':memory:' AS other",
            "BEGIN",
            "DELETE FROM runs",
        ] {
            let err = message(console.exec(sql, JsValue::UNDEFINED).unwrap_err());
            assert!(err.contains("not allowed") && err.contains("readonly"), "{sql}: {err}");
        }
        // Reading stays possible, pragmas that describe the schema included.
        let info = console.exec("PRAGMA table_info(runs); PRAGMA query_only", JsValue::UNDEFINED).unwrap();
        assert!(String::from(js_sys::JSON::stringify(&info).unwrap()).contains("[[1]]"));
        console.exec("SELECT count(*) FROM pragma_table_info('runs')", JsValue::UNDEFINED).unwrap();
        // The store's own queries still see the file's five runs.
        assert_eq!(js_sys::Array::from(&store.runs(None, None, None).unwrap()).length(), 5);
    }

    #[wasm_bindgen_test]
    fn row_objects_keep_columns_named_like_object_internals() {
        let db = Database::new(Some(FIXTURE.to_vec())).unwrap();
        // A blob is an object: assigned to `__proto__`, it would become the row's prototype.
        let stmt = db.prepare("SELECT x'00' AS __proto__, 1 AS constructor", JsValue::UNDEFINED).unwrap();
        assert!(stmt.step().unwrap());
        let row = stmt.get_as_object(JsValue::UNDEFINED).unwrap();
        let keys = js_sys::Object::keys(&row);
        assert_eq!(keys.length(), 2);
        assert_eq!(
            js_sys::Object::get_prototype_of(&row),
            js_sys::Object::get_prototype_of(&js_sys::Object::new())
        );
    }

    #[wasm_bindgen_test]
    fn a_runaway_query_is_interrupted_after_its_budget() {
        let mut db = Database::new(Some(FIXTURE.to_vec())).unwrap();
        db.set_time_budget(50.0);
        let forever =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
        let started = js_sys::Date::now();
        let err = message(db.exec(forever, JsValue::UNDEFINED).unwrap_err());
        assert!(err.contains("interrupted") && err.contains("50 ms"), "{err}");
        assert!(js_sys::Date::now() - started < 5000.0);
        // The console is usable again afterwards.
        assert_eq!(db.exec("SELECT 1", JsValue::UNDEFINED).unwrap().length(), 1);
    }

    #[wasm_bindgen_test]
    fn a_lazily_read_file_answers_and_counts_its_fetches() {
        let bytes = js_sys::Uint8Array::from(FIXTURE);
        let read = js_sys::Function::new_with_args(
            "offset, length",
            "return this.subarray(offset, offset + length)",
        );
        let read = read.bind0(&bytes);
        // Read as a network file (small blocks) and as a local one (larger).
        for local in [None, Some(true)] {
            let store = crate::RunStore::open_source(FIXTURE.len() as f64, read.clone(), local).unwrap();
            let runs = js_sys::Array::from(&store.runs(None, None, None).unwrap());
            assert_eq!(runs.length(), 5);
            let stats = store.source_stats().unwrap();
            assert!(js_sys::Reflect::get(&stats, &"bytes_fetched".into()).unwrap().as_f64().unwrap() > 0.0);
            let console = store.sql().unwrap();
            let count = console.exec("SELECT count(*) FROM runs", JsValue::UNDEFINED).unwrap();
            assert!(String::from(js_sys::JSON::stringify(&count).unwrap()).contains("[[5]]"));
            assert_eq!(console.export().unwrap().len(), FIXTURE.len());
        }
    }

    #[wasm_bindgen_test]
    fn a_run_table_carries_runs_as_json_and_summaries_as_typed_arrays() {
        let store = crate::RunStore::open(FIXTURE).unwrap();
        let get = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &k.into()).unwrap();
        let table = store.run_table(None, None, None, Some(2.0)).unwrap();
        let runs = js_sys::JSON::parse(&get(&table, "runsJson").as_string().unwrap()).unwrap();
        assert_eq!(js_sys::Array::from(&runs).length(), 5);
        assert_eq!(get(&table, "summarised").as_f64(), Some(2.0));
        let columns = js_sys::Array::from(&get(&table, "metrics"));
        assert!(columns.length() >= 2);
        let last = js_sys::Float64Array::from(get(&columns.get(0), "last"));
        assert_eq!(last.length(), 2, "the first two runs' summaries");
        let first = js_sys::Array::from(&runs).get(0);
        let ids = vec![get(&first, "id").as_string().unwrap()];
        let one = js_sys::Array::from(&store.metric_columns(ids).unwrap());
        assert_eq!(one.length(), columns.length());
        let seen = js_sys::Float64Array::from(get(&one.get(0), "seriesId")).get_index(0);
        assert_eq!(seen, js_sys::Float64Array::from(get(&columns.get(0), "seriesId")).get_index(0));
    }
}
