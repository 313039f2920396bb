//! `ferret serve`: the store over HTTP for a team's shared box — the index (made afresh for each
//! request), every run's report and every suite's page, as the files are.

use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;
use tower_http::services::ServeDir;

/// Serve the store over HTTP: its index (every run and suite, sortable and filterable), each
/// run's report.html and files, each suite's suite.html.
///
/// Listens on localhost unless --bind says otherwise; read-only (nothing in the store changes).
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  ferret serve --store store --port 8080\n\n\
Exit codes: 0 stopped by Ctrl-C or SIGTERM, 3 could not serve (no such store, port taken).")]
pub struct ServeArgs {
    /// Store folder.
    #[arg(long, value_name = "DIR", default_value = "store")]
    store: PathBuf,
    /// Port to listen on (0: any free one, printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. Anything but a loopback address shows the store to whoever can
    /// reach this machine.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
}

async fn index(State(store): State<PathBuf>) -> Response {
    let page = tokio::task::spawn_blocking(move || super::index::render(&store)).await;
    match page {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn stopped() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

pub fn run(args: ServeArgs) -> Result<u8> {
    if !args.store.is_dir() {
        bail!(
            "{}: no such store folder (ferret run and ferret suite make it; --store names another)",
            args.store.display()
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.bind, args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/", get(index))
            .route("/index.html", get(index))
            .fallback_service(ServeDir::new(&args.store))
            .with_state(args.store.clone());
        if !args.bind.is_loopback() {
            println!(
                "warning: listening on {}: anyone who can reach it can read the store",
                args.bind
            );
        }
        println!(
            "serving {} at http://{addr}/ (Ctrl-C stops)",
            args.store.display()
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped())
            .await
            .context("the server failed")?;
        println!("stopped");
        Ok(crate::exit::VALID)
    })
}
