//! Argon2id password hashing on a fixed pool of hasher threads.

use argon2::{
    password_hash::{self, rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString},
    Argon2, Block, Params, Version,
};
use std::cell::RefCell;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use types::{AppError, Password};

/// A job for a hasher thread.
type HashJob = Box<dyn FnOnce() + Send>;

/// Argon2 runs on a fixed pool of threads, one per CPU, never on the blocking pool. Each
/// hash takes 19 MiB and a core for about a tenth of a second: on the blocking pool (512
/// threads) a burst of logins or resets would run them all at once, and every thread's
/// allocator arena would keep its 19 MiB afterwards. Here at most one hash per CPU runs,
/// and at most that many arenas hold the memory.
struct Hashers {
    jobs: std::sync::mpsc::Sender<HashJob>,
    /// One per thread: a caller holds one from before its job is queued until it is done.
    permits: Arc<Semaphore>,
    size: usize,
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let size = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for n in 0..size {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || loop {
                // The lock is held only while taking a job, not while running it.
                let job = match queue.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a password hasher thread");
        }
    }
    Hashers {
        jobs,
        permits: Arc::new(Semaphore::new(size)),
        size,
    }
});

/// How long a caller waits for a free hasher before it is told to come back (503).
const HASHER_WAIT: Duration = Duration::from_secs(5);

/// Argon2 computations started since the process began (hashes and verifications).
static HASHES_STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many Argon2 computations this process has started: tests use it to show that a
/// request was turned away before it cost a hash.
pub fn hashes_started() -> u64 {
    HASHES_STARTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The hashes running or queued right now, never more than the hasher threads.
pub fn hashes_in_flight() -> usize {
    HASHERS
        .size
        .saturating_sub(HASHERS.permits.available_permits())
}

/// Runs one Argon2 computation on a hasher thread once one is free (503 after waiting
/// [`HASHER_WAIT`]). The permit travels with the job, so a caller that gives up does not
/// free its place before the hash is done.
async fn with_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = tokio::time::timeout(HASHER_WAIT, HASHERS.permits.clone().acquire_owned())
        .await
        .map_err(|_| {
            AppError::Unavailable(
                "Too many sign-ins at once. Please try again in a moment.".to_owned(),
            )
        })?
        .map_err(|e| AppError::internal("hasher semaphore", e))?;
    HASHES_STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (done, result) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _permit = permit;
        let _ = done.send(work());
    });
    HASHERS
        .jobs
        .send(job)
        .map_err(|e| AppError::internal("hasher pool", e))?;
    result.await.map_err(|e| AppError::internal("hash task", e))
}

/// Argon2id with the crate's defaults, which are OWASP's first recommendation: 19 MiB of
/// memory (m = 19456 KiB), two passes (t = 2), one lane (p = 1).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

thread_local! {
    /// Each hasher thread's Argon2 memory, allocated once and reused: allocating 19 MiB
    /// per hash leaves the allocator holding far more than the hashes in flight.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One Argon2 computation with `argon`, into the thread's reused memory.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    len: usize,
) -> Result<Output, password_hash::Error> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    let count = argon.params().block_count();
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        let memory = blocks.get_mut(..count).unwrap_or_default();
        Output::init_with(len, |out| {
            Ok(argon.hash_password_into_with_memory(password, salt, out, &mut *memory)?)
        })
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password` with a fresh salt.
fn hash_phc(password: &[u8]) -> Result<String, password_hash::Error> {
    let argon = argon2();
    let params = argon.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon, password, salt.as_salt(), len)?;
    Ok(PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Whether `password` matches a stored PHC string, with the parameters stored in it.
fn verify_phc(password: &[u8], stored: &str) -> Result<bool, password_hash::Error> {
    let hash = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let algorithm = argon2::Algorithm::try_from(hash.algorithm)?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let argon = Argon2::new(algorithm, version, Params::try_from(&hash)?);
    // `Output` compares in constant time.
    Ok(compute(&argon, password, salt, expected.len())? == expected)
}

/// Hashes with argon2id on a hasher thread: it is slow on purpose.
pub async fn hash_password(password: &Password) -> Result<String, AppError> {
    let password = password.expose().to_owned();
    with_hasher(move || hash_phc(password.as_bytes()))
        .await?
        .map_err(|e| AppError::internal("argon2 hash", e))
}

pub(super) async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    with_hasher(move || verify_phc(password.as_bytes(), &hash))
        .await?
        .map_err(|e| AppError::internal("stored hash", e))
}

/// A real argon2 hash to verify against when the email is unknown, so both failures cost
/// the same time and timing does not reveal which accounts exist.
pub(super) async fn dummy_hash() -> Result<&'static str, AppError> {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_try_init(|| async {
        let password = Password::parse("not-a-real-password")
            .map_err(|e| AppError::internal("dummy password", e))?;
        hash_password(&password).await
    })
    .await
    .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's peak resident memory so far, in KiB (`VmHWM`).
    fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let password = Password::parse("correct horse battery").expect("password");
        let ours = hash_password(&password).await.expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(
            verify_password("correct horse battery".into(), theirs.clone())
                .await
                .expect("verify")
        );
        assert!(!verify_password("wrong horse battery".into(), theirs)
            .await
            .expect("verify"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn forty_concurrent_hashes_run_one_per_cpu_and_memory_stays_bounded() {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let password = Password::parse("correct horse battery").expect("password");
        // One hash first, so what the allocator keeps after it is in the baseline.
        hash_password(&password).await.expect("hash");
        let before = peak_rss_kib();
        let sampler = tokio::spawn(async {
            let mut most = 0;
            for _ in 0..400 {
                most = most.max(hashes_in_flight());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            most
        });
        let hashes: Vec<_> = (0..40)
            .map(|_| {
                let password = password.clone();
                tokio::spawn(async move { hash_password(&password).await })
            })
            .collect();
        for h in hashes {
            assert!(
                h.await.expect("join").is_ok(),
                "every caller is served in turn"
            );
        }
        let most = sampler.await.expect("sampler");
        let grew_mib = peak_rss_kib().saturating_sub(before) / 1024;
        assert!(most <= cpus, "{most} hashes at once on {cpus} CPUs");
        // 19 MiB per running hash; forty at once would be 760 MiB.
        let bound = 19 * cpus as u64 + 48;
        assert!(
            grew_mib <= bound,
            "peak memory grew {grew_mib} MiB (bound {bound})"
        );
    }
}
