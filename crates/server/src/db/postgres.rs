//! PostgreSQL backend: the synchronous `postgres` client with an r2d2 pool.
//!
//! For deployments that outgrow one machine: several stateless server processes share one
//! PostgreSQL, and the unique key on (device, sequence) keeps ingest exactly-once across them.

use super::{Backend, DbError, Dialect, Row, Sql, Value};
use ::postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use ::postgres::{GenericClient, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use std::error::Error as StdError;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

pub struct PostgresBackend {
    /// Always `Some` until dropped (see the `Drop` impl).
    pool: Option<Pool>,
    described: String,
}

/// The `postgres` client runs its own small runtime, and closing a connection blocks on it,
/// which tokio forbids on an async worker thread (the server drops its storage there when it
/// stops). The pool is therefore always dropped on a plain thread of its own.
impl Drop for PostgresBackend {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl PostgresBackend {
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let config: ::postgres::Config = url.parse()?;
        let manager = PostgresConnectionManager::new(config.clone(), NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| format!("{h:?}"))
            .unwrap_or_default();
        let described = format!(
            "postgres://{}@{host}:{}/{}",
            config.get_user().unwrap_or(""),
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_dbname().unwrap_or("")
        );
        Ok(Self {
            pool: Some(pool),
            described,
        })
    }
}

impl PostgresBackend {
    fn pool(&self) -> Result<&Pool, DbError> {
        self.pool.as_ref().ok_or(DbError::Poisoned)
    }
}

/// Binds our dynamic values to whatever column type PostgreSQL inferred for the parameter.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_row(row: &::postgres::Row) -> Result<Row, DbError> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into()))
        } else {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A connection or a transaction: `GenericClient` covers both, so one wrapper serves both.
struct On<'a, C: GenericClient>(&'a mut C);

impl<C: GenericClient> Sql for On<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        Ok(self.0.execute(sql, &refs(params))?)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.0
            .query(sql, &refs(params))?
            .iter()
            .map(read_row)
            .collect()
    }
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.batch_execute(sql)?)
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut client = self.pool()?.get()?;
        let mut tx = client.transaction()?;
        f(&mut On(&mut tx))?;
        tx.commit()?;
        Ok(())
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>) -> Result<(), DbError> {
        let mut client = self.pool()?.get()?;
        f(&mut On(&mut *client))
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}
