//! The one narrow interface every query of the hub goes through, so that each operation is
//! written once for both engines (issue 18): SQLite, the embedded default, and PostgreSQL, for
//! a city or a province.
//!
//! - SQL is written once, portable: `?1`, `?2` … for parameters (PostgreSQL's `$1` is made from
//!   them), `ON CONFLICT … DO UPDATE` for upserts, `RETURNING` for generated numbers, texts for
//!   times (RFC 3339, fixed width: comparing the texts compares the instants) and for JSON
//!   (parsed in Rust, not by engine-specific JSON functions), 64-bit integers only.
//! - [`Value`] is what a parameter can be; [`Row`] is a result row read by position, with
//!   typed getters that fail with the column's position rather than panic.
//! - [`Db`] is a transaction; the store hands one to each piece of work. SQLite's is
//!   [`Sqlite`]; PostgreSQL's is in `super::postgres`.

use super::HubStoreError;

/// A parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Value<'a> {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Value<'a> {
        Value::Text(v)
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Value<'a> {
        v.map_or(Value::Null, Value::Text)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Value<'a> {
        v.as_deref().map_or(Value::Null, Value::Text)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

impl From<Option<u32>> for Value<'_> {
    fn from(v: Option<u32>) -> Self {
        v.map_or(Value::Null, |v| Value::Int(i64::from(v)))
    }
}

/// The parameters of a statement: `args![a, b, c]`, each anything [`Value`] is made from.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($v)),*][..]
    };
}
pub(crate) use args;

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    /// A value of a type the hub never stores (a blob): reading it fails.
    Other,
}

/// A result row, read by position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, HubStoreError> {
        self.0
            .get(i)
            .ok_or_else(|| HubStoreError::BadRow(format!("no column {i} in the row")))
    }

    fn wrong(i: usize, wanted: &str, cell: &Cell) -> HubStoreError {
        HubStoreError::BadRow(format!("column {i}: {wanted} expected, found {cell:?}"))
    }

    /// A text that must be there.
    pub(crate) fn text(&self, i: usize) -> Result<String, HubStoreError> {
        self.opt_text(i)?
            .ok_or_else(|| Row::wrong(i, "a text", &Cell::Null))
    }

    /// A text or NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, HubStoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(t) => Ok(Some(t.clone())),
            other => Err(Row::wrong(i, "a text", other)),
        }
    }

    /// An integer that must be there.
    pub(crate) fn int(&self, i: usize) -> Result<i64, HubStoreError> {
        self.opt_int(i)?
            .ok_or_else(|| Row::wrong(i, "an integer", &Cell::Null))
    }

    /// An integer or NULL.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, HubStoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            other => Err(Row::wrong(i, "an integer", other)),
        }
    }

    /// A truth value: a boolean (PostgreSQL) or an integer (SQLite has no booleans).
    pub(crate) fn flag(&self, i: usize) -> Result<bool, HubStoreError> {
        match self.cell(i)? {
            Cell::Bool(b) => Ok(*b),
            Cell::Int(v) => Ok(*v != 0),
            other => Err(Row::wrong(i, "a truth value", other)),
        }
    }
}

/// A transaction on either engine. Every operation of the store takes one.
pub(crate) trait Db {
    /// Runs a statement; returns how many rows it changed.
    fn exec(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, HubStoreError>;

    /// Runs a query; returns all its rows.
    fn rows(&mut self, sql: &str, args: &[Value<'_>]) -> Result<Vec<Row>, HubStoreError>;

    /// The first row, if any.
    fn row(&mut self, sql: &str, args: &[Value<'_>]) -> Result<Option<Row>, HubStoreError> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }

    /// A number from 0 to 63 that no other write of this process running at the same moment
    /// holds, and that changes when a write is tried again: the shard a rollup adds to, so
    /// that a burst of writers adds to different rows. 0 on SQLite, which writes one at a time.
    fn lane(&self) -> i64 {
        0
    }

    /// The one row a query always has (a count, an `EXISTS`).
    fn one(&mut self, sql: &str, args: &[Value<'_>]) -> Result<Row, HubStoreError> {
        self.row(sql, args)?
            .ok_or_else(|| HubStoreError::BadRow("a query that always answers gave no row".into()))
    }
}

/// SQLite, through rusqlite: statements are prepared once per connection (the tracking page
/// asks the same few on every view).
pub(crate) struct Sqlite<'c>(pub(crate) &'c rusqlite::Connection);

impl Sqlite<'_> {
    fn bind<'a>(args: &'a [Value<'a>]) -> Vec<rusqlite::types::ToSqlOutput<'a>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        args.iter()
            .map(|a| match a {
                Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
                Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
                Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            })
            .collect()
    }
}

impl Db for Sqlite<'_> {
    fn exec(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, HubStoreError> {
        let bound = Sqlite::bind(args);
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(bound.iter()))? as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Value<'_>]) -> Result<Vec<Row>, HubStoreError> {
        use rusqlite::types::ValueRef;
        let bound = Sqlite::bind(args);
        let mut stmt = self.0.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bound.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    // Invalid UTF-8 (a hand edit) reads as a value of no known type.
                    ValueRef::Text(t) => {
                        std::str::from_utf8(t).map_or(Cell::Other, |t| Cell::Text(t.to_owned()))
                    }
                    ValueRef::Blob(_) => Cell::Other,
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_in_and_rows_come_back_by_position_with_their_types() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut db = Sqlite(&conn);
        db.exec("CREATE TABLE t (a TEXT, b INTEGER, c TEXT) STRICT", args![])
            .unwrap();
        let none: Option<&str> = None;
        let changed = db
            .exec(
                "INSERT INTO t VALUES (?1, ?2, ?3)",
                args!["甲", 7_i64, none],
            )
            .unwrap();
        assert_eq!(changed, 1);
        let row = db
            .one(
                "SELECT a, b, c, EXISTS (SELECT 1 FROM t) FROM t WHERE b = ?1",
                args![7_i64],
            )
            .unwrap();
        assert_eq!(row.text(0).unwrap(), "甲");
        assert_eq!(row.int(1).unwrap(), 7);
        assert_eq!(row.opt_text(2).unwrap(), None);
        assert!(row.flag(3).unwrap());
        assert!(row.text(2).is_err(), "a NULL is no text");
        assert!(row.int(0).is_err(), "a text is no integer");
        assert!(row.text(9).is_err(), "no such column");
        assert_eq!(
            db.row("SELECT a FROM t WHERE b = 8", args![]).unwrap(),
            None
        );
    }
}
