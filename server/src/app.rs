//! The app root: builds the engine (which opens the metadata store and the
//! pack store), the workers' runner and both listeners, and owns shutdown.
//! Nothing else in the daemon starts a long-lived task.
//!
//! Start-up order matters to users and harnesses (docs/configuration.md):
//! both listeners are bound before the repository is opened (a busy port must
//! not leave a freshly created repository behind), and the admin line is
//! printed before the S3 line (harnesses stop reading at the S3 one). The
//! lines' wording lives in [`crate::startup_lines`], beside their reader.
//!
//! Shutdown: both listeners stop accepting and drain their in-flight
//! requests (bounded), then the workers stop at a safe point (in-flight PUTs
//! needed the shared-pack writer until then), then the engine is dropped so
//! the database closes cleanly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin::{self, AdminState, token};
use crate::backend::{LocalStore, RetryPolicy, RetryStore, Store, StoreError};
use crate::config::{self, Config, ConfigError, TlsFiles};
use crate::engine::{Engine, EngineError, EngineTuning};
use crate::file_modes::{self, FileModeError};
use crate::http::{HttpListener, ListenerError, Timeouts, TlsPaths, access_logged};
use crate::s3::build_service;
use crate::startup_lines;
use crate::workers::runner::RunnerError;
use crate::workers::{Runner, Workers};

/// What the app needs beyond [`Config`]: knobs that are not user settings,
/// so tests can choose them.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Both listeners' TLS-handshake and drain timeouts; the header-read
    /// timeout of each listener comes from its config section.
    pub timeouts: Timeouts,
    /// How long shutdown waits for workers to reach a safe point.
    pub worker_stop: Duration,
    /// Engine knobs (tests turn them; production uses the defaults).
    pub tuning: EngineTuning,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            timeouts: Timeouts::default(),
            worker_stop: Duration::from_secs(30),
            tuning: EngineTuning::default(),
        }
    }
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error(transparent)]
    S3Listener(ListenerError),
    #[error("binding the admin API to {addr}")]
    AdminListener { addr: String, source: ListenerError },
    #[error("opening the repository in {dir}", dir = .dir.display())]
    Open {
        dir: std::path::PathBuf,
        source: EngineError,
    },
    #[error("[storage] stores")]
    Stores(#[from] ConfigError),
    /// A failover list of stores is the storage-topology work, not built yet.
    #[error(
        "[storage] stores: this build keeps the repository in one store; a list of {0} \
         (a failover set) is not supported yet"
    )]
    StoreList(usize),
    #[error("opening store {name}")]
    Store { name: String, source: StoreError },
    #[error("admin token")]
    Token(#[from] token::TokenError),
    #[error("writing to stdout")]
    Announce(#[from] std::io::Error),
    #[error("starting the workers")]
    Workers(#[from] RunnerError),
    #[error(transparent)]
    FileModes(#[from] FileModeError),
}

/// One listener being served, and how to stop it.
#[derive(Debug)]
struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Serving {
    fn spawn<F>(serve: impl FnOnce(oneshot::Receiver<()>) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(stopped));
        Serving { stop, task }
    }

    /// Stops accepting and waits until the drain is over.
    async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "listener task failed");
        }
    }
}

/// The running daemon.
#[derive(Debug)]
pub struct App {
    engine: Arc<Engine>,
    runner: Runner,
    s3: Serving,
    admin: Serving,
    s3_url: String,
    admin_url: String,
    worker_stop: Duration,
}

