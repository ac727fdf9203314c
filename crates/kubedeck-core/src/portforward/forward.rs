//! One forward: a listener on 127.0.0.1 whose every connection opens the
//! pod's portforward subresource (one WebSocket per connection, as kube-rs
//! speaks it) and copies both ways, counting bytes. Before each connection
//! the pod is checked; a pod that is gone is replaced by another of the
//! same selector, or the forward says why it cannot.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{JoinHandle, JoinSet};

use super::target::{Backend, PortSpec, RemotePort, Resolver, Target, api_message};

/// What happened on a forward, for the headless command to print and the
/// console to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A local client connected (kubectl's "Handling connection for").
    Connection { local: u16 },
    /// The pod went away; connections now go to another.
    Switched { from: String, to: String },
    /// No pod to forward to: why.
    Lost { reason: String },
    /// One connection failed.
    Error { message: String },
}

/// Traffic so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes sent to the pod.
    pub sent: u64,
    /// Bytes received from the pod.
    pub received: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Connections open now.
    pub active: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    connections: AtomicU64,
    active: AtomicU64,
}

/// Where the forward stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The pod connections go to, and its port.
    pub backend: Option<Backend>,
    /// The last problem, cleared by the next good connection.
    pub problem: Option<String>,
}

struct Shared {
    counters: Counters,
    status: Mutex<Status>,
    /// Held while the backend is checked or replaced, so that a burst of
    /// connections resolves once.
    resolving: tokio::sync::Mutex<()>,
    events: Option<UnboundedSender<Event>>,
}

impl Shared {
    fn emit(&self, e: Event) {
        if let Event::Lost { reason } | Event::Error { message: reason } = &e {
            self.set(|s| s.problem = Some(reason.clone()));
        }
        if let Some(tx) = &self.events {
            let _ = tx.send(e);
        }
    }

    fn set(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A running forward; dropping it (or [`Forward::stop`]) closes the
/// listener and every connection.
pub struct Forward {
    pub target: Target,
    pub remote: RemotePort,
    pub local: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Forward {
    /// Resolves the target to a pod, binds 127.0.0.1:`spec.local` (0: any
    /// free port) and starts accepting. Fails with the reason when the
    /// target has no pod or the port cannot be bound.
    pub async fn start(
        client: Client,
        target: Target,
        spec: &PortSpec,
        events: Option<UnboundedSender<Event>>,
    ) -> Result<Forward, String> {
        let resolver = Resolver::new(client.clone(), target.clone(), spec.remote.clone()).await?;
        let backend = resolver.resolve(None).await?;
        let listener = TcpListener::bind(("127.0.0.1", spec.local))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", spec.local))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", spec.local))?;
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            status: Mutex::new(Status {
                backend: Some(backend),
                problem: None,
            }),
            resolving: tokio::sync::Mutex::new(()),
            events,
        });
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(resolver),
            client,
            shared.clone(),
        ));
        Ok(Forward {
            target,
            remote: spec.remote.clone(),
            local,
            shared,
            task,
        })
    }

    pub fn traffic(&self) -> Traffic {
        let c = &self.shared.counters;
        Traffic {
            sent: c.sent.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            active: c.active.load(Ordering::Relaxed),
        }
    }

    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// `127.0.0.1:8080 -> 80`, as kubectl prints it.
    pub fn describe(&self) -> String {
        format!("{} -> {}", self.local, self.remote)
    }

    /// Closes the listener and every connection.
    pub fn stop(&self) {
        self.task.abort();
    }

    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    resolver: Arc<Resolver>,
    client: Client,
    shared: Arc<Shared>,
) {
    // Owned here, so aborting this task drops (and aborts) every connection.
    let mut conns = JoinSet::new();
    let local = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((sock, _)) => {
                    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                    shared.emit(Event::Connection { local });
                    conns.spawn(connection(sock, resolver.clone(), client.clone(), shared.clone()));
                }
                Err(e) => shared.emit(Event::Error { message: format!("accepting a connection: {e}") }),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// The pod to use now: the current one while it serves, else a
/// replacement.
async fn backend(resolver: &Resolver, shared: &Shared, known_gone: bool) -> Option<Backend> {
    let _one = shared.resolving.lock().await;
    let current = shared.status().backend;
    if let Some(b) = &current
        && !known_gone
        && resolver.alive(b).await
    {
        return Some(b.clone());
    }
    let gone = current.as_ref().map(|b| b.pod.as_str());
    match resolver.resolve(gone).await {
        Ok(next) => {
            shared.set(|s| s.backend = Some(next.clone()));
            if let Some(old) = current.filter(|o| o.pod != next.pod) {
                shared.emit(Event::Switched {
                    from: old.pod,
                    to: next.pod.clone(),
                });
            }
            Some(next)
        }
        Err(reason) => {
            let reason = match gone {
                Some(pod) => format!("pod {pod} is gone and cannot be replaced: {reason}"),
                None => reason,
            };
            shared.set(|s| s.backend = None);
            shared.emit(Event::Lost { reason });
            None
        }
    }
}

async fn connection(sock: TcpStream, resolver: Arc<Resolver>, client: Client, shared: Arc<Shared>) {
    let counters = &shared.counters;
    counters.active.fetch_add(1, Ordering::Relaxed);
    let api: Api<Pod> = Api::namespaced(client, &resolver.target.namespace);
    let mut known_gone = false;
    // Twice at most: a pod that vanished between the check and the connect
    // is replaced once.
    let opened = loop {
        let Some(b) = backend(&resolver, &shared, known_gone).await else {
            break None;
        };
        match api.portforward(&b.pod, &[b.port]).await {
            Ok(pf) => {
                shared.set(|s| s.problem = None);
                break Some((pf, b));
            }
            Err(kube::Error::Api(s)) if s.code == 404 && !known_gone => known_gone = true,
            Err(e) => {
                shared.emit(Event::Error {
                    message: format!(
                        "an error occurred forwarding {} -> {}: {}",
                        sock.local_addr().map(|a| a.port()).unwrap_or(0),
                        b.port,
                        api_message(e)
                    ),
                });
                break None;
            }
        }
    };
    if let Some((mut pf, b)) = opened
        && let Some(stream) = pf.take_stream(b.port)
    {
        if let Some(error) = pf.take_error(b.port) {
            let shared = shared.clone();
            let local = sock.local_addr().map(|a| a.port()).unwrap_or(0);
            tokio::spawn(async move {
                if let Some(message) = error.await {
                    shared.emit(Event::Error {
                        message: format!(
                            "an error occurred forwarding {local} -> {}: {message}",
                            b.port
                        ),
                    });
                }
            });
        }
        let (lr, lw) = sock.into_split();
        let (pr, pw) = tokio::io::split(stream);
        let up = pump(lr, pw, &counters.sent);
        let down = pump(pr, lw, &counters.received);
        tokio::pin!(up, down);
        tokio::select! {
            // The pod side ended: so does the connection.
            _ = &mut down => {}
            // The client is done sending; its answer may still come.
            _ = &mut up => { let _ = down.await; }
        }
    }
    counters.active.fetch_sub(1, Ordering::Relaxed);
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    count: &AtomicU64,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}
