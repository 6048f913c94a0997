//! A `tower-sessions` store on Redis, written against the one `redis` client we ship
//! (the published Redis stores pull in a second client).

use async_trait::async_trait;
use domain::redis::Redis;
use redis::AsyncCommands;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// Sessions as JSON under `{prefix}session:{id}`, expiring with the session.
#[derive(Clone)]
pub struct RedisSessionStore {
    redis: Redis,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.redis.prefix)
            .finish()
    }
}

impl RedisSessionStore {
    /// A store on `redis`.
    pub fn new(redis: Redis) -> Self {
        RedisSessionStore { redis }
    }

    /// A failed command, counted by the client's breaker.
    fn backend(&self, err: redis::RedisError) -> Error {
        Error::Backend(self.redis.failed(err).to_string())
    }

    fn key(&self, id: &Id) -> String {
        self.redis.key(&format!("session:{id}"))
    }

    async fn write(&self, record: &Record, only_if_new: bool) -> Result<bool> {
        let ttl = (record.expiry_date - OffsetDateTime::now_utc()).whole_seconds();
        if ttl <= 0 {
            // Already expired: make sure nothing is left behind.
            self.delete(&record.id).await?;
            return Ok(true);
        }
        let body = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let mut conn = self
            .redis
            .conn()
            .await
            .map_err(|e| Error::Backend(e.to_string()))?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(&record.id)).arg(body).arg("EX").arg(ttl);
        if only_if_new {
            cmd.arg("NX");
        }
        let reply: Option<String> = cmd
            .query_async(&mut conn)
            .await
            .map_err(|e| self.backend(e))?;
        Ok(reply.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // SET NX: on the (astronomically unlikely) id collision, pick another id.
        for _ in 0..8 {
            if self.write(record, true).await? {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(Error::Backend(
            "could not allocate a unique session id".to_owned(),
        ))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let mut conn = self
            .redis
            .conn()
            .await
            .map_err(|e| Error::Backend(e.to_string()))?;
        let body: Option<String> = conn.get(self.key(id)).await.map_err(|e| self.backend(e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let mut conn = self
            .redis
            .conn()
            .await
            .map_err(|e| Error::Backend(e.to_string()))?;
        let _: i64 = conn.del(self.key(id)).await.map_err(|e| self.backend(e))?;
        Ok(())
    }
}