impl App {
    /// Binds, opens the repository (creating it on first start), starts the
    /// workers and both listeners. `announce` gets the start-up lines, in
    /// order (cofferd prints them on stdout).
    pub async fn start(
        config: &Config,
        settings: AppSettings,
        announce: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<App, AppError> {
        let tls = |files: Option<TlsFiles<'_>>| {
            files.map(|f| TlsPaths {
                cert: f.cert.to_path_buf(),
                key: f.key.to_path_buf(),
            })
        };
        let s3_timeouts = Timeouts {
            header_read: config.s3_header_read_timeout(),
            send: config.s3_send_timeout(),
            ..settings.timeouts
        };
        let s3_listener = HttpListener::bind(
            config.s3_listen(),
            tls(config.s3_tls()).as_ref(),
            s3_timeouts,
        )
        .await
        .map_err(AppError::S3Listener)?;
        let (max_connections, lowered_by) =
            crate::http::fit_to_descriptor_limit(config.s3_max_connections());
        if let Some(limit) = lowered_by {
            tracing::warn!(
                wanted = config.s3_max_connections(),
                serving = max_connections,
                open_file_limit = limit,
                "[s3] max_connections lowered to fit the open-file limit"
            );
        }
        let s3_listener = s3_listener.with_max_connections(max_connections);
        let admin_addr = config.admin_listen_addr();
        let admin_timeouts = Timeouts {
            header_read: config.admin_header_read_timeout(),
            ..settings.timeouts
        };
        let admin_listener = HttpListener::bind(
            &admin_addr,
            tls(config.admin_tls()).as_ref(),
            admin_timeouts,
        )
        .await
        .map_err(|source| AppError::AdminListener {
            addr: admin_addr.clone(),
            source,
        })?;
        // After the store list is validated (a refused start creates nothing),
        // before the engine opens anything in the data directory.
        let store = open_store(config)?;
        tighten_modes(config)?;
        let tuning = EngineTuning {
            read_buffer_bytes: config.engine_read_buffer_bytes(),
            ..settings.tuning.clone()
        };
        let opened = Engine::open_parts(config.engine_options(), Some(store), tuning)
            .await
            .map_err(|source| AppError::Open {
                dir: config.data_dir().to_path_buf(),
                source,
            })?;
        if let Some(init) = &opened.init {
            announce(&startup_lines::first_start(
                &init.data_dir,
                &init.master_key_file,
                &init.root_access_key,
                init.root_secret_generated
                    .then_some(init.root_secret_key.as_str()),
            ))?;
        }
        let admin_token = token::load_or_create(config.data_dir(), config.admin_token())?;
        if let Some(path) = &admin_token.created {
            announce(&startup_lines::admin_token_file(path))?;
        }
        let engine = Arc::new(opened.engine);
        let mut runner = Runner::new(engine.clock());
        for spec in opened.workers {
            runner.start(spec)?;
        }
        let (service, s3_requests) = build_service(Arc::clone(&engine), &config.s3_options());
        let admin_state = Arc::new(AdminState {
            engine: Arc::clone(&engine),
            token: admin_token.token,
            s3_url: s3_listener.url(),
            region: config.region().to_owned(),
            started: Instant::now(),
            workers: runner.workers(),
            s3_connections: s3_listener.connections(),
            s3_requests,
        });
        let (s3_url, admin_url) = (s3_listener.url(), admin_listener.url());
        announce(&startup_lines::admin_listening(&admin_url))?;
        announce(&startup_lines::s3_listening(&s3_url))?;
        let admin = Serving::spawn(|stopped| {
            admin_listener.serve(admin::service(admin_state), async {
                let _ = stopped.await;
            })
        });
        let s3 = Serving::spawn(|stopped| {
            s3_listener.serve(access_logged(service, config.s3_body_rate()), async {
                let _ = stopped.await;
            })
        });
        tracing::info!(
            s3 = %s3_url,
            admin = %admin_url,
            data_dir = %config.data_dir().display(),
            "cofferd started"
        );
        Ok(App {
            engine,
            runner,
            s3,
            admin,
            s3_url,
            admin_url,
            worker_stop: settings.worker_stop,
        })
    }

    /// `http(s)://host:port` of the S3 listener.
    pub fn s3_url(&self) -> &str {
        &self.s3_url
    }

    /// `http(s)://host:port` of the admin listener.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The workers' status.
    pub fn workers(&self) -> Workers {
        self.runner.workers()
    }

    /// Stops accepting on both listeners and drains them, stops the workers
    /// at a safe point, then drops the engine (closing the database once
    /// the last request that still holds it ends).
    pub async fn shutdown(self) {
        tokio::join!(self.s3.stop(), self.admin.stop());
        tracing::info!("listeners drained; stopping workers");
        if !self.runner.shutdown(self.worker_stop).await {
            tracing::warn!("some workers were cancelled in a step");
        }
        let holders = Arc::strong_count(&self.engine);
        if holders > 1 {
            tracing::warn!(
                holders,
                "engine still referenced at shutdown; the database closes when they end"
            );
        }
        drop(self.engine);
        tracing::info!("cofferd stopped");
    }
}

/// Owner-only modes on the data directory and every local store, before the
/// engine reads anything in them (`file_modes.rs`); one line says what was fixed.
fn tighten_modes(config: &Config) -> Result<(), AppError> {
    let mut roots = vec![config.data_dir().to_path_buf()];
    for store in config.stores()? {
        let config::Store::Local { path, .. } = store;
        roots.push(path);
    }
    let mut fixed = Vec::new();
    for root in roots {
        let changed = file_modes::tighten(&root)?;
        if !changed.is_empty() {
            fixed.push(format!(
                "{}: {} directories, {} files",
                root.display(),
                changed.dirs,
                changed.files
            ));
        }
    }
    if !fixed.is_empty() {
        tracing::warn!(
            "file modes tightened to owner-only (directories 0700, files 0600); were readable by others: {}",
            fixed.join("; ")
        );
    }
    Ok(())
}

/// The store the repository lives in, from `[storage]`: one store for now,
/// behind the retry wrapper (a local disk rarely fails transiently, but an
/// interrupted call is retried rather than failing a client's request).
fn open_store(config: &Config) -> Result<Arc<dyn Store>, AppError> {
    let stores = config.stores()?;
    match stores.as_slice() {
        [config::Store::Local { name, path }] => {
            let store =
                LocalStore::open(name.clone(), path.clone()).map_err(|source| AppError::Store {
                    name: name.clone(),
                    source,
                })?;
            Ok(Arc::new(RetryStore::new(
                Arc::new(store),
                RetryPolicy::default(),
            )))
        }
        _ => Err(AppError::StoreList(stores.len())),
    }
}
