//! The subcommands behind `main`: serve, migrate, seed, create-admin and healthcheck
//! (`openapi` needs no configuration and lives in `main`).

use crate::{config::Config, startup::pg_pool, Application, MIGRATOR};
use anyhow::Context;
use domain::{media::MediaStore, seed};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Applies migrations, retrying for a while so a starting database is not fatal.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let pool = pg_pool(config)?;
    let mut attempt = 0u32;
    loop {
        match MIGRATOR.run(&pool).await {
            Ok(()) => break,
            Err(sqlx::migrate::MigrateError::Execute(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_),
            )) if attempt < 10 => {
                attempt += 1;
                tracing::warn!(attempt, "database not reachable yet; retrying migrations");
                tokio::time::sleep(Duration::from_secs(u64::from(attempt).min(5))).await;
            }
            Err(err) => return Err(err).context("running migrations"),
        }
    }
    tracing::info!("migrations are up to date");
    Ok(())
}

/// Migrates, then serves until SIGTERM/SIGINT.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    migrate(&config).await?;
    let app = Application::build(config.clone()).await?;
    tracing::info!(addr = %config.addr, port = app.port(), env = ?config.env, "serving Bazaar");
    app.run_until_stopped().await.context("serving")?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Migrates, then loads the demo catalog with a progress bar.
pub async fn seed(config: &Config, products_per_category: usize) -> anyhow::Result<()> {
    migrate(config).await?;
    let pool = pg_pool(config)?;
    let media = MediaStore::from_url(&config.media_store).map_err(anyhow::Error::msg)?;
    let opts = seed::SeedOptions {
        products_per_category,
        ..Default::default()
    };
    let tty = std::io::stderr().is_terminal();
    let mut last_decile = usize::MAX;
    let started = std::time::Instant::now();
    let report = seed::run(&pool, &media, &opts, |done, total| {
        let mut err = std::io::stderr();
        if tty {
            let filled = done * 30 / total.max(1);
            let secs = started.elapsed().as_secs_f64();
            let _ = write!(
                err,
                "\rseeding [{}{}] {done}/{total} products, {secs:.0} s, {:.0}/s",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                done as f64 / secs.max(0.001)
            );
            let _ = err.flush();
        } else if done * 10 / total.max(1) != last_decile {
            last_decile = done * 10 / total.max(1);
            let _ = writeln!(err, "seeding: {done}/{total} products");
        }
    })
    .await
    .context("seeding the catalog")?;
    if tty {
        eprintln!();
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        categories = report.categories,
        products = report.products,
        variants = report.variants,
        media = %media.location(),
        "demo catalog ready"
    );
    Ok(())
}

/// Creates (or promotes) an admin, reading the password from the first line of stdin.
pub async fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']);
    let email = types::Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = types::PersonName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let password =
        types::Password::parse(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    migrate(config).await?;
    let accounts = domain::Accounts::new(
        pg_pool(config)?,
        domain::accounts::TokenKeys::new(config.jwt_secret.expose(), config.jwt_ttl),
    );
    let user = accounts
        .create_admin(&email, &password, &name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(email = %user.email, id = %user.id, "admin ready");
    Ok(())
}

/// GETs `url` over plain HTTP/1.1 and succeeds on a 200, within five seconds.
pub async fn healthcheck(url: &str) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("only http:// URLs are checked"))?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(authority).await?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        anyhow::ensure!(
            head.starts_with(b"HTTP/1.1 200"),
            "answered {}",
            String::from_utf8_lossy(&head)
        );
        Ok(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), check)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 5 s"))?
}
